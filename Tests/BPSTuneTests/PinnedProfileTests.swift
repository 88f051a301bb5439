import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

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
