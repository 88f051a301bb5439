import BPSTuneCore
import BPSTuneKernel

/// The enabled record with its profile loaded, as the units and `status` use it.
///
/// The profile is pinned by content: enable records its SHA-256 and keeps a copy with its
/// includes merged (``ResolvedProfile``, `enabled.profile` beside the record). While the file
/// still has the content enabled, it is loaded (its errors name the user's own files); once it
/// was edited, moved or removed, the copy is, and ``notice`` says so: what was enabled is what
/// the boot applies until `bpstune enable --refresh` adopts the edit.
package struct EnabledProfile: Sendable {
  package var record: EnabledRecord
  package var profile: Profile
  /// ``Profile/contentHash`` of the profile file now; nil when it cannot be loaded.
  package var fileHash: String?
  /// Why the profile file cannot be loaded now (moved, removed, no longer valid), if so.
  package var fileProblem: String?
  /// The pinned copy, when ``profile`` was loaded from it.
  package var pinnedPath: String?
  /// What is wrong with the pinned copy while the file itself is used (missing, or changed
  /// since enable): nothing to fall back on once the file changes. `enable --refresh` mends it.
  package var pinnedProblem: String?

  /// Whether the profile file differs from what was enabled (nil: not known, the record
  /// predates hashes and the file loads).
  package var fileChanged: Bool? {
    if fileProblem != nil { return true }
    guard let recorded = record.sha256, let fileHash else { return nil }
    return recorded != fileHash
  }

  /// One line for the units' journal when the pinned copy is applied; nil otherwise.
  package var notice: String? {
    guard let pinnedPath else { return nil }
    let why =
      fileProblem.map { "cannot be loaded (\($0))" }
      ?? "changed since it was enabled (sha256 \(record.sha256.map { String($0.prefix(16)) } ?? "?") -> "
      + "\(fileHash.map { String($0.prefix(16)) } ?? "?"))"
    return "\(record.profile) \(why): using the content enabled, pinned in \(pinnedPath); "
      + "`bpstune enable --refresh` adopts the edit"
  }

  /// Reads the record and loads its profile with its variables. Nil when nothing is enabled;
  /// a record or profile that cannot be used is an error naming the record.
  package static func load(
    _ persistence: Persistence,
    loader: ProfileLoader = ProfileLoader(source: .standard(trust: .forThisProcess(persistent: true)))
  ) throws(BPSTuneError) -> EnabledProfile? {
    guard let record = try EnabledRecord.load(persistence.recordPath) else { return nil }
    return try load(record, recordPath: persistence.recordPath, loader: loader)
  }

  /// The pinned copy's path for the record at `recordPath`.
  package static func pinnedPath(recordPath: String) -> String {
    let directory = recordPath.lastIndex(of: "/").map { String(recordPath[..<$0]) } ?? "."
    return directory + "/" + EnabledRecord.pinnedFileName
  }

  /// Loads the profile of a record already read (the drift check reads the record first, to
  /// know where its metrics go even when the profile cannot be loaded).
  package static func load(
    _ record: EnabledRecord, recordPath: String,
    loader: ProfileLoader = ProfileLoader(source: .standard(trust: .forThisProcess(persistent: true)))
  ) throws(BPSTuneError) -> EnabledProfile {
    var file: Profile?
    var problem: BPSTuneError?
    do {
      file = try loader.load(
        record.profile, overrides: record.variables, interface: record.interface, workingDirectory: "/")
    } catch {
      problem = error
    }
    if let file, record.sha256 == nil || record.sha256 == file.contentHash {
      var enabled = EnabledProfile(record: record, profile: file, fileHash: file.contentHash)
      if let pinnedHash = record.pinnedSHA256 {
        enabled.pinnedProblem = checkPinned(pinnedPath(recordPath: recordPath), sha256: pinnedHash)
      }
      return enabled
    }
    // Edited, moved or gone: the content enabled, from the pinned copy. A record from before
    // copies were kept has none: the file as it is now, or the error.
    guard let pinnedHash = record.pinnedSHA256 else {
      if let file { return EnabledProfile(record: record, profile: file, fileHash: file.contentHash) }
      throw .enabled(
        path: recordPath,
        message: "the enabled profile \(record.profile) cannot be loaded: \(problem.map { "\($0)" } ?? "?")")
    }
    let path = pinnedPath(recordPath: recordPath)
    var pinned: Profile
    do {
      pinned = try loader.load(path, overrides: record.variables, interface: record.interface, workingDirectory: "/")
    } catch {
      throw .enabled(
        path: recordPath,
        message: "the enabled profile \(record.profile) "
          + (problem.map { "cannot be loaded (\($0.reason))" } ?? "changed since enable")
          + " and its pinned copy cannot be loaded either: \(error)")
    }
    guard pinned.contentHash == pinnedHash else {
      throw .enabled(
        path: path,
        message: "the pinned copy of \(record.profile) changed since enable (sha256 \(pinnedHash.prefix(16)) -> "
          + "\(pinned.contentHash.prefix(16))); not applied: `bpstune enable --refresh` or enable the profile again")
    }
    // Named as enabled, with the hash of the content enabled (what snapshots and status cite).
    pinned.name = record.profile
    pinned.contentHash = record.sha256 ?? pinned.contentHash
    return EnabledProfile(
      record: record, profile: pinned, fileHash: file?.contentHash, fileProblem: problem?.reason, pinnedPath: path)
  }

  /// Why the pinned copy at `path` could not stand in for the file: missing, unreadable or
  /// not what enable wrote. Nil when it is as enabled.
  package static func checkPinned(_ path: String, sha256: String) -> String? {
    let bytes: [UInt8]
    do {
      bytes = try Syscalls.readFile(path, limit: ProfileSource.sizeLimit, regularOnly: true, followLinks: false)
    } catch {
      return "the pinned copy \(path) cannot be read: \(BPSTuneError.reason(of: error))"
    }
    let hash = SHA256.hex(bytes)
    return hash == sha256
      ? nil : "the pinned copy \(path) changed since enable (sha256 \(sha256.prefix(16)) -> \(hash.prefix(16)))"
  }

  /// The copy enable keeps of `profile` (loaded by `loader`), checked to load to the same
  /// settings with `record`'s variables: written to a scratch file beside the record, loaded,
  /// compared and removed. Nothing is kept; ``save(_:to:)`` writes it once the apply is done.
  package static func pin(
    _ profile: Profile, record: EnabledRecord, recordPath: String,
    loader: ProfileLoader = ProfileLoader(source: .standard(trust: .forThisProcess(persistent: true)))
  ) throws(BPSTuneError) -> ResolvedProfile {
    let path = pinnedPath(recordPath: recordPath)
    let resolved = try loader.resolved(
      profile.path,
      header: [
        "Pinned by `bpstune enable` at \(record.enabled): \(record.profile) as enabled (sha256 \(profile.contentHash)),",
        "its includes merged: \(profile.files.joined(separator: ", ")).",
        "bpstune.service, bpstune-interface@.service and the drift check apply this copy once the profile",
        "is edited, moved or removed; `bpstune enable --refresh` adopts the edit. Do not edit this copy:",
        "the record (\(EnabledRecord.fileName)) holds its SHA-256, and a changed copy is refused.",
      ])
    guard resolved.contentHash == profile.contentHash else {
      throw .profile(
        file: profile.path, key: "", message: "changed while enable read it; nothing was changed, run enable again")
    }
    let scratch = path + ".check"
    do {
      try Syscalls.makeDirectories(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]), mode: 0o755)
      try Syscalls.writeDurably(scratch, Array(resolved.text.utf8), mode: Syscalls.readableByAll)
    } catch {
      throw .enabled(path: scratch, message: "cannot write: \(BPSTuneError.reason(of: error))")
    }
    defer { try? Syscalls.removeFile(scratch) }
    let again: Profile
    do {
      again = try loader.load(scratch, overrides: record.variables, interface: record.interface, workingDirectory: "/")
    } catch {
      throw .enabled(path: scratch, message: "the pinned copy of \(record.profile) does not load: \(error)")
    }
    guard again.sameSettings(as: profile) else {
      throw .enabled(
        path: scratch, message: "the pinned copy of \(record.profile) does not load to the same settings; not enabled")
    }
    return resolved
  }

  /// Writes the pinned copy durably (0644, root's) and returns its SHA-256 for the record.
  package static func save(_ resolved: ResolvedProfile, recordPath: String) throws(BPSTuneError) -> String {
    let path = pinnedPath(recordPath: recordPath)
    let bytes = Array(resolved.text.utf8)
    do {
      try Syscalls.writeDurably(path, bytes, mode: Syscalls.readableByAll)
    } catch {
      throw .enabled(path: path, message: "cannot write: \(BPSTuneError.reason(of: error))")
    }
    return SHA256.hex(bytes)
  }

  /// Removes the pinned copy; none is not an error.
  package static func removePinned(recordPath: String) throws(BPSTuneError) {
    let path = pinnedPath(recordPath: recordPath)
    do {
      if try Syscalls.fileStatus(path) != nil { try Syscalls.removeFile(path) }
    } catch {
      throw .enabled(path: path, message: "cannot remove: \(BPSTuneError.reason(of: error))")
    }
  }

  /// What `bpstune status` reports about this boot's applies of the enabled profile.
  package struct Applied: Sendable, Encodable {
    package var id: String
    package var trigger: String
    package var created: String
    package var status: String
    package var settings: Int
  }

  /// Restoring a chain of the enabled profile's applies, newest first: a value that a newer
  /// apply of the chain found and recorded as its `before` (drift the drift check re-applied
  /// over, or the value a re-created interface came back with) is one bpstune knows, not
  /// someone else's change, so the older apply restores over it.
  package static func relax(_ plan: Restorer.RestorePlan, knownBefore newer: [Snapshot]) -> Restorer.RestorePlan {
    var known: [SettingID: [Snapshot.Entry]] = [:]
    for snapshot in newer { for entry in snapshot.entries { known[entry.setting, default: []].append(entry) } }
    var relaxed = plan
    for index in relaxed.items.indices where relaxed.items[index].action == .conflict {
      let item = relaxed.items[index]
      let s = item.entry.semantics
      if let current = item.current, known[item.entry.setting]?.contains(where: { s.equal($0.before, current) }) == true
      {
        relaxed.items[index].action = .restore
      }
    }
    return relaxed
  }
}
