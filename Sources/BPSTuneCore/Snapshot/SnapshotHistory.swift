/// What the snapshots say about this host, read once: which applies are in effect, which one a
/// plain `rollback` undoes, what a rollback left unfinished, what is settled and what the
/// retention rule may delete. ``SnapshotStore`` only stores and reads files; every decision
/// about the history is made here.
package struct SnapshotHistory: Sendable {
  /// Every snapshot file, damaged ones included, in id order (oldest first).
  package var listed: [SnapshotStore.Listed]
  /// The snapshots that could be read, in id order.
  package var snapshots: [Snapshot]

  package init(_ listed: [SnapshotStore.Listed]) {
    self.listed = listed
    snapshots = listed.compactMap(\.snapshot)
  }

  /// A history of readable snapshots only (no damaged files to account for).
  package init(snapshots: [Snapshot]) {
    listed = snapshots.map { SnapshotStore.Listed(id: $0.id, result: .success($0)) }
    self.snapshots = snapshots
  }

  /// The store's snapshots, read now.
  package static func read(_ store: SnapshotStore) throws(BPSTuneError) -> SnapshotHistory {
    SnapshotHistory(try store.all())
  }

  /// The history with a snapshot just written (a rollback made in a loop of several).
  package func appending(_ snapshot: Snapshot) -> SnapshotHistory {
    var copy = self
    copy.listed.append(SnapshotStore.Listed(id: snapshot.id, result: .success(snapshot)))
    copy.snapshots.append(snapshot)
    return copy
  }

  // MARK: What is in effect

  /// Ids of snapshots whose effect a complete rollback has undone (and that rollback has not
  /// itself been undone).
  package var undone: Set<String> {
    var memo: [String: Bool] = [:]
    func isUndone(_ id: String, _ depth: Int) -> Bool {
      if let m = memo[id] { return m }
      if depth > snapshots.count { return false }
      let result = snapshots.contains {
        $0.operation == .rollback && $0.restores == id && $0.status == .complete && !isUndone($0.id, depth + 1)
      }
      memo[id] = result
      return result
    }
    return Set(snapshots.map(\.id).filter { isUndone($0, 0) })
  }

  /// Applies not undone yet (interrupted and partially failed ones included), oldest first, of
  /// boot `boot` (nil: every boot).
  package func inEffect(boot: String? = nil) -> [Snapshot] {
    let gone = undone
    return snapshots.sorted { ($0.created, $0.id) < ($1.created, $1.id) }.filter {
      $0.operation == .apply && $0.status != .undone && !gone.contains($0.id) && (boot == nil || $0.boot == boot)
    }
  }

  /// The apply a plain `rollback` undoes: the newest one not undone yet, including
  /// interrupted and partially failed ones, of this boot (`boot`; nil: any boot).
  package func rollbackCandidate(boot: String? = nil) -> Snapshot? {
    inEffect(boot: boot).last
  }

  /// This boot's applies run by `bpstune enable` or bpstune's units (those with a trigger),
  /// still in effect, oldest first: what `disable` rolls back.
  package func unitApplies(boot: String?) -> [Snapshot] {
    inEffect(boot: boot).filter { $0.trigger != nil }
  }

  /// An apply made by hand (no trigger) after the first of `applies`, still in effect: what
  /// `disable` must not roll back from under.
  package func appliedByHand(after applies: [Snapshot], boot: String?) -> Snapshot? {
    guard let first = applies.first else { return nil }
    return inEffect(boot: boot).last { $0.trigger == nil && ($0.created, $0.id) > (first.created, first.id) }
  }

  /// The newest rollback of `source` that did not finish (killed, or failed with its undo
  /// incomplete), when no complete rollback of it came after.
  package func unfinishedRollback(of source: Snapshot) -> Snapshot? {
    let rollbacks = snapshots.filter { $0.operation == .rollback && $0.restores == source.id }
    guard let newest = rollbacks.last, newest.status == .inProgress || newest.status == .failed else { return nil }
    return newest
  }

  // MARK: Retention

  /// How many of the newest snapshots are always kept (`apply --keep-snapshots`).
  package static let defaultKeep = 20

  /// The snapshots the retention rule lets go: never one of the newest `keep` files, never a
  /// damaged one, and never one `rollback` may still need. What goes is whole settled histories:
  /// an apply that failed and was undone (the host is as before), or an apply that a complete
  /// rollback undid, each together with every rollback that restores it or restores one of
  /// those (so no kept rollback refers to a deleted snapshot), and only when all of them are
  /// older than the newest `keep`. Applies still in effect, interrupted or failed runs and
  /// rollbacks that were themselves undone are kept.
  package func expendable(keep: Int) -> [String] {
    let protected = Set(listed.suffix(max(keep, 0)).map(\.id) + listed.filter { $0.error != nil }.map(\.id))
    let gone = undone
    var doomed: [String] = []
    for apply in snapshots where apply.operation == .apply && (apply.status == .undone || gone.contains(apply.id)) {
      // The apply and everything that restores it, transitively.
      var group = [apply.id]
      var index = 0
      while index < group.count {
        let id = group[index]
        group += snapshots.filter { $0.restores == id && !group.contains($0.id) }.map(\.id)
        index += 1
      }
      if group.allSatisfy({ !protected.contains($0) }) { doomed += group }
    }
    return doomed.sorted()
  }
}
