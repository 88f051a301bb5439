/// Carries out a snapshot's entries on the host, the one path every write takes: write each
/// `after` value in order, read it back and compare by meaning; on any failure restore the
/// `before` values in reverse order, and record the outcome in the snapshot.
public struct Executor {
  public let host: KernelHost
  public let knobs: [any Knob]
  public let store: SnapshotStore
  /// Told about each write ("-v").
  public var log: (String) -> Void = { _ in }

  public init(host: KernelHost, knobs: [any Knob], store: SnapshotStore) {
    self.host = host
    self.knobs = knobs
    self.store = store
  }

  func knob(_ id: SettingID) throws(BPSTuneError) -> any Knob {
    guard let knob = KnobRegistry.knob(forKind: id.kind, in: knobs) else {
      throw .invalidPlan(setting: id.description, message: "unknown kind \(id.kind)")
    }
    return knob
  }

  /// Runs the entries of a snapshot that is already on disk (status in-progress). On success the
  /// status is complete, or still in-progress when the completion could not be recorded.
  public func run(_ snapshot: inout Snapshot) throws(BPSTuneError) {
    var done: [Snapshot.Entry] = []
    var failure: (entry: Snapshot.Entry, message: String)?
    for entry in snapshot.entries {
      let display = entry.semantics.display(entry.after)
      do {
        let knob = try knob(entry.setting)
        log("\(entry.setting): \(entry.semantics.display(entry.before)) -> \(display)")
        do {
          try knob.write(entry.setting, entry.after, on: host)
        } catch {
          failure = (entry, "the kernel refused \(display): \(Self.reason(error))")
          break
        }
        done.append(entry)
        let back = try knob.read(entry.setting, on: host)
        if !entry.semantics.equal(back, entry.after) {
          failure = (entry, "the kernel kept \(entry.semantics.display(back)) instead of \(display)")
          break
        }
      } catch {
        failure = (entry, Self.reason(error))
        break
      }
    }
    guard let failure else {
      // Every change is made. If recording completion fails, the snapshot on disk stays
      // in-progress: shown as interrupted, still a full record for rollback. Reporting exit 2
      // ("nothing was changed") here would be false, so the status stays in-progress instead.
      var done = snapshot
      done.status = .complete
      done.finished = SnapshotStore.timestamp()
      if (try? store.save(done)) != nil { snapshot = done }
      return
    }
    // The failed write may have half-happened; undo it too when it differs from before.
    var toUndo = done
    if !done.contains(where: { $0.setting == failure.entry.setting }) { toUndo.append(failure.entry) }
    let left = undo(toUndo)
    snapshot.status = left.isEmpty ? .undone : .failed
    snapshot.leftChanged = left.isEmpty ? nil : left
    snapshot.finished = SnapshotStore.timestamp()
    try? store.save(snapshot)
    if left.isEmpty {
      throw .failedAndUndone(setting: failure.entry.setting.description, message: failure.message, undone: done.count)
    }
    throw .failedPartially(setting: failure.entry.setting.description, message: failure.message, left: left)
  }

  /// Restores `before` values in reverse order; returns each setting left changed.
  func undo(_ entries: [Snapshot.Entry]) -> [String] {
    var left: [String] = []
    for entry in entries.reversed() {
      do {
        let knob = try knob(entry.setting)
        let now = try knob.read(entry.setting, on: host)
        if entry.semantics.equal(now, entry.before) { continue }
        log("undo \(entry.setting): \(entry.semantics.display(now)) -> \(entry.semantics.display(entry.before))")
        try knob.write(entry.setting, entry.before, on: host)
        let back = try knob.read(entry.setting, on: host)
        if !entry.semantics.equal(back, entry.before) {
          left.append(
            "\(entry.setting) is \(entry.semantics.display(back)), was \(entry.semantics.display(entry.before))")
        }
      } catch {
        left.append("\(entry.setting) (\(Self.reason(error))), was \(entry.semantics.display(entry.before))")
      }
    }
    return left
  }

  static func reason(_ error: any Error) -> String {
    switch error {
    case let e as SystemError: e.reason
    case let e as BPSTuneError: e.description
    default: "\(error)"
    }
  }

  /// A new snapshot record for this host.
  func newSnapshot(
    _ operation: Snapshot.Operation, profile: String?, restores: String?, entries: [Snapshot.Entry]
  ) -> Snapshot {
    let names = Syscalls.uname()
    return Snapshot(
      schema: Snapshot.schemaVersion, id: store.newID(operation), operation: operation, profile: profile,
      restores: restores, created: SnapshotStore.timestamp(), finished: nil, status: .inProgress,
      pid: Syscalls.processID, hostname: names.node, kernel: names.release, entries: entries, leftChanged: nil)
  }
}
