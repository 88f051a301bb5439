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

@Suite struct PersistencePartsTests {
  let kernel = FakeKernel()
  let profiles = TemporaryDirectory("bpstune-profiles")

  func profile(_ text: String) throws -> Profile {
    profiles.write("p.profile", text)
    return try ProfileLoader(source: ProfileSource(searchPath: [profiles.path])).load("p")
  }

  static let text = """
    [sysctl]
    net.core.busy_read = 50
    [[interface]]
    name = "eth0"
    napi-defer-hard-irqs = 3
    [[interface]]
    name = "ens*"
    gro-flush-timeout = "20us"
    """

  @Test func anInterfacesUnitTakesEveryMatchingBlockAndNothingElse() throws {
    let p = try profile(Self.text)
    let eth0 = try #require(Persistence.only(p, interface: "eth0"))
    #expect(eth0.sections.isEmpty && eth0.interfaces.map(\.name) == ["eth0"])
    let ens = try #require(Persistence.only(p, interface: "ens1f0"))
    #expect(ens.interfaces.map(\.name) == ["ens1f0"] && ens.interfaces[0].settings.map(\.key) == ["gro-flush-timeout"])
    #expect(Persistence.only(p, interface: "lo") == nil)
  }

  @Test func theBootUnitLeavesAbsentAndDownInterfacesToTheirUnit() throws {
    kernel.addInterface("ens3")
    kernel.set("/sys/class/net/ens3/flags", "0x1003")
    kernel.addInterface("ens4")
    kernel.set("/sys/class/net/ens4/flags", "0x1002")
    let p = try profile(Self.text)
    let (part, deferred) = Persistence.present(p, on: KernelHost(root: kernel.root))
    #expect(deferred == ["eth0 (absent)", "ens4 (down)"])
    #expect(part.interfaces.map(\.name) == ["ens3"] && part.interfaces[0].settings.map(\.key) == ["gro-flush-timeout"])
    #expect(part.sections == p.sections)
  }

  @Test func theUdevRuleNamesTheProfilesInterfaces() throws {
    let rule = try Persistence.udevRule(for: try profile(Self.text))
    let lines = rule.split(separator: "\n").filter { !$0.hasPrefix("#") }
    #expect(
      lines == [
        "ACTION==\"add|move\", SUBSYSTEM==\"net\", KERNEL==\"eth0\", TAG+=\"systemd\", ENV{SYSTEMD_WANTS}+=\"bpstune-interface@%k.service\"",
        "ACTION==\"add|move\", SUBSYSTEM==\"net\", KERNEL==\"ens*\", TAG+=\"systemd\", ENV{SYSTEMD_WANTS}+=\"bpstune-interface@%k.service\"",
      ])
  }
}

@Suite struct OverwritersTests {
  let kernel = FakeKernel()
  let profiles = TemporaryDirectory("bpstune-profiles")

  init() {
    kernel.set("/proc/sys/net/core/busy_read", "0")
    kernel.set("/proc/sys/net/core/busy_poll", "0")
    kernel.addInterface("eth0")
  }

  func warnings(_ text: String) throws -> [String] {
    profiles.write("p.profile", text)
    let p = try ProfileLoader(source: ProfileSource(searchPath: [profiles.path])).load("p")
    return try Planner().plan(p, on: KernelHost(root: kernel.root)).warnings
  }

  @Test func sysctlFilesSettingAnotherValueAreNamedWithTheirLine() throws {
    kernel.dir.write("etc/sysctl.d/60-net.conf", "# tuning\nnet.core.busy_read = 0\n-net/core/busy_poll=50\n")
    kernel.dir.write("usr/lib/sysctl.d/50-default.conf", "net.core.* = 7\n")
    kernel.dir.write("etc/sysctl.conf", "; old\nnet.core.busy_read=25\n")
    let w = try warnings("[sysctl]\nnet.core.busy_read = 50\nnet.core.busy_poll = 50\n")
    #expect(w.contains { $0.hasPrefix("/etc/sysctl.d/60-net.conf:2 sets net.core.busy_read = 0") })
    // The same value is not a warning; "/" keys read as sysctl.d(5) says; globs match.
    #expect(!w.contains { $0.contains("60-net.conf:3") })
    #expect(w.contains { $0.contains("50-default.conf:1 sets net.core.busy_read = 7") })
    #expect(w.contains { $0.contains("50-default.conf:1 sets net.core.busy_poll = 7") })
    #expect(w.contains { $0.contains("etc/sysctl.conf:2 sets net.core.busy_read = 25") })
    #expect(w.count == 4)
  }

  @Test func tunedRunningWithAProfileIsNamed() throws {
    kernel.set("/run/tuned/tuned.pid", "4242")
    kernel.set("/proc/4242/comm", "tuned")
    kernel.dir.write("etc/tuned/active_profile", "network-latency\n")
    let w = try warnings("[sysctl]\nnet.core.busy_read = 50\n")
    #expect(w.contains { $0.hasPrefix("tuned (pid 4242) is running with profile network-latency") })
    // A stale pid file (the process is something else now) says nothing.
    kernel.set("/proc/4242/comm", "bash")
    #expect(try warnings("[sysctl]\nnet.core.busy_read = 50\n").isEmpty)
  }

