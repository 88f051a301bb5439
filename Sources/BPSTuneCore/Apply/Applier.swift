import BPSTuneKernel

/// `bpstune apply`: plan under the lock, refuse what this host cannot take, write the
/// snapshot durably, then let the ``Executor`` make the changes.
package struct Applier {
  package var executor: Executor
  package var planner: Planner

  package init(executor: Executor) {
    self.executor = executor
    self.planner = Planner(knobs: executor.knobs)
  }

  package struct Outcome {
    package var plan: Plan
    /// The snapshot written; nil when there was nothing to change.
    package var snapshot: Snapshot?
    /// Unsupported settings skipped with --skip-unsupported.
    package var skipped: [PlanEntry]
  }

  /// Applies a profile. The caller holds the state lock.
  ///
  /// Channels and rings re-create queues, IRQs and NAPIs, so when the plan changes them they are
  /// written first, in a stage of their own; the rest of the profile is then planned again on
  /// the re-created queues and appended to the same snapshot before it is written.
  package func apply(_ profile: Profile, skipUnsupported: Bool) throws(BPSTuneError) -> Outcome {
    try executor.store.prepare()
    let plan = try planner.plan(profile, on: executor.host)
    let unsupported = plan.unsupported
    if !unsupported.isEmpty && !skipUnsupported {
      throw .unsupportedSettings(unsupported.map { Printable.Item($0.id, ": \($0.reason ?? "unsupported")") })
    }
    let changes = plan.changes
    guard !changes.isEmpty else { return Outcome(plan: plan, snapshot: nil, skipped: unsupported) }
    let firstStage = changes.filter { $0.target.phase.isFirstStage }
    let twoStages =
      firstStage.contains { $0.target.phase == .structure } && plan.entries.contains { !$0.target.phase.isFirstStage }
    var snapshot = executor.newSnapshot(
      .apply, profile: profile.name, restores: nil, entries: (twoStages ? firstStage : changes).map(Self.entry),
      loaded: profile)
    do {
      try executor.store.save(snapshot)
    } catch {
      throw error.beforeAnyChange
    }
    guard twoStages else {
      try executor.run(&snapshot)
      return Outcome(plan: plan, snapshot: snapshot, skipped: unsupported)
    }
    try executor.run(&snapshot, finish: false)
    executor.host.forget()
    let replanned: Plan
    do {
      replanned = try planner.plan(profile, on: executor.host)
    } catch {
      try executor.abandon(&snapshot, done: snapshot.entries, failed: nil, message: "planning again: \(error)")
    }
    let known = Set(unsupported.map(\.id))
    let late = replanned.unsupported.filter { !known.contains($0.id) }
    if !late.isEmpty && !skipUnsupported {
      let items = late.map { Printable.Item($0.id, ": \($0.reason ?? "unsupported")") }
      // -v: every one of them; the message summarizes a long list.
      for item in items { executor.log("unsupported after the change of channels or rings: \(item.text)") }
      try executor.abandon(
        &snapshot, done: snapshot.entries, failed: nil,
        message: "after the change of channels or rings, this host cannot take \(late.count) setting(s): "
          + Printable.summary(items, limit: 5, more: " (-v lists every one)"))
    }
    // A setting that existed before the first stage records the value it had then: that is
    // what the host returns to once rollback restores channels and rings, not the driver's
    // default for the new structure (virtio-net spreads its queue IRQs by queue count, so
    // queue 0's IRQ goes from CPU 0 to CPUs 0-1 when 4 queues become 2).
    let original = Dictionary(plan.entries.map { ($0.id, $0.current) }, uniquingKeysWith: { first, _ in first })
    let start = snapshot.entries.count
    snapshot.entries += executor.identified(
      replanned.changes.filter { !$0.target.phase.isFirstStage }.map { change in
        var entry = Self.entry(change)
        if let before = original[change.id] ?? nil { entry.before = before }
        return entry
      })
    do {
      try executor.store.update(snapshot)
    } catch {
      try executor.abandon(&snapshot, done: Array(snapshot.entries[..<start]), failed: nil, message: "\(error)")
    }
    try executor.run(&snapshot, from: start)
    let final = Plan(
      profile: plan.profile,
      entries: plan.entries.filter { $0.target.phase.isFirstStage }
        + replanned.entries.filter { !$0.target.phase.isFirstStage },
      warnings: plan.warnings)
    return Outcome(plan: final, snapshot: snapshot, skipped: final.unsupported)
  }

  static func entry(_ change: PlanEntry) -> Snapshot.Entry {
    Snapshot.Entry(
      setting: change.id, semantics: change.target.semantics, phase: change.target.phase,
      before: change.current ?? "", after: change.target.desired)
  }
}
