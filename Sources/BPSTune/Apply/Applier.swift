/// `bpstune apply`: plan under the lock, refuse what this host cannot take, write the
/// snapshot durably, then let the ``Executor`` make the changes.
public struct Applier {
  public var executor: Executor
  public var planner: Planner

  public init(executor: Executor) {
    self.executor = executor
    self.planner = Planner(knobs: executor.knobs)
  }

  public struct Outcome {
    public var plan: Plan
    /// The snapshot written; nil when there was nothing to change.
    public var snapshot: Snapshot?
    /// Unsupported settings skipped with --skip-unsupported.
    public var skipped: [PlanEntry]
  }

  /// Applies a profile. The caller holds the state lock.
  public func apply(_ profile: Profile, skipUnsupported: Bool) throws(BPSTuneError) -> Outcome {
    try executor.store.prepare()
    let plan = try planner.plan(profile, on: executor.host)
    let unsupported = plan.unsupported
    if !unsupported.isEmpty && !skipUnsupported {
      throw .unsupportedSettings(unsupported.map { "\($0.id): \($0.reason ?? "unsupported")" })
    }
    let changes = plan.changes
    guard !changes.isEmpty else { return Outcome(plan: plan, snapshot: nil, skipped: unsupported) }
    var snapshot = executor.newSnapshot(
      .apply, profile: profile.name, restores: nil,
      entries: changes.map {
        Snapshot.Entry(
          setting: $0.id, semantics: $0.target.semantics, phase: $0.target.phase, before: $0.current ?? "",
          after: $0.target.desired)
      })
    try executor.store.save(snapshot)
    try executor.run(&snapshot)
    return Outcome(plan: plan, snapshot: snapshot, skipped: unsupported)
  }
}
