/// The enabled record with its profile loaded, as the units and `status` use it.
public struct EnabledProfile: Sendable {
  public var record: EnabledRecord
  public var profile: Profile

  /// Reads the record and loads its profile with its variables. Nil when nothing is enabled;
  /// a record or profile that cannot be used is an error naming the record.
  public static func load(
    _ persistence: Persistence,
    loader: ProfileLoader = ProfileLoader(source: .standard(trust: .forThisProcess(persistent: true)))
  ) throws(BPSTuneError) -> EnabledProfile? {
    guard let record = try EnabledRecord.load(persistence.recordPath) else { return nil }
    return try load(record, recordPath: persistence.recordPath, loader: loader)
  }

  /// Loads the profile of a record already read (the drift check reads the record first, to
  /// know where its metrics go even when the profile cannot be loaded).
  public static func load(
    _ record: EnabledRecord, recordPath: String,
    loader: ProfileLoader = ProfileLoader(source: .standard(trust: .forThisProcess(persistent: true)))
  ) throws(BPSTuneError) -> EnabledProfile {
    do {
      let profile = try loader.load(
        record.profile, overrides: record.variables, interface: record.interface, workingDirectory: "/")
      return EnabledProfile(record: record, profile: profile)
    } catch {
      throw .enabled(
        path: recordPath, message: "the enabled profile \(record.profile) cannot be loaded: \(error)")
    }
  }

  /// What `bpstune status` reports about this boot's applies of the enabled profile.
  public struct Applied: Sendable, Encodable {
    public var id: String
    public var trigger: String
    public var created: String
    public var status: String
    public var settings: Int
  }

  /// Restoring a chain of the enabled profile's applies, newest first: a value that a newer
  /// apply of the chain found and recorded as its `before` (drift the drift check re-applied
  /// over, or the value a re-created interface came back with) is one bpstune knows, not
  /// someone else's change, so the older apply restores over it.
  public static func relax(_ plan: Restorer.RestorePlan, knownBefore newer: [Snapshot]) -> Restorer.RestorePlan {
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

  /// This boot's applies run by the units or by enable, still in effect, oldest first.
  public static func applies(in history: [Snapshot], boot: String?) -> [Snapshot] {
    SnapshotStore.inEffect(in: history, boot: boot).filter { $0.trigger != nil }
  }
}
