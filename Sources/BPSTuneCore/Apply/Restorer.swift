import BPSTuneKernel

/// `bpstune rollback`: puts back the `before` values of a snapshot. Each setting is resolved
/// anew and compared three ways: already as before (nothing to do), as the snapshot left it
/// (restored), or changed by someone else since (a conflict, not overwritten without --force).
/// The rollback records its own snapshot first, so it can itself be undone.
package struct Restorer {
  package var executor: Executor

  package init(executor: Executor) { self.executor = executor }

  package enum Action: String, Codable, Sendable {
    case restore
    case alreadyRestored = "already-restored"
    case conflict
    case unavailable
    /// The setting's device is not on this host any more (hot-unplugged, deleted, moved to
    /// another network namespace), or its name is another device's now: nothing to restore,
    /// and no reason to hold back the rest.
    case gone
  }

  package struct Item: Sendable {
    package var entry: Snapshot.Entry
    package var current: String?
    package var action: Action
    package var reason: String?
  }

  package struct RestorePlan: Sendable {
    package var source: Snapshot
    /// In restore order; a renamed device's items name it as it is called now.
    package var items: [Item]
    /// Each device of the snapshot that is not where its settings were recorded (renamed,
    /// replaced, moved or deleted), by the name recorded.
    package var devices: [DeviceFate] = []
  }

  /// What restoring `source` would do on this host now. `history` is every readable snapshot
  /// (as ``candidate(force:)`` listed them); when nil the state directory is read here.
  package func plan(_ source: Snapshot, history: [Snapshot]? = nil) -> RestorePlan {
    // System and structure (channels, rings) first, then the rest; within a phase, reverse apply order.
    let ordered = Executor.restoreOrder(source.entries)
    // An interrupted apply, or a failed one whose undo was incomplete (exit 4), may have left a
    // value between the two: a write it had made changed it along (a new NAPI kthread after
    // threaded went on, before its scheduling was written). So may an interrupted or failed
    // rollback of `source` (queues re-created by restored channels, not yet given their
    // values). Rolling such a snapshot back restores every value, as the spec promises.
    let unfinished: String? =
      source.status == .inProgress || source.status == .failed
      ? "left between values by the \(source.status == .failed ? "failed" : "interrupted") \(source.operation.rawValue)"
      : SnapshotHistory(snapshots: history ?? ((try? executor.store.all()) ?? []).compactMap(\.snapshot))
        .unfinishedRollback(of: source).map {
          "left between values by the unfinished rollback \($0.id)"
        }
    // A device is found by the ifindex recorded with its settings, in the snapshot's boot
    // (ifindexes are handed out anew at every boot): under another name after a rename, and
    // told apart from another device given its name since.
    let sameBoot = source.boot == executor.host.bootID
    var devices: [String: DeviceFate] = [:]
    var seen: [String: KernelHost.Whereabouts] = [:]
    var items: [Item] = []
    for recorded in ordered {
      var entry = recorded
      // An earlier boot's ifindex names nothing now (nor in the rollback's own snapshot).
      if !sameBoot { entry.ifindex = nil }
      var renamed: String?
      if let name = recorded.setting.interface {
        let ifindex = entry.ifindex
        let whereabouts = seen[name] ?? executor.host.whereabouts(of: name, ifindex: ifindex)
        seen[name] = whereabouts
        if whereabouts != .here {
          devices[name, default: DeviceFate(name: name, ifindex: ifindex, whereabouts: whereabouts)].settings += 1
        }
        let shown = Printable.escaped(name)
        switch whereabouts {
        case .here: break
        case .renamed(let new):
          entry = entry.on(new)
          renamed = "\(shown) was renamed to \(Printable.escaped(new)) (ifindex \(ifindex ?? 0))"
        case .replaced(let now):
          let reason =
            "\(shown) is another device now (ifindex \(ifindex ?? 0), now \(now)), not the one bpstune changed"
          items.append(Item(entry: entry, current: nil, action: .gone, reason: reason))
          continue
        case .gone:
          items.append(Item(entry: entry, current: nil, action: .gone, reason: "\(shown) is gone"))
          continue
        }
      }
      do {
        let current = try executor.knob(entry.setting).read(entry.setting, on: executor.host)
        let s = entry.semantics
        let between = !s.equal(current, entry.before) && !s.equal(current, entry.after)
        let action: Action =
          s.equal(current, entry.before) ? .alreadyRestored : !between || unfinished != nil ? .restore : .conflict
        let reasons = [renamed, between && action == .restore ? unfinished : nil].compactMap { $0 }
        items.append(
          Item(
            entry: entry, current: current, action: action,
            reason: reasons.isEmpty ? nil : reasons.joined(separator: "; ")))
      } catch {
        if let name = recorded.setting.interface, executor.host.goneInterface(of: entry.setting) != nil {
          // The device went between the look and the read.
          seen[name] = .gone
          var fate =
            devices[name].flatMap { $0.isLost ? $0 : nil }
            ?? DeviceFate(name: name, ifindex: entry.ifindex, whereabouts: .gone)
          fate.settings += 1
          devices[name] = fate
          var gone = entry
          gone.setting.interface = name
          items.append(Item(entry: gone, current: nil, action: .gone, reason: "\(Printable.escaped(name)) is gone"))
        } else {
          items.append(Item(entry: entry, current: nil, action: .unavailable, reason: BPSTuneError.reason(of: error)))
        }
      }
    }
    return RestorePlan(source: source, items: items, devices: devices.keys.sorted().map { devices[$0]! })
  }

  /// What a plain `rollback` restores: the newest apply not undone yet (nil when every apply
  /// is undone), and the damaged snapshot files it passed over with `force`.
  package struct Candidate: Sendable {
    package var snapshot: Snapshot?
    package var passedOver: [SnapshotStore.Listed]
    /// Every readable snapshot, oldest first, for ``plan(_:history:)``: the one chosen and
    /// those newer whole, older ones without their entries.
    package var history: [Snapshot]
    /// Applies not undone yet from earlier boots, which a plain rollback leaves alone.
    package var earlierBoots: [Snapshot] = []
  }

  /// The snapshot a plain `rollback` restores. A snapshot file that cannot be read or is
  /// refused, and is newer than that candidate (or there is none), could be the apply that
  /// should be undone, or a rollback that already undid the candidate: without `force` that is
  /// an error naming it, never a silent guess.
  ///
  /// The choice is made on the files read without their entries (``SnapshotStore/headers()``);
  /// then the snapshot chosen and every file newer than it (or every file, when there is none)
  /// are read whole, and when one of them turns out damaged the choice is made again: what a
  /// rollback acts on, or is refused for, is read whole, and older snapshots speak only through
  /// their other fields (a rollback is always newer than the snapshot it restores).
  package func candidate(force: Bool = false) throws(BPSTuneError) -> Candidate {
    let store = executor.store
    // This boot only: an earlier boot's snapshot describes a kernel that no longer exists.
    let boot = executor.host.bootID
    var listed = try store.headers()
    var read = SnapshotHistory(listed)
    while true {
      let first = read.rollbackCandidate(boot: boot)
      var damaged = false
      // Read whole: the candidate, every file newer than it, and every rollback that names it
      // or a newer snapshot (the clock can step back: a rollback's id is not always newer than
      // what it restores).
      func bears(on file: SnapshotStore.Listed) -> Bool {
        guard let first else { return true }
        return file.id >= first.id || (file.snapshot?.restores).map { $0 >= first.id } ?? false
      }
      for index in listed.indices where !listed[index].whole && bears(on: listed[index]) {
        listed[index] = store.whole(listed[index])
        if listed[index].error != nil { damaged = true }
      }
      read = SnapshotHistory(listed)
      // Done when nothing read whole was damaged and the choice stands: a candidate that
      // changed (a file's whole read said otherwise than its header) is read whole in turn.
      if !damaged && read.rollbackCandidate(boot: boot)?.id == first?.id { break }
    }
    let history = read.snapshots
    let chosen = read.rollbackCandidate(boot: boot)
    let damaged = listed.filter { file in file.error != nil && (chosen.map { file.id > $0.id } ?? true) }
    if let newest = damaged.last, let error = newest.error, !force {
      throw .damagedNewest(
        path: executor.store.path(of: newest.id), reason: error.reason, id: newest.id, more: damaged.count - 1,
        candidate: chosen?.id)
    }
    let earlier = read.inEffect().filter { $0.boot != boot }
    return Candidate(snapshot: chosen, passedOver: damaged, history: history, earlierBoots: earlier)
  }

  /// Why a rollback of this plan is refused before any change (values someone else changed
  /// since, or that cannot be read, without `force`); nil when it may go ahead. `rollback
  /// --dry-run` asks the same and exits as the rollback would.
  package func refusal(of restorePlan: RestorePlan, force: Bool) -> BPSTuneError? {
    let blocked = restorePlan.items.filter { $0.action == .conflict || $0.action == .unavailable }
    guard !blocked.isEmpty && !force else { return nil }
    return .conflicts(
      blocked.map { item in
        let s = item.entry.semantics
        return Printable.Item(
          item.entry.setting,
          item.action == .unavailable
            ? " cannot be read (\(item.reason ?? "?"))"
            : " is \(s.display(item.current ?? "")), bpstune set \(s.display(item.entry.after))")
      })
  }

  /// Restores `source`. The caller holds the state lock. Returns the rollback's own snapshot.
  package func restore(_ restorePlan: RestorePlan, force: Bool) throws(BPSTuneError) -> Snapshot {
    try executor.store.prepare()
    if let refusal = refusal(of: restorePlan, force: force) { throw refusal }
    let writes = restorePlan.items.filter { $0.action == .restore || ($0.action == .conflict && force) }
    var snapshot = executor.newSnapshot(
      .rollback, profile: restorePlan.source.profile, restores: restorePlan.source.id,
      entries: writes.map {
        Snapshot.Entry(
          setting: $0.entry.setting, semantics: $0.entry.semantics, phase: $0.entry.phase,
          before: $0.current ?? "", after: $0.entry.before, ifindex: $0.entry.ifindex)
      })
    do {
      try executor.store.save(snapshot)
    } catch {
      throw error.beforeAnyChange
    }
    // System settings, channels and rings first (the plan is ordered so); channels and rings
    // re-create queues, so the rest is resolved again afterwards, and a queue's setting whose
    // queue is gone is dropped.
    let firstStage = snapshot.entries.prefix { $0.phase.isFirstStage }.count
    guard
      snapshot.entries[..<firstStage].contains(where: { $0.phase == .structure }) && firstStage < snapshot.entries.count
    else {
      try executor.run(&snapshot)
      return snapshot
    }
    try executor.run(&snapshot, to: firstStage, finish: false)
    // Each entry keeps the value it had before this rollback, not what the re-created queue
    // holds now: undoing the rollback re-creates the queues again, and the driver's defaults
    // for that structure are not what was there (virtio-net spreads its IRQs by queue count).
    let rest = executor.afterStructureChange(Array(snapshot.entries[firstStage...]))
    snapshot.entries = Array(snapshot.entries[..<firstStage]) + rest
    do {
      try executor.store.update(snapshot)
    } catch {
      try executor.abandon(&snapshot, done: Array(snapshot.entries[..<firstStage]), failed: nil, message: "\(error)")
    }
    try executor.run(&snapshot, from: firstStage)
    return snapshot
  }
}
