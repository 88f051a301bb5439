/// The plan as `diff` and `apply --dry-run` print it (the same for both), in text or JSON.
public enum PlanReport {
  public static func text(_ plan: Plan, style: TextStyle, quiet: Bool = false) -> String {
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

  public static func summary(_ plan: Plan) -> String {
    let reboot = plan.rebootNeeded.count
    return "\(plan.profile): \(plan.entries.count) settings: \(plan.changes.count) to change, "
      + (reboot > 0 ? "\(reboot) need(s) a reboot, " : "")
      + "\(plan.satisfied.count) already set, \(plan.unsupported.count) unsupported"
  }

  /// JSON schema 1 (docs/json.md).
  public struct Document: Encodable {
    var schema = 1
    var command: String
    var profile: String
    var kernel: String
    var settings: [Setting]
    var warnings: [String]
    var summary: Summary
    var snapshot: String?
    var skipped: [String]?
  }

  public struct Setting: Encodable {
    var kind: String
    var interface: String?
    var queue: String?
    var key: String
    var name: String
    var status: String
    var current: String?
    var desired: String
    var kernelCurrent: String?
    var kernelDesired: String
    var reason: String?
    var note: String?
    var origin: String

    enum CodingKeys: String, CodingKey {
      case kind, interface, queue, key, name, status, current, desired, reason, note, origin
      case kernelCurrent = "kernel_current"
      case kernelDesired = "kernel_desired"
    }
  }

  public struct Summary: Encodable {
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

  public static func document(_ plan: Plan, command: String, snapshot: String? = nil, skipped: [String]? = nil)
    -> Document
  {
    Document(
      command: command, profile: plan.profile, kernel: Syscalls.uname().release,
      settings: plan.entries.map { e in
        let s = e.target.semantics
        return Setting(
          kind: e.id.kind, interface: e.id.interface, queue: e.id.queue, key: e.id.key, name: e.id.description,
          status: e.status.rawValue, current: e.current.map { s.display($0, as: e.target.desired) },
          desired: s.display(e.target.desired),
          kernelCurrent: e.current, kernelDesired: e.target.desired, reason: e.reason, note: e.target.note,
          origin: e.target.origin)
      },
      warnings: plan.warnings,
      summary: Summary(
        total: plan.entries.count, change: plan.changes.count, ok: plan.satisfied.count,
        unsupported: plan.unsupported.count, needsReboot: plan.rebootNeeded.count),
      snapshot: snapshot, skipped: skipped)
  }

  public static func json(_ plan: Plan, command: String, snapshot: String? = nil, skipped: [String]? = nil) -> String {
    ReportJSON.encode(document(plan, command: command, snapshot: snapshot, skipped: skipped))
  }
}
