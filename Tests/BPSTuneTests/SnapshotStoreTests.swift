import CLinux
import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct SnapshotStoreTests {
  let state = TemporaryDirectory("bpstune-state")
  var store: SnapshotStore { SnapshotStore(stateDirectory: state.path + "/st") }

  func sample(_ entries: [Snapshot.Entry]? = nil) -> Snapshot {
    Snapshot(
      schema: 1, id: store.newID(.apply), operation: .apply, profile: "p", restores: nil,
      created: SnapshotStore.timestamp(), finished: nil, status: .inProgress, pid: 1, hostname: "h", kernel: "k",
      entries: entries ?? [
        .init(
          setting: SettingID(kind: .sysctl, key: "net.core.busy_read"), semantics: .integer, phase: .system,
          before: "0", after: "50")
      ], leftChanged: nil)
  }

  func mode(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_mode & 0o7777) : -1
  }

  @Test func snapshotsAre0600FilesIn0700Directories() throws {
    try store.prepare()
    let s = sample()
    try store.save(s)
    #expect(mode(store.stateDirectory) == 0o700)
    #expect(mode(store.snapshotDirectory) == 0o700)
    #expect(mode(store.path(of: s.id)) == 0o600)
    #expect(try store.load(s.id) == s)
  }

  @Test func refusesGroupWritableAndSymlinkedSnapshots() throws {
    try store.prepare()
    let s = sample()
    try store.save(s)
    let file = store.path(of: s.id)
    chmod(file, 0o620)
    #expect { try store.load(s.id) } throws: { "\($0)".contains("writable by group or others") }
    chmod(file, 0o600)
    try FileManager.default.createSymbolicLink(atPath: store.path(of: "link"), withDestinationPath: file)
    #expect { try store.load("link") } throws: { "\($0)".contains("symlink") }
    #expect { try store.load("../../etc/passwd") } throws: { "\($0)".contains("not a snapshot id") }
  }

  /// Whether the temporary directory's filesystem keeps user extended attributes (tmpfs only
  /// from Linux 6.6): where it does not, snapshots have no header copies and the tests of them
  /// have nothing to test.
  static let userAttributes: Bool = {
    let directory = TemporaryDirectory("bpstune-xattr")
    let file = directory.write("probe", "x")
    return setxattr(file, "user.bpstune.probe", "1", 1, 0) == 0
  }()

  /// The file's extended attribute `user.bpstune.header`, read with getxattr(2) here, not
  /// through bpstune's reader.
  func headerCopy(_ file: String) -> String? {
    var value = [UInt8](repeating: 0, count: 4096)
    let count = value.withUnsafeMutableBytes { getxattr(file, "user.bpstune.header", $0.baseAddress, $0.count) }
    return count < 0 ? nil : String(decoding: value.prefix(count), as: UTF8.self)
  }

  func setHeaderCopy(_ file: String, _ text: String) {
    let bytes = Array(text.utf8)
    #expect(bytes.withUnsafeBytes { setxattr(file, "user.bpstune.header", $0.baseAddress, $0.count, 0) } == 0)
  }

  /// Rewrites a file's content where it is (same inode: its extended attributes stay), as an
  /// editor that writes in place does.
  func rewriteInPlace(_ file: String, _ text: String) throws {
    let handle = try #require(FileHandle(forWritingAtPath: file))
    try handle.truncate(atOffset: 0)
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
  }

  /// The history reads a snapshot's header from the copy in its extended attribute while the
  /// copy's hash is the content's, and from the content otherwise: a copy left behind by an edit
  /// in place, one that does not read, one that names another snapshot, or none.
  @Test(.enabled(if: Self.userAttributes, "the temporary directory keeps no user extended attributes"))
  func headersComeFromTheCopyOnlyWhileItIsTheContents() throws {
    try store.prepare()
    var s = sample()
    s.status = .complete
    try store.save(s)
    let file = store.path(of: s.id)
    let copy = try #require(headerCopy(file))
    #expect(copy.hasPrefix("fnv1a64 ") && copy.contains("\"status\":\"complete\"") && !copy.contains("busy_read"))
    let status = { () throws -> Snapshot.Status in try #require(try store.headers().first).get().status }
    #expect(try status() == .complete)
    #expect(try store.load(s.id) == s)

    // The copy is what is read: one that says otherwise, with the content's hash, is believed
    // by the listing (the whole read, which every action on a snapshot makes, is the content's).
    setHeaderCopy(file, copy.replacingOccurrences(of: "\"status\":\"complete\"", with: "\"status\":\"undone\""))
    #expect(try status() == .undone)
    #expect(try store.load(s.id).status == .complete)

    // Edited in place: the copy stays but its hash is not the new content's.
    let text = try String(contentsOfFile: file, encoding: .utf8)
    let failed = text.replacingOccurrences(of: "\"status\" : \"complete\"", with: "\"status\" : \"failed\"")
    try rewriteInPlace(file, failed)
    #expect(headerCopy(file) != nil)
    #expect(try status() == .failed)

    // A copy with the content's hash that does not read, or names another snapshot.
    let content = Array(try String(contentsOfFile: file, encoding: .utf8).utf8)
    let hash = String(SnapshotStore.fnv1a64(content), radix: 16)
    let line = "fnv1a64 " + String(repeating: "0", count: 16 - hash.count) + hash + "\n"
    setHeaderCopy(file, line + "{not json")
    #expect(try status() == .failed)
    let other = try #require(copy.split(separator: "\n", maxSplits: 1).last)
    setHeaderCopy(file, line + other.replacingOccurrences(of: s.id, with: "20260101T000000.000000Z-apply"))
    #expect(try status() == .failed)
    setHeaderCopy(file, line + other.replacingOccurrences(of: "\"status\":\"complete\"", with: "\"status\":\"undone\""))
    #expect(try status() == .undone)

    // No copy: the content.
    #expect(removexattr(file, "user.bpstune.header") == 0)
    #expect(try status() == .failed)

    // Each later version carries its own copy.
    var later = try store.load(s.id)
    later.status = .undone
    try store.update(later)
    #expect(try #require(headerCopy(file)).contains("\"status\":\"undone\""))
    #expect(try status() == .undone)
  }

  /// A snapshot id names a file in the snapshot directory: ASCII letters, digits, "-", "." and
  /// "_" only, never a leading "." (no "..", no hidden or temporary file), at most 100.
  @Test func snapshotIDsAreAsciiNamesWithoutALeadingDot() {
    for id in ["20261206T080907.246044Z-apply", "a", "Z9_-.", String(repeating: "x", count: 100)] {
      #expect(SnapshotStore.isValidID(id), "\(id)")
    }
    let refused = [
      "", ".", "..", ".hidden", "a/b", "a b", "\u{e9}t\u{e9}", "x\u{9b}1m", "a\0b", "@", "[", "`", "{", "a:b",
      String(repeating: "x", count: 101),
    ]
    for id in refused { #expect(!SnapshotStore.isValidID(id), "\(id)") }
  }

  @Test(.enabled(if: geteuid() == 0, "chown needs root"))
  func refusesForeignOwnedSnapshots() throws {
    try store.prepare()
    let s = sample()
    try store.save(s)
    let file = store.path(of: s.id)
    chown(file, 4242, 4242)
    #expect { try store.load(s.id) } throws: { "\($0)".contains("owned by uid 4242") }
    chown(file, 0, 0)
  }

  /// Snapshots edited to point at other files, or damaged, are refused with exit 2.
  @Test(arguments: [
    ("{", "not valid JSON"),
    ("{\"schema\": 2}", "missing field"),
    ("[]", "wrong type"),
  ])
  func refusesDamagedSnapshots(text: String, message: String) throws {
    #expect {
      try SnapshotStore.decode(Array(text.utf8), path: "x", expectedID: nil)
    } throws: { e in (e as! BPSTuneError).exitCode == 2 && "\(e)".contains(message) }
  }

  /// Each entry of an interface's setting records its device's ifindex (what undo and rollback
  /// find it by after a rename); one that is no interface index, or on a system setting, is
  /// refused; a snapshot without ifindexes (an earlier version's) still loads.
  @Test func entriesRecordTheDevicesIfindexWhichIsChecked() throws {
    let kernel = FakeKernel()
    kernel.set("/proc/sys/net/core/busy_read", "0")
    kernel.addInterface("va", ifindex: 7)
    let executor = Executor(host: KernelHost(root: kernel.root), knobs: KnobRegistry.standard, store: store)
    let profiles = TemporaryDirectory("bpstune-profiles")
    profiles.write("p.profile", "[sysctl]\nnet.core.busy_read = 5\n[[interface]]\nname = \"va\"\nrps-cpus = \"1\"\n")
    let profile = try ProfileLoader(source: ProfileSource(searchPath: [profiles.path])).load("p")
    let made = try #require(try Applier(executor: executor).apply(profile, skipUnsupported: false).snapshot)
    let loaded = try store.load(made.id)
    #expect(loaded.entries.map(\.ifindex) == [nil, 7])
    let json = String(decoding: try SnapshotStore.encode(loaded), as: UTF8.self)
    #expect(json.contains("\"ifindex\" : 7"), "\(json)")

    let queue = SettingID(kind: .netdev, interface: "va", queue: "rx-0", key: "rps-cpus")
    let system = SettingID(kind: .sysctl, key: "net.core.busy_read")
    for (setting, ifindex, words) in [
      (queue, "0", "ifindex 0 is not an interface index"),
      (queue, "4294967295", "ifindex 4294967295 is not an interface index"),
      (queue, "-1", "ifindex -1 is not an interface index"),
      (queue, "\"7\"", "field entries[0].ifindex has the wrong type"),
      (system, "7", "an ifindex, but no interface"),
    ] {
      var entry =
        try JSONSerialization.jsonObject(
          with: JSONEncoder().encode(
            Snapshot.Entry(setting: setting, semantics: .integer, phase: .queue, before: "0", after: "1")))
        as! [String: Any]
      entry["ifindex"] = try JSONSerialization.jsonObject(with: Data(ifindex.utf8), options: .fragmentsAllowed)
      var document = try JSONSerialization.jsonObject(with: JSONEncoder().encode(sample())) as! [String: Any]
      document["entries"] = [entry]
      let bytes = Array(try JSONSerialization.data(withJSONObject: document))
      let refusal = thrownText { try SnapshotStore.decode(bytes, path: "x", expectedID: nil) }
      #expect(refusal?.contains(words) == true, "\(ifindex): \(refusal ?? "loaded")")
    }
    // Without the field: an earlier version's snapshot.
    var old = sample([.init(setting: queue, semantics: .cpuMask, phase: .queue, before: "0", after: "1")])
    old.entries[0].ifindex = nil
    let bytes = Array(try JSONEncoder().encode(old))
    #expect(!String(decoding: bytes, as: UTF8.self).contains("ifindex"))
    #expect(try SnapshotStore.decode(bytes, path: "x", expectedID: nil) == old)
  }

  @Test(arguments: [
    SettingID(kind: .sysctl, key: "net/../../../etc/shadow"), SettingID(kind: .sysfs, key: "/etc/passwd"),
    SettingID(kind: .sysfs, key: "class/net/../../../../etc/passwd"),
    SettingID(kind: .netdev, interface: "../x", key: "threaded"),
    SettingID(kind: .netdev, interface: "eth0", queue: "rx-../../x", key: "rps-cpus"),
    SettingID(kind: .host, key: "rm"),
    SettingID(kind: .netdev, interface: "eth0", key: "rps-cpus"),
  ])
  func refusesSnapshotsNamingSettingsOutsideItsTrees(setting: SettingID) throws {
    let s = sample([.init(setting: setting, semantics: .integer, phase: .system, before: "0", after: "1")])
    let bytes = Array(try JSONEncoder().encode(s))
    #expect { try SnapshotStore.decode(bytes, path: "x", expectedID: nil) } throws: { e in
      (e as! BPSTuneError).exitCode == 2
    }
  }

  /// A word where a kind belongs that is no kind of this bpstune, or a kind nothing writes
  /// (host), refuses the snapshot with the entry's index and the word as the file has it; the
  /// checks made before an entry's (the schema, the earlier entries) speak first, so a newer
  /// bpstune's snapshot is refused for its schema, not for a kind added since.
  @Test func aKindNoKnobWritesIsRefusedByItsWordAfterTheEarlierChecks() throws {
    let sysctl = SettingID(kind: .sysctl, key: "net.core.busy_read")
    func refusal(kind: String, schema: Int = 1, key: String = "net.core.somaxconn", phase: Any = 0) throws -> String? {
      let entry = Snapshot.Entry(setting: sysctl, semantics: .integer, phase: .system, before: "0", after: "1")
      var document =
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(sample([entry, entry]))) as! [String: Any]
      var entries = document["entries"] as! [[String: Any]]
      entries[1]["setting"] = ["kind": kind, "key": key]
      entries[1]["phase"] = phase
      document["entries"] = entries
      document["schema"] = schema
      let bytes = Array(try JSONSerialization.data(withJSONObject: document))
      return thrownText { try SnapshotStore.decode(bytes, path: "x", expectedID: nil) }
    }
    #expect(try refusal(kind: "shell") == "snapshot x: entry 1: unknown kind \"shell\"")
    #expect(try refusal(kind: "host") == "snapshot x: entry 1: unknown kind \"host\"")
    #expect(try refusal(kind: "Sysctl") == "snapshot x: entry 1: unknown kind \"Sysctl\"")
    #expect(try refusal(kind: "shell", schema: 2) == "snapshot x: schema 2; this bpstune reads schema 1")
    #expect(try refusal(kind: "shell", phase: "0") == "snapshot x: field entries[1].phase has the wrong type")
    #expect(try refusal(kind: "sysctl") == nil)
    #expect(try refusal(kind: "sysctl", key: "../x")?.hasPrefix("snapshot x: entry 1 (../x): ") == true)
  }

  @Test func aSnapshotWhoseIdDoesNotMatchItsFileIsRefused() throws {
    try store.prepare()
    let s = sample()
    try store.save(s)
    try FileManager.default.copyItem(atPath: store.path(of: s.id), toPath: store.path(of: "other"))
    #expect { try store.load("other") } throws: { "\($0)".contains("does not match its file name") }
  }

  @Test func probingTheLockCreatesNothing() {
    #expect(!store.isLocked())
    #expect(!FileManager.default.fileExists(atPath: store.stateDirectory))
  }

  @Test func theLockIsExclusive() throws {
    try store.prepare()
    let held = try store.lock(timeout: 0)
    #expect(store.isLocked())
    #expect { try store.lock(timeout: 0) } throws: { "\($0)".contains("another bpstune run (pid \(getpid()))") }
    held.release()
    #expect(!store.isLocked())
  }

  /// A snapshot as the retention rule sees it.
  func listed(
    _ n: Int, _ operation: Snapshot.Operation, _ status: Snapshot.Status, restores: Int? = nil
  ) -> SnapshotStore.Listed {
    func id(_ n: Int) -> String { "2026010\(n / 10)T0000\(n % 10)0.000000Z-x" }
    var s = sample()
    s.id = id(n)
    s.operation = operation
    s.status = status
    s.restores = restores.map(id)
    return SnapshotStore.Listed(id: s.id, result: .success(s))
  }

  @Test func retentionDeletesOnlySettledHistoriesOlderThanTheNewestN() {
    let damaged = SnapshotStore.Listed(
      id: "20260100T000000.000000Z-x", result: .failure(.snapshot(path: "p", message: "m")))
    let all = [
      damaged,
      listed(1, .apply, .complete),  // rolled back by 2: settled
      listed(2, .rollback, .complete, restores: 1),
      listed(3, .apply, .complete),  // still in effect
      listed(4, .apply, .undone),  // failed and undone: settled
      listed(5, .apply, .complete),  // rolled back by 6, which 7 undid: in effect again
      listed(6, .rollback, .complete, restores: 5),
      listed(7, .rollback, .complete, restores: 6),
      listed(8, .apply, .inProgress),  // interrupted: rollback needs it
      listed(9, .apply, .failed),
      listed(11, .apply, .complete),  // rolled back by 13, after an interrupted rollback 12
      listed(12, .rollback, .inProgress, restores: 11),
      listed(13, .rollback, .complete, restores: 11),
      listed(14, .apply, .complete),  // rolled back by 15, but 15 is among the newest
      listed(15, .rollback, .complete, restores: 14),
    ]
    func id(_ n: Int) -> String { "2026010\(n / 10)T0000\(n % 10)0.000000Z-x" }
    #expect(SnapshotHistory(all).expendable(keep: 1) == [1, 2, 4, 11, 12, 13].map(id))
    #expect(SnapshotHistory(all).expendable(keep: 0) == [1, 2, 4, 11, 12, 13, 14, 15].map(id))
    #expect(SnapshotHistory(all).expendable(keep: 4) == [1, 2, 4].map(id))
    #expect(SnapshotHistory(all).expendable(keep: 100).isEmpty)
  }

  /// The history's decisions read each file without its entries: every other field is read as
  /// the whole file has it.
  @Test func aFileReadWithoutItsEntriesHasEveryOtherField() throws {
    var s = sample()
    // Every field set, so that one the header reader (SnapshotStore.Header, or the header copy)
    // leaves out differs. A field added to Snapshot must be added to Header too: this count
    // fails until it is looked at.
    #expect(Mirror(reflecting: s).children.count == 16)
    s.operation = .rollback
    s.restores = "20260101T000000.000000Z-apply"
    s.boot = "b"
    s.trigger = "enable"
    s.finished = SnapshotStore.timestamp()
    s.status = .failed
    s.leftChanged = ["net.core.busy_read"]
    var origin = Snapshot.Origin(profile: nil, reason: "ticket 42")
    origin.variables = ["app-cpus": "2"]
    s.origin = origin
    try store.prepare()
    try store.save(s)
    var whole = try store.load(s.id)
    #expect(whole.entries.count == 1)
    whole.entries = []
    #expect(try store.load(s.id, entries: false) == whole)
    let listed = try #require(try store.headers().first)
    #expect(!listed.whole && listed.snapshot == whole)
    let reread = try store.load(s.id)
    #expect(store.whole(listed).whole && store.whole(listed).snapshot == reread)
    // And from the content, without the header copy.
    _ = removexattr(store.path(of: s.id), "user.bpstune.header")
    #expect(try store.load(s.id, entries: false) == whole)
  }

  /// Retention decides on the files read without their entries, but a file it would delete is
  /// read whole first: one whose entries are damaged is kept, as every damaged file is.
  @Test func pruneKeepsAFileWhoseEntriesAreDamaged() throws {
    try store.prepare()
    func save(_ operation: Snapshot.Operation, restores: String? = nil, damaged: Bool = false) throws -> String {
      var s = sample()
      s.id = store.newID(operation)
      s.operation = operation
      s.status = .complete
      s.restores = restores
      // An entry naming a file outside /proc/sys: the header reads, the whole file is refused.
      if damaged { s.entries[0].setting = SettingID(kind: .sysctl, key: "net/../../../etc/shadow") }
      try store.save(s)
      return s.id
    }
    let damagedApply = try save(.apply, damaged: true)
    let itsRollback = try save(.rollback, restores: damagedApply)
    let apply = try save(.apply)
    let rollback = try save(.rollback, restores: apply)
    #expect(try store.headers().allSatisfy { $0.error == nil })
    #expect(try store.prune(keep: 0) == [apply, rollback])
    #expect(try store.ids() == [damagedApply, itsRollback])
    #expect(try store.all().map { $0.error == nil } == [false, true])
  }

  /// Retention decides again on what the files it would delete say when read whole: a header
  /// copy (``SnapshotStore/headerAttribute``) claiming that an apply still in effect was undone,
  /// with its content's hash, deletes nothing; the settled history beside it goes.
  @Test(.enabled(if: Self.userAttributes, "the temporary directory keeps no user extended attributes"))
  func pruneDecidesOnTheContentNotOnAHeaderCopy() throws {
    try store.prepare()
    func save(_ operation: Snapshot.Operation, restores: String? = nil) throws -> String {
      var s = sample()
      s.id = store.newID(operation)
      s.operation = operation
      s.status = .complete
      s.restores = restores
      try store.save(s)
      return s.id
    }
    let inEffect = try save(.apply)
    let undone = try save(.apply)
    let itsRollback = try save(.rollback, restores: undone)
    let file = store.path(of: inEffect)
    let copy = try #require(headerCopy(file))
    setHeaderCopy(file, copy.replacingOccurrences(of: "\"status\":\"complete\"", with: "\"status\":\"undone\""))
    #expect(try store.headers().first { $0.id == inEffect }?.get().status == .undone)
    #expect(try store.prune(keep: 0) == [undone, itsRollback])
    #expect(try store.ids() == [inEffect])
  }

  /// A profile given as a long path does not run into the STATE column; every row's columns
  /// start where the header's do.
  @Test func snapshotListColumnsFitTheirValues() {
    var a = listed(1, .apply, .complete)
    var s = a.snapshot!
    s.profile = "/etc/bpstune/profiles/site-latency.profile"
    a.result = .success(s)
    let rows = [a, listed(2, .rollback, .complete, restores: 1), listed(3, .apply, .inProgress)]
    let text = StateReport.list(rows, lockHeld: false, boot: nil, json: false, style: TextStyle(color: false))
    let lines = text.split(separator: "\n").map(String.init)
    let stateColumn = lines[0].range(of: "STATE")!.lowerBound.utf16Offset(in: lines[0])
    #expect(lines[1].contains("site-latency.profile  rolled-back"), "\(text)")
    for line in lines.dropFirst() {
      let index = line.index(line.startIndex, offsetBy: stateColumn)
      #expect(line[line.index(before: index)] == " " && line[index] != " ", "\(text)")
    }
  }

  /// Scripts read `snapshots list` with awk: every column but REASON (the last, the rest of the
  /// line) is one word in every kind of row. Before, a rollback's PROFILE was "of ID", BY was
  /// "boot, root (sudo alice)", a damaged snapshot's row had empty cells and its error on a
  /// line of its own.
  @Test func snapshotListColumnsAreOneWordEachInEveryRow() throws {
    var apply = listed(1, .apply, .complete)
    var s = apply.snapshot!
    s.profile = "/srv/my profiles/site.profile"
    s.trigger = "interface eth0"
    var origin = Snapshot.Origin(profile: nil, reason: "ticket 42")
    origin.user = "root"
    origin.loginUser = "bob"
    origin.sudoUser = "alice"
    s.origin = origin
    apply.result = .success(s)
    let damaged = SnapshotStore.Listed(
      id: "20260109T000000.000000Z-x", result: .failure(.snapshot(path: "p", message: "not JSON")))
    let rows = [apply, listed(2, .rollback, .complete, restores: 1), listed(3, .apply, .inProgress), damaged]
    let text = StateReport.list(rows, lockHeld: false, boot: nil, json: false, style: TextStyle(color: false))
    let lines = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    #expect(lines.count == 5, "\(text)")
    try #require(lines.count >= 5, "\(text)")
    // awk's $N: "" past the end of the line.
    func field(_ line: Int, _ n: Int) -> String { n < lines[line].count ? lines[line][n] : "" }
    #expect(lines[0] == ["ID", "OPERATION", "PROFILE", "STATE", "BOOT", "SETTINGS", "BY", "REASON"], "\(text)")
    for fields in lines.dropFirst() { #expect(fields.count >= 8, "\(fields): \(text)") }
    #expect(field(1, 2) == "/srv/my\\x20profiles/site.profile", "\(text)")
    #expect(field(1, 6) == "interface=eth0,root,login=bob,sudo=alice", "\(text)")
    #expect(lines[1].dropFirst(7) == ["ticket", "42"], "\(text)")
    #expect(field(2, 1) == "rollback" && field(2, 2) == "of:\(apply.id)" && field(2, 3) == "complete", "\(text)")
    #expect(lines[2].count == 8 && field(2, 7) == "-", "\(text)")
    #expect(field(4, 0) == damaged.id && field(4, 3) == "invalid" && lines[4].count > 8, "\(text)")
    #expect(lines[4].suffix(2) == ["not", "JSON"], "\(text)")
  }
}
