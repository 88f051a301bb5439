import BPSTuneKernel
import FoundationEssentials

/// `bpstune verify`: one result per setting with expected, actual and supported, as text,
/// JSON, JUnit XML or Prometheus node_exporter textfile metrics.
package enum VerifyReport {
  package enum Format: String, CaseIterable, Sendable {
    case text, json, junit, prometheus
  }

  /// JSON schema 2: the settings as diff lists them (``SettingJSON``), so that a setting reads
  /// the same in diff, verify and status. (Schema 1 listed `results` with `expected`, `actual`,
  /// `supported` and the status `drift` for both `change` and `needs-reboot`.)
  struct Document: Encodable {
    var schema = 2
    var command = "verify"
    var profile: String
    var kernel: String
    var match: Bool
    var settings: [SettingJSON]
    var summary: Summary
  }

  struct Summary: Encodable {
    var total: Int
    var ok: Int
    var drift: Int
    var unsupported: Int
  }

  /// Whether the host passes: nothing drifted and, unless `ignoreUnsupported` (tuned's
  /// --ignore-missing), nothing the profile asks for is beyond this host (a misspelt sysctl is
  /// unsupported: it must fail CI, not be skipped).
  package static func passes(_ plan: Plan, ignoreUnsupported: Bool) -> Bool {
    !plan.differs && (ignoreUnsupported || plan.unsupported.isEmpty)
  }

  /// `quiet`: text lists only what fails (and the summary line), as CI logs want it.
  package static func render(
    _ plan: Plan, format: Format, style: TextStyle, ignoreUnsupported: Bool = false, quiet: Bool = false
  ) -> String {
    let entries = plan.entries
    let drift = entries.filter { $0.status == .change || $0.status == .reboot }.count
    let unsupported = entries.filter { $0.status == .unsupported }.count
    let passes = passes(plan, ignoreUnsupported: ignoreUnsupported)
    // Unsupported settings fail the check unless ignored: JUnit failures, not skips.
    let failures = drift + (ignoreUnsupported ? 0 : unsupported)
    switch format {
    case .text:
      let shown = quiet ? plan.entries.filter { $0.status != .ok } : plan.entries
      var lines = Grouping.lines(shown, id: \.id, style: style) { e, name in
        let s = e.target.semantics
        switch e.status {
        case .ok: return style.ok("ok     ") + name + s.display(e.target.desired)
        case .change:
          return style.bad("DRIFT  ") + name
            + "expected \(s.display(e.target.desired)), actual \(s.display(e.current ?? "", as: e.target.desired))"
        case .unsupported:
          return (ignoreUnsupported ? style.change("unsup  ") : style.bad("UNSUP  ")) + name
            + "expected \(s.display(e.target.desired)); \(e.reason ?? "")"
        case .reboot:
          return style.bad("DRIFT  ") + name
            + "expected \(s.display(e.target.desired)), actual \(s.display(e.current ?? ""))"
            + style.dim("  (needs reboot: the kernel was booted without it)")
        }
      }
      lines.append(
        "\(plan.profile): \(passes ? "matches" : "differs"): \(entries.count - drift - unsupported) ok, \(drift) drift, \(unsupported) unsupported"
          + (unsupported == 0 ? "" : ignoreUnsupported ? " (ignored)" : " (--ignore-unsupported to pass them)")
      )
      return lines.joined(separator: "\n")
    case .json:
      return ReportJSON.encode(
        Document(
          profile: plan.profile, kernel: Syscalls.uname().release, match: passes,
          settings: entries.map(SettingJSON.init),
          summary: Summary(
            total: entries.count, ok: entries.count - drift - unsupported, drift: drift, unsupported: unsupported))
      )
    case .junit:
      var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      let skipped = ignoreUnsupported ? unsupported : 0
      x +=
        "<testsuites name=\"bpstune verify\" tests=\"\(entries.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\">\n"
      x +=
        "  <testsuite name=\"\(ConfigText.xml(plan.profile))\" hostname=\"\(ConfigText.xml(Syscalls.uname().node))\" tests=\"\(entries.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\">\n"
      for e in entries {
        let classname = e.id.interface.map { "interface.\($0)" } ?? "system"
        x += "    <testcase classname=\"\(ConfigText.xml(classname))\" name=\"\(ConfigText.xml(e.id.description))\""
        let s = e.target.semantics
        switch e.status {
        case .ok: x += "/>\n"
        case .change, .reboot:
          let actual = e.current.map { s.display($0, as: e.target.desired) } ?? ""
          x +=
            ">\n      <failure message=\"\(ConfigText.xml("expected \(s.display(e.target.desired)), actual \(actual)"))\"/>\n    </testcase>\n"
        case .unsupported:
          let element = ignoreUnsupported ? "skipped" : "failure"
          x +=
            ">\n      <\(element) message=\"\(ConfigText.xml("unsupported: \(e.reason ?? "")"))\"/>\n    </testcase>\n"
        }
      }
      x += "  </testsuite>\n</testsuites>"
      return x
    case .prometheus:
      return prometheus(plan, profile: profileLabel(plan.profile))
    }
  }

  // MARK: node_exporter textfile metrics

  /// The `profile` label: a profile's name, as `bpstune profiles` lists it; for a path, the
  /// file's name without ".profile" (not a path that differs from host to host).
  package static func profileLabel(_ reference: String) -> String {
    guard ProfileSource.isPath(reference) else { return reference }
    let base = reference.split(separator: "/").last.map(String.init) ?? reference
    return base.hasSuffix(".profile") ? String(base.dropLast(".profile".count)) : base
  }

  /// The check's metrics, by node_exporter's textfile conventions: `bpstune_verify_success`
  /// 1 (the check ran; drift is counted apart), the last run's time, counts, and per setting
  /// `bpstune_setting_drift` (1 = differs) and `bpstune_setting_supported`, labelled with the
  /// profile's name, the interface ("" for system settings) and the setting within it.
  static func prometheus(_ plan: Plan, profile: String) -> String {
    let p = label(profile)
    let entries = plan.entries
    var m = header(profile: p, success: 1, reason: nil)
    m += [
      "# HELP bpstune_verify_drift Settings that differ from the profile.",
      "# TYPE bpstune_verify_drift gauge",
      "bpstune_verify_drift{profile=\"\(p)\"} \(entries.filter { $0.status == .change || $0.status == .reboot }.count)",
      "# HELP bpstune_verify_unsupported Settings of the profile this host cannot take.",
      "# TYPE bpstune_verify_unsupported gauge",
      "bpstune_verify_unsupported{profile=\"\(p)\"} \(entries.filter { $0.status == .unsupported }.count)",
      "# HELP bpstune_setting_drift 1 when the setting differs from the profile, 0 when it has the profile's value.",
      "# TYPE bpstune_setting_drift gauge",
    ]
    func labels(_ e: PlanEntry) -> String {
      "profile=\"\(p)\",interface=\"\(label(e.id.interface ?? ""))\",setting=\"\(label(e.id.localName))\""
    }
    for e in entries where e.status != .unsupported {
      m.append("bpstune_setting_drift{\(labels(e))} \(e.status == .ok ? 0 : 1)")
    }
    m += [
      "# HELP bpstune_setting_supported 1 when this host can take the setting.",
      "# TYPE bpstune_setting_supported gauge",
    ]
    for e in entries { m.append("bpstune_setting_supported{\(labels(e))} \(e.status == .unsupported ? 0 : 1)") }
    return m.joined(separator: "\n")
  }

  /// The metrics of a check that could not run (the enabled profile moved, a record that
  /// cannot be read): success 0 with the reason, and the time, so that an alert fires rather
  /// than the last good file reading as healthy.
  package static func prometheusFailure(profile: String, reason: String) -> String {
    header(profile: label(profile), success: 0, reason: reason).joined(separator: "\n")
  }

  private static func header(profile p: String, success: Int, reason: String?) -> [String] {
    [
      "# HELP bpstune_verify_success 1 when the last check ran (drift is bpstune_verify_drift), 0 when it could not; reason says why.",
      "# TYPE bpstune_verify_success gauge",
      "bpstune_verify_success{profile=\"\(p)\"\(reason.map { ",reason=\"\(label(Printable.escaped($0)))\"" } ?? "")} \(success)",
      "# HELP bpstune_verify_last_run_timestamp_seconds When the last check ran (Unix time).",
      "# TYPE bpstune_verify_last_run_timestamp_seconds gauge",
      "bpstune_verify_last_run_timestamp_seconds{profile=\"\(p)\"} \(Syscalls.now().seconds)",
    ]
  }

  /// A Prometheus label value: control characters written as escapes first (an interface name
  /// may hold DEL or C1), then the exposition format's own escapes for `\\`, `"` and newline.
  static func label(_ s: String) -> String {
    Printable.escaped(s).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n")
  }
}
