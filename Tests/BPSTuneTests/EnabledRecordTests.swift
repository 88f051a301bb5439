import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct EnabledRecordTests {
  let dir = TemporaryDirectory("bpstune-etc")

  @Test func roundTripsThroughItsReadableFile() throws {
    let record = EnabledRecord(
      profile: "/srv/profiles/a \"quoted\" \\ name.profile", interface: "ens1f0",
      variables: ["busy": "50", "cpus": "2-3"], skipUnsupported: true, metricsDirectory: "/var/lib/x",
      reapplyOnDrift: true, enabled: "2026-11-22T07:00:00Z")
    let path = dir.path + "/etc/bpstune/enabled.toml"
    try record.save(path)
    #expect(try EnabledRecord.load(path) == record)
    let text = try #require(dir.read("etc/bpstune/enabled.toml"))
    #expect(text.contains("interface = \"ens1f0\"\nskip-unsupported = true"))
    #expect(text.contains("[set]\n\"busy\" = \"50\"\n\"cpus\" = \"2-3\""))
    try EnabledRecord.remove(path)
    #expect(try EnabledRecord.load(path) == nil)
  }

  @Test(arguments: [
    ("flavour = 1\nprofile = \"x\"", "unknown key flavour"), ("", "missing profile"),
    ("profile = 3", "profile must be a string"),
    ("profile = \"x\"\n[drift]\nreapply = \"yes\"", "drift.reapply must be true or false"),
    ("profile = \"x\"\n[drift]\nmetrics-directory = \"rel\"", "must be an absolute path"),
    ("profile = \"x\"\n[drift]\nreaply = true", "unknown key drift.reaply (did you mean reapply?)"),
    ("profile = [", "not valid TOML"),
  ])
  func refusesADamagedRecordNamingIt(text: String, reason: String) {
    let path = dir.write("enabled.toml", text)
    do {
      _ = try EnabledRecord.load(path)
      Issue.record("accepted \(text)")
    } catch {
      #expect(error.description.hasPrefix(path + ":") && error.description.contains(reason), "\(error)")
    }
  }
}
