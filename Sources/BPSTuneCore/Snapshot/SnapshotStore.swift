import BPSTuneKernel
import FoundationEssentials
import SystemPackage

/// The state directory: snapshots (0600 files in a 0700 directory, written durably) and the
/// apply lock. A snapshot that is not owned by root (or by the user running bpstune), is
/// writable by group or others, is a symlink, or names a setting outside bpstune's trees is
/// refused.
package struct SnapshotStore: Sendable {
  package let stateDirectory: String
  package var snapshotDirectory: String { stateDirectory + "/snapshots" }
  package var lockPath: String { stateDirectory + "/lock" }

  package init(stateDirectory: String) {
    var dir = stateDirectory
    while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
    self.stateDirectory = dir
  }

  /// BPSTUNE_STATE_DIR, or /var/lib/bpstune.
  package static var defaultStateDirectory: String {
    Syscalls.environment("BPSTUNE_STATE_DIR") ?? "/var/lib/bpstune"
  }

  /// Creates the directories (0700) when missing and checks that they are safe to trust.
  package func prepare() throws(BPSTuneError) {
    for dir in [stateDirectory, snapshotDirectory] {
      do {
        try Syscalls.makeDirectory(dir, mode: 0o700)
      } catch let e as SystemError {
        throw .stateDirectory(path: dir, message: "cannot create: \(e.reason)")
      } catch {
        throw .stateDirectory(path: dir, message: "cannot create")
      }
      try checkTrusted(dir, directory: true)
    }
  }

  private func checkTrusted(_ path: String, directory: Bool) throws(BPSTuneError) {
    let fail: (String) -> BPSTuneError = {
      directory ? .stateDirectory(path: path, message: $0) : .snapshot(path: path, message: $0)
    }
    let status: Stat?
    do {
      status = try Syscalls.fileStatus(path, followLinks: false)
    } catch {
      throw fail("cannot stat: \(error)")
    }
    guard let status else { throw fail("does not exist") }
    if directory ? status.type != .directory : status.type != .regular {
      throw fail(
        status.type == .symbolicLink ? "is a symlink; refused" : "is not a \(directory ? "directory" : "regular file")")
    }
    let owner = status.userID.rawValue
    if owner != 0 && owner != Syscalls.effectiveUserID {
      throw fail("owned by uid \(owner), not by root; refused")
    }
    if status.permissions.contains(.groupWrite) || status.permissions.contains(.otherWrite) {
      throw fail("writable by group or others (mode \(String(status.permissions.rawValue, radix: 8))); refused")
    }
  }

  // MARK: Identity and time

  /// A sortable id: UTC time with microseconds and the operation, "20261121T193012.123456Z-apply".
  package func newID(_ operation: Snapshot.Operation) -> String {
    let base = "\(Self.timestamp(compact: true))-\(operation.rawValue)"
    var id = base
    var n = 2
    while (try? Syscalls.fileStatus(path(of: id))) ?? nil != nil {
      id = "\(base)-\(n)"
      n += 1
    }
    return id
  }

  /// The current UTC time, ISO 8601 with microseconds.
  package static func timestamp(compact: Bool = false) -> String {
    // gmtime_r, not Calendar and TimeZone: FoundationEssentials alone (the static binary has no
    // ICU) knows no time zone by identifier.
    let t = Syscalls.utcNow()
    func pad(_ v: Int, _ width: Int = 2) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let (date, time) = ([pad(t.year, 4), pad(t.month), pad(t.day)], [pad(t.hour), pad(t.minute), pad(t.second)])
    let micro = pad(t.microseconds, 6)
    if compact { return "\(date.joined())T\(time.joined()).\(micro)Z" }
    return "\(date.joined(separator: "-"))T\(time.joined(separator: ":")).\(micro)Z"
  }

  /// Today's date in UTC, the date part of ``timestamp(compact:)`` ("2026-12-06"): the date a
  /// written profile cites.
  package static func today() -> String { String(timestamp().prefix(10)) }

  package func path(of id: String) -> String { "\(snapshotDirectory)/\(id).json" }

  /// ASCII letters, digits, "-", "." and "_", at most 100, not starting with ".".
  static func isValidID(_ id: String) -> Bool {
    let bytes = id.utf8
    return !bytes.isEmpty && bytes.count <= 100 && bytes.first != UInt8(ascii: ".")
      && bytes.allSatisfy { byte in
        let lower = byte | 0x20
        return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
          || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
          || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
      }
  }

  // MARK: Reading and writing

  /// Writes a snapshot durably, before the first change it records: write, fsync, rename, fsync
  /// of the directory. From then on the snapshot is on disk whatever happens.
  package func save(_ snapshot: Snapshot) throws(BPSTuneError) {
    try write(snapshot, syncDirectory: true)
  }

  /// Writes a later version of a snapshot already saved (an entry narrowed to what changed, a
  /// second stage's entries, the outcome): write, fsync, rename, without the directory's fsync.
  /// A killed process leaves the new version (the rename is done); only a crash of the machine
  /// may leave the older one, whole (its content was on disk before the rename), and that crash
  /// has also undone every change either version records (they are the running kernel's state,
  /// and the snapshot names the boot it was made in): a plain rollback, status and disable look
  /// at this boot's snapshots only, and the boot unit reads none of an earlier boot. Only
  /// `rollback ID` of that earlier snapshot reads it, as it reads any snapshot of another boot.
  /// Two fsyncs of the directory fewer per apply, and per rollback, than writing each version
  /// like the first.
  package func update(_ snapshot: Snapshot) throws(BPSTuneError) {
    try write(snapshot, syncDirectory: false)
  }

  private func write(_ snapshot: Snapshot, syncDirectory: Bool) throws(BPSTuneError) {
    do {
      let bytes = try Self.encode(snapshot)
      let copy = try Self.headerCopy(of: snapshot, content: bytes)
      try Syscalls.writeDurably(
        path(of: snapshot.id), bytes, syncDirectory: syncDirectory,
        attribute: copy.count <= Self.headerCopyLimit ? (Self.headerAttribute, copy) : nil)
    } catch let e as SystemError {
      throw .stateDirectory(path: snapshotDirectory, message: "cannot write snapshot \(snapshot.id): \(e.reason)")
    } catch {
      throw .stateDirectory(path: snapshotDirectory, message: "cannot write snapshot \(snapshot.id): \(error)")
    }
  }

  /// A snapshot's file content: pretty JSON with sorted keys and a final newline.
  package static func encode(_ snapshot: Snapshot) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return Array(try encoder.encode(snapshot)) + [10]
  }

  /// Reads and checks one snapshot; without `entries`, everything but its entries (which are
  /// then empty), as ``headers()`` reads it: from the file's copy of its header
  /// (``headerAttribute``) when that copy belongs to the content the file holds now, else from
  /// the content.
  package func load(_ id: String, entries: Bool = true) throws(BPSTuneError) -> Snapshot {
    guard Self.isValidID(id) else { throw .snapshot(path: id, message: "not a snapshot id") }
    let file = path(of: id)
    try checkTrusted(file, directory: false)
    let bytes: [UInt8]
    var attribute: [UInt8]?
    do {
      if entries {
        bytes = try Syscalls.readFile(file, regularOnly: true, followLinks: false)
      } else {
        (bytes, attribute) = try Syscalls.readFile(
          file, attribute: Self.headerAttribute, attributeLimit: Self.headerCopyLimit)
      }
    } catch let e as SystemError {
      throw .snapshot(path: file, message: "cannot read: \(e.reason)")
    } catch {
      throw .snapshot(path: file, message: "cannot read")
    }
    if let attribute, let header = Self.header(fromCopy: attribute, content: bytes, path: file, expectedID: id) {
      return header
    }
    return try Self.decode(bytes, path: file, expectedID: id, entries: entries)
  }

  /// The extended attribute of a snapshot file that holds a copy of its header: `fnv1a64 HEX`,
  /// a newline, and the snapshot's JSON without its entries. HEX is the FNV-1a hash (64 bits)
  /// of the file's content when the copy was made. Reading the history (``headers()``) takes
  /// the copy instead of scanning the whole file's JSON, which at 64 queues was 1.1 million
  /// instructions a file, 23 million for a history of 22 files in each apply and each rollback;
  /// reading the copies and hashing the contents take 6.4 million (callgrind). The copy is only
  /// ever a shortcut: a file without it (copied, written by another tool, on a filesystem
  /// without extended attributes), with a copy whose hash is not the content's (the file edited
  /// in place) or one that does not read is read from its content, as before. Whoever acts on
  /// a snapshot reads it whole, from its content (``whole(_:)``).
  static let headerAttribute = "user.bpstune.header"

  /// The longest header copy written and read (a long `leftChanged` can pass it: such a file
  /// has no copy and is read from its content).
  static let headerCopyLimit = 4096

  /// The value of ``headerAttribute`` for a snapshot and its file content.
  static func headerCopy(of snapshot: Snapshot, content: [UInt8]) throws -> [UInt8] {
    var header = snapshot
    header.entries = []
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let hash = String(fnv1a64(content), radix: 16)
    return Array("fnv1a64 \(String(repeating: "0", count: 16 - hash.count))\(hash)\n".utf8)
      + Array(try encoder.encode(header))
  }

  /// The header a copy holds, checked as the file's own would be (``decode(_:path:expectedID:entries:)``
  /// without entries), when its hash is the content's; nil otherwise.
  static func header(fromCopy copy: [UInt8], content: [UInt8], path: String, expectedID: String) -> Snapshot? {
    let prefix = Array("fnv1a64 ".utf8)
    guard copy.count > prefix.count + 17, copy.starts(with: prefix), copy[prefix.count + 16] == 0x0A,
      let hash = UInt64(String(decoding: copy[prefix.count..<prefix.count + 16], as: UTF8.self), radix: 16),
      hash == fnv1a64(content)
    else { return nil }
    return try? decode(Array(copy[(prefix.count + 17)...]), path: path, expectedID: expectedID, entries: false)
  }

  /// FNV-1a, 64 bits: a change to a file's content, not an attack on it (the state directory is
  /// root's own, mode 0700), is what the header copy's hash must notice.
  static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return hash
  }

  /// A snapshot's fields but its entries, by the same names and types: the entries' text is
  /// scanned as JSON but not decoded, which is most of a large snapshot's reading.
  private struct Header: Decodable {
    var schema: Int
    var id: String
    var operation: Snapshot.Operation
    var profile: String?
    var restores: String?
    var created: String
    var finished: String?
    var status: Snapshot.Status
    var pid: Int32
    var hostname: String
    var kernel: String
    var boot: String?
    var trigger: String?
    var leftChanged: [String]?
    var origin: Snapshot.Origin?
  }

  /// Parses and checks snapshot JSON (also the fuzzing entry point). Without `entries`, the
  /// entries are neither decoded nor checked, and the snapshot returned has none.
  package static func decode(_ bytes: [UInt8], path: String, expectedID: String?, entries: Bool = true)
    throws(BPSTuneError) -> Snapshot
  {
    let snapshot: Snapshot
    // A kind this bpstune does not know decodes and is refused with the entry's other checks.
    let unknownKinds = SettingKind.UnknownNames()
    let decoder = JSONDecoder()
    decoder.userInfo[SettingKind.unknownNamesKey] = unknownKinds
    do {
      if entries {
        snapshot = try decoder.decode(Snapshot.self, from: Data(bytes))
      } else {
        let h = try decoder.decode(Header.self, from: Data(bytes))
        snapshot = Snapshot(
          schema: h.schema, id: h.id, operation: h.operation, profile: h.profile, restores: h.restores,
          created: h.created, finished: h.finished, status: h.status, pid: h.pid, hostname: h.hostname,
          kernel: h.kernel, boot: h.boot, trigger: h.trigger, entries: [], leftChanged: h.leftChanged,
          origin: h.origin)
      }
    } catch let DecodingError.dataCorrupted(context) {
      let at = Self.fieldPath(context.codingPath)
      let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
      throw .snapshot(path: path, message: at.isEmpty ? "not valid JSON: \(detail)" : "field \(at): \(detail)")
    } catch let DecodingError.keyNotFound(key, _) {
      throw .snapshot(path: path, message: "missing field \"\(key.stringValue)\"")
    } catch let DecodingError.typeMismatch(_, context) {
      let at = Self.fieldPath(context.codingPath)
      throw .snapshot(path: path, message: "field \(at) has the wrong type")
    } catch let DecodingError.valueNotFound(_, context) {
      let at = Self.fieldPath(context.codingPath)
      throw .snapshot(path: path, message: "field \(at) is null")
    } catch {
      throw .snapshot(path: path, message: "not a bpstune snapshot: \(error)")
    }
    guard snapshot.schema == Snapshot.schemaVersion else {
      throw .snapshot(
        path: path, message: "schema \(snapshot.schema); this bpstune reads schema \(Snapshot.schemaVersion)")
    }
    if let expectedID, snapshot.id != expectedID {
      throw .snapshot(path: path, message: "its id \"\(snapshot.id)\" does not match its file name")
    }
    if let restores = snapshot.restores, !isValidID(restores) {
      throw .snapshot(path: path, message: "\"restores\" is not a snapshot id")
    }
    // What status and snapshots list print from a snapshot: one line each, of a sane length.
    var texts: [(String, String?)] = [
      ("profile", snapshot.profile), ("trigger", snapshot.trigger), ("hostname", snapshot.hostname),
      ("kernel", snapshot.kernel), ("created", snapshot.created), ("finished", snapshot.finished),
      ("boot", snapshot.boot),
    ]
    if let o = snapshot.origin {
      texts += [
        ("origin.path", o.path), ("origin.interface", o.interface), ("origin.user", o.user),
        ("origin.login_user", o.loginUser), ("origin.sudo_user", o.sudoUser), ("origin.reason", o.reason),
      ]
      for (name, value) in (o.variables ?? [:]).sorted(by: { $0.key < $1.key }) {
        texts += [("origin.variables key", name), ("origin.variables.\(name)", value)]
      }
      if let hash = o.sha256, !SHA256.isDigest(hash) {
        throw .snapshot(path: path, message: "field origin.sha256 is not 64 lowercase hexadecimal digits")
      }
      if let reason = o.reason, reason.utf8.count > 200 {
        throw .snapshot(path: path, message: "field origin.reason is longer than 200 bytes")
      }
    }
    for case (let field, let value?) in texts {
      if let c = Printable.controlCharacter(in: value) {
        throw .snapshot(path: path, message: "field \(field) holds the control character \(c)")
      }
      if value.utf8.count > 4096 { throw .snapshot(path: path, message: "field \(field) is longer than 4096 bytes") }
    }
    for (index, entry) in snapshot.entries.enumerated() {
      let unknown = unknownKinds.name(at: "entries.\(index).setting.kind")
      guard unknown == nil, let knob = KnobRegistry.knob(for: entry.setting.kind) else {
        throw .snapshot(
          path: path, message: "entry \(index): unknown kind \"\(unknown ?? entry.setting.kind.rawValue)\"")
      }
      if let why = knob.rejection(of: entry.setting) {
        throw .snapshot(path: path, message: "entry \(index) (\(entry.setting)): \(why)")
      }
      if let ifindex = entry.ifindex {
        // The kernel's ifindex is a positive int; it belongs to an interface's setting only.
        guard entry.setting.interface != nil else {
          throw .snapshot(path: path, message: "entry \(index) (\(entry.setting)): an ifindex, but no interface")
        }
        guard ifindex >= 1 && ifindex <= Int(Int32.max) else {
          throw .snapshot(
            path: path, message: "entry \(index) (\(entry.setting)): ifindex \(ifindex) is not an interface index")
        }
      }
      for value in [entry.before, entry.after]
      where value.contains(where: { $0 == "\n" || $0 == "\0" }) || value.utf8.count > 4096 {
        throw .snapshot(path: path, message: "entry \(index) (\(entry.setting)): value is not a kernel setting value")
      }
    }
    return snapshot
  }

  /// A coding path as users write it: entries[0].phase.
  static func fieldPath(_ path: [any CodingKey]) -> String {
    path.reduce("") { text, key in
      if let index = key.intValue { return text + "[\(index)]" }
      return text.isEmpty ? key.stringValue : text + "." + key.stringValue
    }
  }

  /// One file of the snapshot directory: its id (from the file name) and the snapshot, or why
  /// it cannot be read or is refused.
  package struct Listed: Sendable {
    package var id: String
    package var result: Result<Snapshot, BPSTuneError>
    /// False when read by ``headers()``: the snapshot has no entries, and a file whose entries
    /// are damaged is listed as readable.
    package var whole = true

    package func get() throws(BPSTuneError) -> Snapshot { try result.get() }
    package var snapshot: Snapshot? { try? result.get() }
    package var error: BPSTuneError? {
      if case .failure(let e) = result { return e }
      return nil
    }
  }

  /// Every snapshot file, oldest first (ids begin with their UTC creation time); unreadable
  /// ones are listed with their error, not skipped. A state directory that does not exist yet
  /// holds none; one this process may not read (root's 0700 directory, for an unprivileged
  /// user) is an error, not an empty list.
  package func all() throws(BPSTuneError) -> [Listed] {
    try ids().map { id in Listed(id: id, result: Result { () throws(BPSTuneError) -> Snapshot in try load(id) }) }
  }

  /// Every snapshot file as ``all()`` lists it, each read without its entries: what decisions
  /// about the history read (which apply is in effect, what is settled). JSONDecoder takes
  /// about 0.4 ms to decode a snapshot of 64 queues, most of it the entries, and an apply or
  /// rollback made those decisions on the whole history (up to `--keep-snapshots`, 20, and
  /// more): 230 of the 330 million instructions of an apply and rollback of 64 queues. Each
  /// file's header is read from its copy (``headerAttribute``) where the copy is the content's.
  /// Whoever acts on a snapshot listed so reads it whole first (``whole(_:)``).
  package func headers() throws(BPSTuneError) -> [Listed] {
    try ids().map { id in
      Listed(
        id: id, result: Result { () throws(BPSTuneError) -> Snapshot in try load(id, entries: false) }, whole: false)
    }
  }

  /// A file listed by ``headers()`` read again whole: the snapshot with its entries, or why
  /// it cannot be read or is refused.
  package func whole(_ listed: Listed) -> Listed {
    if listed.whole { return listed }
    let id = listed.id
    return Listed(id: id, result: Result { () throws(BPSTuneError) -> Snapshot in try load(id) })
  }

  /// Every snapshot id, oldest first, from the file names alone.
  package func ids() throws(BPSTuneError) -> [String] {
    let names: [String]
    do {
      names = try Syscalls.listDirectory(snapshotDirectory)
    } catch let e as SystemError where e.errno == .noSuchFileOrDirectory {
      names = []
    } catch let e as SystemError {
      let hint = e.errno == .permissionDenied ? " (snapshots are root's: run it with sudo)" : ""
      throw .stateDirectory(path: snapshotDirectory, message: "cannot read: \(e.reason)\(hint)")
    } catch {
      throw .stateDirectory(path: snapshotDirectory, message: "cannot read")
    }
    return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }

  /// The snapshot a user's reference names: its id, `latest` (the newest snapshot, of either
  /// operation), or any prefix of exactly one id ("20261205T2310" for the one taken then).
  package func resolve(_ reference: String) throws(BPSTuneError) -> String {
    guard Self.isValidID(reference) else { throw .snapshot(path: reference, message: "not a snapshot id") }
    let ids = try ids()
    if reference == "latest" {
      guard let newest = ids.last else { throw .snapshot(path: reference, message: "there are no snapshots") }
      return newest
    }
    if ids.contains(reference) { return reference }
    let matches = ids.filter { $0.hasPrefix(reference) }
    switch matches.count {
    case 1: return matches[0]
    case 0: throw .snapshot(path: path(of: reference), message: "no snapshot has this id or begins with it")
    default:
      let shown = Printable.summary(matches.map { Printable.Item($0) }, limit: 3, separator: ", ")
      throw .snapshot(path: reference, message: "the prefix matches \(matches.count) snapshots: \(shown)")
    }
  }

  package func delete(_ id: String) throws(BPSTuneError) {
    _ = try load(id)
    try remove([id])
  }

  /// Deletes snapshot files already read whole and found sound, with one fsync of the
  /// directory.
  private func remove(_ ids: [String]) throws(BPSTuneError) {
    let paths = ids.map(path(of:))
    do {
      try Syscalls.removeFiles(paths)
    } catch {
      // The file whose unlink failed; for the directory's fsync, the last file deleted.
      let file = paths.first { $0 == (error as? SystemError)?.path } ?? paths.last ?? snapshotDirectory
      throw .stateDirectory(path: file, message: "cannot delete: \(error)")
    }
  }

  /// Deletes what ``SnapshotHistory/expendable(keep:)`` lets go; the caller holds the lock.
  /// Returns the deleted ids. Decided on the files read without their entries (``headers()``);
  /// each file to be deleted is then read whole and the decision made again on what the files
  /// read whole say, until it deletes only files read whole: one that does not read is damaged
  /// and kept, as a damaged file always is, and one whose header copy said otherwise than its
  /// content counts as its content says. The one difference
  /// from reading every file whole keeps more: a rollback of a rollback whose entries are
  /// damaged still counts as what its other fields say, which keeps the history it belongs to
  /// (read whole, that history would go and leave the damaged file restoring a deleted one).
  package func prune(keep: Int) throws(BPSTuneError) -> [String] {
    var listed = try headers()
    while true {
      let doomed = SnapshotHistory(listed).expendable(keep: keep)
      var readNow = false
      for index in listed.indices where !listed[index].whole && doomed.contains(listed[index].id) {
        listed[index] = whole(listed[index])
        readNow = true
      }
      // Decided again on what the files read whole say: a header copy that disagrees with its
      // content (``headerAttribute``) or a damaged file changes the decision, never deletes.
      // Each round reads at least one more file whole, so this ends.
      if readNow { continue }
      // Each one was read whole (in this round or an earlier one), found sound, and still doomed.
      try remove(doomed)
      return doomed
    }
  }

  // MARK: Lock

  /// Takes the lock of the host's kernel settings (`hostLock`, /run/bpstune/lock on a real
  /// host: two runs with different state directories still change the same kernel), then the
  /// state directory's, in that order, waiting up to `timeout` seconds in all for other runs.
  package func lock(
    timeout: Int, hostLock: String? = nil, waiting: (_ path: String, _ holder: String) -> Void = { _, _ in }
  )
    throws(BPSTuneError) -> StateLock
  {
    var notified = false
    // Tenths of a second; a timeout beyond a day is a day (the command line allows no more).
    let deadline = min(max(timeout, 0), 86_400) * 10
    var tries = 0
    var held: [FileDescriptor] = []
    for path in [hostLock, lockPath].compactMap({ $0 }) {
      while true {
        let fd: FileDescriptor?
        do {
          fd = try Syscalls.lockFile(path, wait: false)
        } catch {
          for h in held { try? h.close() }
          throw .stateDirectory(path: path, message: "cannot lock: \(error)")
        }
        if let fd {
          Syscalls.overwrite(fd, "\(Syscalls.processID)\n")
          held.append(fd)
          break
        }
        if tries >= deadline {
          for h in held { try? h.close() }
          throw .locked(path: path, holder: "pid \(Printable.escaped(Self.holder(of: path)))")
        }
        if !notified {
          waiting(path, Self.holder(of: path))
          notified = true
        }
        Syscalls.sleep(milliseconds: 100)
        tries += 1
      }
    }
    return StateLock(descriptors: held)
  }

  /// The process id a lock's holder wrote into it; "?" when it cannot be read.
  static func holder(of path: String) -> String {
    (try? Syscalls.readFile(path, limit: 64, regularOnly: true, followLinks: false)).map {
      String(decoding: $0, as: UTF8.self).trimmingWhitespace
    } ?? "?"
  }

  /// Whether another process holds the lock now. Read-only: a missing lock file is not
  /// created, and one this process cannot open counts as not held.
  package func isLocked() -> Bool {
    do {
      guard let fd = try Syscalls.lockFile(lockPath, wait: false, create: false) else { return true }
      try? fd.close()
      return false
    } catch {
      return false
    }
  }
}

/// The held apply locks (the host's and the state directory's); released by ``release()`` or
/// when the process ends.
package final class StateLock {
  private var descriptors: [FileDescriptor]

  init(descriptors: [FileDescriptor]) { self.descriptors = descriptors }

  package func release() {
    for descriptor in descriptors.reversed() { try? descriptor.close() }
    descriptors = []
  }

  deinit { release() }
}
