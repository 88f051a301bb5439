import BPSTuneCore
import BPSTuneKernel

extension Workflow {
  /// What `bpstune status` found.
  package enum StatusResult {
    /// Nothing is enabled: what is applied in this boot all the same, and the units' state.
    case notEnabled(applied: StatusReport.Applied?, units: [Persistence.UnitState])
    /// The enabled profile, drift now and the rest (``StatusReport``).
    case enabled(StatusReport)
  }

  /// `bpstune status`: every apply in effect in this boot (enabled or not) with how many of its
  /// settings someone else changed since, then the enabled profile, its drift now, the units'
  /// state and what overwrites bpstune later. Read only.
  package func status() throws -> StatusResult {
    // The snapshots read once, for this boot's applies and for enable's own below.
    let history = try? SnapshotHistory.read(store)
    var applied: StatusReport.Applied?
    if let history {
      let inEffect = history.inEffect(boot: host.bootID)
      let restorer = Restorer(executor: executor(host))
      var changed: [String: Int] = [:]
      for s in inEffect {
        changed[s.id] = restorer.plan(s, history: history.snapshots).items.filter { $0.action == .conflict }.count
      }
      applied = StatusReport.Applied(snapshots: inEffect, changed: changed)
    }
    guard let enabled = try EnabledProfile.load(persistence, loader: loader) else {
      return .notEnabled(applied: applied, units: persistence.unitStates())
    }
    let (part, absent) = Persistence.present(enabled.profile, on: host)
    let plan = try Planner().plan(part, on: host)
    var report = StatusReport(
      record: enabled.record, recordPath: persistence.recordPath, plan: plan, absent: absent,
      applies: history.map { $0.unitApplies(boot: host.bootID) }, units: persistence.unitStates(), applied: applied)
    report.contentHash = enabled.fileHash
    report.fileProblem = enabled.fileProblem
    report.pinnedPath = enabled.pinnedPath
    report.pinnedProblem = enabled.pinnedProblem
    return .enabled(report)
  }
}
