/// The one rendering of an apply's outcome (``Applier/Outcome``), for each command that applies:
/// `apply`, `enable`, and the units' applies (boot, hot-plug, drift), each with its own summary
/// line over the same parts.
package enum OutcomeReport {
  /// Who applied, which decides the summary's words.
  package enum Context {
    /// `bpstune apply`.
    case apply
    /// `bpstune enable PROFILE`.
    case enable(profile: String)
    /// A unit's apply of the enabled profile: `trigger` is "boot", "drift", "interface IF".
    case unit(trigger: String, profile: String)
  }

  /// One line per unsupported setting passed over (`--skip-unsupported`).
  package static func skipped(_ outcome: Applier.Outcome) -> [String] {
    outcome.skipped.map { "skipped (unsupported): \($0.id): \($0.reason ?? "")" }
  }

  /// The skipped settings as JSON gives them ("ID: reason").
  package static func skippedJSON(_ outcome: Applier.Outcome) -> [String] {
    outcome.skipped.map { "\($0.id): \($0.reason ?? "")" }
  }

  /// What was applied, in the words of `context`.
  package static func summary(_ outcome: Applier.Outcome, _ context: Context) -> String {
    switch (context, outcome.snapshot) {
    case (.apply, let snapshot?):
      "applied \(snapshot.entries.count) change(s); snapshot \(snapshot.id) (undo: bpstune rollback)"
    case (.apply, nil):
      "nothing to change"
    case (.enable(let profile), let snapshot?):
      "enabled \(profile): applied \(snapshot.entries.count) change(s), snapshot \(snapshot.id)"
    case (.enable(let profile), nil):
      "enabled \(profile): nothing to change"
    case (.unit(let trigger, let profile), let snapshot?):
      "\(trigger): applied \(profile): \(snapshot.entries.count) change(s), snapshot \(snapshot.id)"
    case (.unit(let trigger, let profile), nil):
      "\(trigger): \(profile) already in place; nothing to change"
    }
  }

  /// The boot parameters the plan left for a reboot, and where to put them; nil when none.
  package static func rebootLine(_ outcome: Applier.Outcome, profile: String) -> String? {
    let reboot = outcome.plan.rebootNeeded
    guard !reboot.isEmpty else { return nil }
    return "not applied: \(reboot.count) boot parameter(s) need a reboot; add to the kernel command line: "
      + reboot.map { $0.target.desired.isEmpty ? "(remove \($0.current ?? ""))" : $0.target.desired }
      .joined(separator: " ") + " (bpstune cmdline \(profile) prints a GRUB drop-in)"
  }
}