  @Test func linkFilesThatSelectATunedInterfaceAndSetTheSameSettingsAreNamed() throws {
    kernel.dir.write(
      "etc/systemd/network/10-eth.link",
      "[Match]\nOriginalName=eth*\n[Link]\nRxBufferSize=4096\nGenericReceiveOffload=no\n")
    kernel.dir.write(
      "usr/lib/systemd/network/99-default.link",
      "[Match]\nOriginalName=*\n[Link]\nNamePolicy=keep\nMACAddressPolicy=persistent\n")
    kernel.dir.write(
      "etc/systemd/network/20-other.link", "[Match]\nOriginalName=ens9\n[Link]\nGenericReceiveOffload=no\n")
    let w = try warnings("[[interface]]\nname = \"eth0\"\nnapi-defer-hard-irqs = 3\nrps-cpus = \"1\"\n")
    #expect(w.isEmpty, "netdev sysfs settings are not .link keys (but for the RPS mask): \(w)")
    kernel.dir.write(
      "etc/systemd/network/10-eth.link", "[Match]\nOriginalName=eth*\n[Link]\nReceivePacketSteeringCPUMask=0\n")
    let w2 = try warnings("[[interface]]\nname = \"eth0\"\nrps-cpus = \"1\"\n")
    #expect(
      w2 == [
        "/etc/systemd/network/10-eth.link selects eth0 and sets ReceivePacketSteeringCPUMask; udev applies it whenever eth0 appears (bpstune-interface@eth0.service runs after)"
      ])
  }
}

/// enable pins the profile by content: a copy with its includes merged, applied once the file
/// is edited, moved or removed (issue 27, point 4).
@Suite struct PinnedProfileTests {
  let dir = TemporaryDirectory("bpstune-pinned")
  var loader: ProfileLoader { ProfileLoader(source: ProfileSource(searchPath: [dir.path + "/profiles"])) }
  var recordPath: String { dir.path + "/etc/enabled.toml" }

  static let base = """
    [profile]
    description = "the base"
    [variables]
    iface = "eth0"
    busy = 50
    [sysctl]
    net.core.busy_read = "${busy}"
    "kernel/timer_migration" = 0
    [[interface]]
    name = "${iface}"
    coalesce = { rx-usecs = 0, adaptive-rx = false }
    features = { gro = false }
    rps-cpus = "0-1"
    """
  static let site = """
    [profile]
    include = ["base"]
    description = "the site"
    [sysctl]
    net.core.busy_poll = 50
    [[interface]]
    name = "${iface}"
    features = { tso = false }
    """

  /// Enables `name` as the CLI does: load, pin (checked), save, record.
  func enable(_ name: String, set: [String: String] = [:], interface: String? = nil) throws -> EnabledRecord {
    let profile = try loader.load(name, overrides: set, interface: interface)
    var record = EnabledRecord(profile: name, interface: interface, variables: set)
    record.sha256 = profile.contentHash
    let pinned = try EnabledProfile.pin(profile, record: record, recordPath: recordPath, loader: loader)
    record.pinnedSHA256 = try EnabledProfile.save(pinned, recordPath: recordPath)
    try record.save(recordPath)
    return record
  }

  func settings(_ p: Profile) -> [String] {
    p.sections.flatMap { section, list in list.map { "[\(section)] \($0.key) = \($0.value)" } }.sorted()
      + p.interfaces.flatMap { b in b.settings.map { "\(b.name) \($0.key) = \($0.value)" } }.sorted()
  }

  @Test func everyShippedProfileLoadsToTheSameSettingsFromItsCopy() throws {
    let shipped = ProfileLoader(source: ProfileSource(searchPath: [Run.profiles]))
    for name in shipped.source.available().map(\.name) {
      let profile = try shipped.load(name, interface: "ens9", interfaceIfUsed: true)
      let resolved = try shipped.resolved(profile.path, header: ["copy of \(name)"])
      #expect(resolved.contentHash == profile.contentHash, "\(name)")
      let copy = dir.write("copy-\(name).profile", resolved.text)
      let again = try shipped.load(copy, interface: "ens9", interfaceIfUsed: true)
      #expect(settings(again) == settings(profile), "\(name)\n\(resolved.text)")
      #expect(again.sameSettings(as: profile), "\(name)")
      #expect(!resolved.text.contains("include ="), "\(name)")
    }
  }

