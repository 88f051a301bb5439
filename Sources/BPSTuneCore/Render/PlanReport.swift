import BPSTuneKernel

/// The plan as `diff` and `apply --dry-run` print it (the same for both), in text or JSON.
package enum PlanReport {
  package static func text(_ plan: Plan, style: TextStyle, quiet: Bool = false) -> String {
    var lines: [String] = []
    if !quiet {
      var changes = ValuePairCache<String>()
      func change(_ s: ValueSemantics, _ current: String, _ desired: String) -> String {
        changes.result(s, current, desired) { s.change(from: current, to: desired) }
      }
      lines += Grouping.lines(plan.entries, id: \.id, style: style) { entry, name in
        let s = entry.target.semantics
        switch entry.status {
        case .change:
          return style.change("~ ") + name + style.change(change(s, entry.current ?? "", entry.target.desired))
            + note(entry, style)
        case .ok:
          return style.ok("= ") + name + s.display(entry.target.desired) + note(entry, style)
        case .unsupported:
          return style.bad("! ") + name + style.bad("unsupported: \(entry.reason ?? "")")
        case .reboot:
          return style.change("^ ") + name + style.change(change(s, entry.current ?? "", entry.target.desired))
            + style.dim("  (needs reboot: see bpstune cmdline)")
        }
      }
      for warning in plan.warnings { lines.append(style.change("warning: ") + warning) }
    }
    lines.append(summary(plan))
    return lines.joined(separator: "\n")
  }

  private static func note(_ entry: PlanEntry, _ style: TextStyle) -> String {
    entry.target.note.map { style.dim("  (\($0))") } ?? ""
  }

  package static func summary(_ plan: Plan) -> String {
    let reboot = plan.rebootNeeded.count
    return "\(plan.profile): \(plan.entries.count) settings: \(plan.changes.count) to change, "
      + (reboot > 0 ? "\(reboot) need(s) a reboot, " : "")
      + "\(plan.satisfied.count) already set, \(plan.unsupported.count) unsupported"
  }

  /// JSON schema 1 (docs/json.md): its settings are the shape every report shares
  /// (``SettingJSON``), unchanged since schema 1 but for a `reason` on needs-reboot entries.
  package struct Document: Encodable {
    var schema = 1
    var command: String
    var profile: String
    var kernel: String
    var settings: [SettingJSON]
    var warnings: [String]
    var summary: Summary
    var snapshot: String?
    var skipped: [String]?
  }

  package struct Summary: Encodable {
    var total: Int
    var change: Int
    var ok: Int
    var unsupported: Int
    var needsReboot: Int

    enum CodingKeys: String, CodingKey {
      case total, change, ok, unsupported
      case needsReboot = "needs_reboot"
    }
  }

  package static func document(_ plan: Plan, command: String, snapshot: String? = nil, skipped: [String]? = nil)
    -> Document
  {
    Document(
      command: command, profile: plan.profile, kernel: Syscalls.uname().release,
      settings: plan.entries.map(SettingJSON.init),
      warnings: plan.warnings,
      summary: Summary(
        total: plan.entries.count, change: plan.changes.count, ok: plan.satisfied.count,
        unsupported: plan.unsupported.count, needsReboot: plan.rebootNeeded.count),
      snapshot: snapshot, skipped: skipped)
  }

  package static func json(_ plan: Plan, command: String, snapshot: String? = nil, skipped: [String]? = nil) -> String {
    ReportJSON.encode(document(plan, command: command, snapshot: snapshot, skipped: skipped))
  }
}
