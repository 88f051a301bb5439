import BPSTuneCore
import BPSTuneKernel

extension Workflow {
  /// What the drift check found.
  package enum DriftCheckResult: Equatable {
    /// Nothing is enabled.
    case nothingEnabled
    /// The host matches the enabled profile.
    case matches
    /// Settings drifted; `reapplied` when the record asks for them to be put back and they were.
    case drifted(count: Int, reapplied: Bool)
  }

  /// `bpstune persist check` (bpstune-drift.service): verifies the enabled profile, writes the
  /// node_exporter textfile metrics atomically (also when the check itself fails: success 0,
  /// the reason, the time; never the last good file left in place reading as healthy), says
  /// each drifting setting, and re-applies only when enabled with `--reapply-on-drift`.
  package func driftCheck(lockTimeout: Int) throws -> DriftCheckResult {
    StopReport.install(doing: "reading the enabled profile")
    let record: EnabledRecord?
    do {
      record = try EnabledRecord.load(persistence.recordPath)
    } catch {
      // A record that cannot be read still makes the check fail loudly where it is watched.
      try? Self.writeMetrics(
        VerifyReport.prometheusFailure(profile: "unknown", reason: error.description),
        directory: EnabledRecord.defaultMetricsDirectory)
      throw error
    }
    guard let record else {
      say("nothing is enabled")
      return .nothingEnabled
    }
    let enabled: EnabledProfile
    let plan: Plan
    let part: Profile
    let absent: [String]
    do {
      enabled = try EnabledProfile.load(record, recordPath: persistence.recordPath, loader: loader)
      sayAboutThePinnedCopy(enabled)
      (part, absent) = Persistence.present(enabled.profile, on: host)
      StopReport.doing("reading the current values to check \(enabled.record.profile)")
      plan = try Planner().plan(part, on: host)
    } catch {
      // The enabled profile moved, or this host can no longer take it.
      try? Self.writeMetrics(
        VerifyReport.prometheusFailure(profile: VerifyReport.profileLabel(record.profile), reason: "\(error)"),
        directory: record.metricsDirectory)
      throw error
    }
    let metrics = record.metricsDirectory + "/" + Persistence.metricsFile
    try Self.writeMetrics(
      VerifyReport.render(plan, format: .prometheus, style: TextStyle(color: false)), directory: record.metricsDirectory
    )
    for name in absent { say("\(name): not checked; bpstune-interface@.service tunes it once it is there and up") }
    for entry in plan.rebootNeeded {
      say(
        "needs reboot: boot parameter \(entry.id) is \(entry.target.semantics.display(entry.current ?? "")), "
          + "profile \(enabled.record.profile) wants \(entry.target.semantics.display(entry.target.desired))")
    }
    let drift = plan.changes
    for entry in drift {
      let s = entry.target.semantics
      say(
        "drift: \(entry.id) is \(s.display(entry.current ?? "?", as: entry.target.desired)), "
          + "profile \(enabled.record.profile) sets \(s.display(entry.target.desired))")
    }
    guard !drift.isEmpty else {
      say("no drift: \(plan.satisfied.count) setting(s) match \(enabled.record.profile) (\(metrics))")
      return .matches
    }
    say("\(drift.count) setting(s) drifted from \(enabled.record.profile) (\(metrics))")
    if enabled.record.reapplyOnDrift {
      try applyEnabled(part, enabled.record, trigger: "drift", lockTimeout: lockTimeout)
      return .drifted(count: drift.count, reapplied: true)
    }
    return .drifted(count: drift.count, reapplied: false)
  }

  /// Writes the metrics file atomically (a reader sees the old file or the new, whole).
  static func writeMetrics(_ text: String, directory: String) throws(BPSTuneError) {
    let metrics = directory + "/" + Persistence.metricsFile
    do {
      try Syscalls.makeDirectories(directory, mode: 0o755)
      try Syscalls.writeDurably(metrics, Array((text + "\n").utf8), mode: Syscalls.readableByAll)
    } catch {
      throw BPSTuneError.enabled(path: metrics, message: "cannot write the metrics: \(error)")
    }
  }
}