  @Test func anEditedIncludeIsToldApartAndTheContentEnabledIsApplied() throws {
    dir.write("profiles/base.profile", Self.base)
    dir.write("profiles/site.profile", Self.site)
    let record = try enable("site", set: ["busy": "70"], interface: "ens1")
    let enabled = try EnabledProfile.load(record, recordPath: recordPath, loader: loader)
    #expect(enabled.pinnedPath == nil && enabled.notice == nil && enabled.fileChanged == false)
    let original = settings(enabled.profile)
    #expect(original.contains("[sysctl] net.core.busy_read = \"70\""), "\(original)")
    #expect(original.contains("ens1 features = { gro = false, tso = false }"), "\(original)")

    // The include edited: the file's hash moves; the pinned copy, with the record's -i and --set,
    // gives what was enabled.
    dir.write("profiles/base.profile", Self.base.replacingOccurrences(of: "rx-usecs = 0", with: "rx-usecs = 8"))
    let edited = try EnabledProfile.load(record, recordPath: recordPath, loader: loader)
    #expect(edited.pinnedPath == dir.path + "/etc/enabled.profile")
    #expect(edited.fileChanged == true && edited.fileHash != record.sha256)
    #expect(settings(edited.profile) == original)
    #expect(edited.profile.name == "site" && edited.profile.contentHash == record.sha256)
    #expect(edited.profile.description == "the site")
    let notice = try #require(edited.notice)
    #expect(notice.hasPrefix("site changed since it was enabled (sha256 \(record.sha256!.prefix(16)) -> "), "\(notice)")
    #expect(notice.contains("pinned in \(dir.path)/etc/enabled.profile"), "\(notice)")
    let copy = try #require(dir.read("etc/enabled.profile"))
    #expect(copy.hasPrefix("# Pinned by `bpstune enable` at "), "\(copy)")
    #expect(copy.contains("(sha256 \(record.sha256!))"), "\(copy)")

    // Removed altogether: the copy still, and why.
    try FileManager.default.removeItem(atPath: dir.path + "/profiles/site.profile")
    let gone = try EnabledProfile.load(record, recordPath: recordPath, loader: loader)
    #expect(gone.fileHash == nil && gone.fileProblem?.contains("no profile \"site\"") == true, "\(gone)")
    #expect(settings(gone.profile) == original)
    #expect(gone.notice?.hasPrefix("site cannot be loaded (") == true, "\(gone.notice ?? "")")
  }

  @Test func aChangedOrMissingCopyIsNamedNeverApplied() throws {
    dir.write("profiles/base.profile", Self.base)
    let record = try enable("base")
    dir.write("profiles/base.profile", Self.base.replacingOccurrences(of: "busy = 50", with: "busy = 51"))
    let copy = try #require(dir.read("etc/enabled.profile"))
    dir.write("etc/enabled.profile", copy.replacingOccurrences(of: "rx-usecs = 0", with: "rx-usecs = 1"))
    #expect {
      try EnabledProfile.load(record, recordPath: recordPath, loader: loader)
    } throws: {
      "\($0)".hasPrefix(dir.path + "/etc/enabled.profile: ")
        && "\($0)".contains("the pinned copy of base changed since enable")
    }
    try FileManager.default.removeItem(atPath: dir.path + "/etc/enabled.profile")
    #expect {
      try EnabledProfile.load(record, recordPath: recordPath, loader: loader)
    } throws: {
      "\($0)".hasPrefix(recordPath + ": ") && "\($0)".contains("its pinned copy cannot be loaded either")
    }
    // The file as enabled again: no copy needed, but its absence is said (nothing to fall back on).
    dir.write("profiles/base.profile", Self.base)
    let again = try EnabledProfile.load(record, recordPath: recordPath, loader: loader)
    #expect(again.pinnedPath == nil && again.notice == nil)
    #expect(again.pinnedProblem?.hasPrefix("the pinned copy \(dir.path)/etc/enabled.profile cannot be read: ") == true)
    dir.write("etc/enabled.profile", copy)
    #expect(try EnabledProfile.load(record, recordPath: recordPath, loader: loader).pinnedProblem == nil)
    dir.write("etc/enabled.profile", copy + "\n")
    #expect(
      try EnabledProfile.load(record, recordPath: recordPath, loader: loader).pinnedProblem?.contains(
        "changed since enable") == true)
  }

  @Test func aRecordFromBeforeCopiesUsesTheFileAsItIs() throws {
    dir.write("profiles/base.profile", Self.base)
    var record = try enable("base")
    record.pinnedSHA256 = nil
    dir.write("profiles/base.profile", Self.base.replacingOccurrences(of: "busy = 50", with: "busy = 51"))
    let enabled = try EnabledProfile.load(record, recordPath: recordPath, loader: loader)
    #expect(enabled.pinnedPath == nil && enabled.fileChanged == true)
    #expect(settings(enabled.profile).contains("[sysctl] net.core.busy_read = \"51\""))
  }

  @Test func aRecordKeepsThePinnedHashAndRefusesAMalformedOne() throws {
    dir.write("profiles/base.profile", Self.base)
    let record = try enable("base")
    #expect(try EnabledRecord.load(recordPath) == record)
    #expect(record.pinnedSHA256.map(SHA256.isDigest) == true)
    let text = try #require(dir.read("etc/enabled.toml"))
    dir.write("etc/enabled.toml", text.replacingOccurrences(of: "pinned-sha256 = \"", with: "pinned-sha256 = \"Z"))
    #expect { try EnabledRecord.load(recordPath) } throws: { "\($0)".contains("pinned-sha256 must be 64") }
  }
}
