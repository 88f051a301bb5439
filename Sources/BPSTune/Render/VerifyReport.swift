import FoundationEssentials

/// `bpstune verify`: one result per setting with expected, actual and supported, as text,
/// JSON, JUnit XML or Prometheus node_exporter textfile metrics.
public enum VerifyReport {
  public enum Format: String, CaseIterable, Sendable {
    case text, json, junit, prometheus
  }

  struct Result: Encodable {
    var name: String
    var kind: String
    var interface: String?
    var queue: String?
    var key: String
    var status: String
    var expected: String
    var actual: String?
    var supported: Bool
    var reason: String?
  }

  struct Document: Encodable {
    var schema = 1
    var command = "verify"
    var profile: String
    var kernel: String
    var match: Bool
    var results: [Result]
    var summary: Summary
  }

  struct Summary: Encodable {
    var total: Int
    var ok: Int
    var drift: Int
    var unsupported: Int
  }

  static func results(_ plan: Plan) -> [Result] {
    plan.entries.map { e in
      let s = e.target.semantics
      return Result(
        name: e.id.description, kind: e.id.kind, interface: e.id.interface, queue: e.id.queue, key: e.id.key,
        status: e.status == .change || e.status == .reboot ? "drift" : e.status.rawValue,
        expected: s.display(e.target.desired), actual: e.current.map { s.display($0, as: e.target.desired) },
        supported: e.status != .unsupported,
        reason: e.status == .reboot ? "boot parameter: needs a reboot with it on the kernel command line" : e.reason)
    }
  }

  /// Whether the host passes: nothing drifted and, unless `ignoreUnsupported` (tuned's
  /// --ignore-missing), nothing the profile asks for is beyond this host (a misspelt sysctl is
  /// unsupported: it must fail CI, not be skipped).
  public static func passes(_ plan: Plan, ignoreUnsupported: Bool) -> Bool {
    !plan.differs && (ignoreUnsupported || plan.unsupported.isEmpty)
  }

  public static func render(_ plan: Plan, format: Format, style: TextStyle, ignoreUnsupported: Bool = false)
    -> String
  {
    let rs = results(plan)
    let drift = rs.filter { $0.status == "drift" }.count
    let unsupported = rs.filter { !$0.supported }.count
    let passes = passes(plan, ignoreUnsupported: ignoreUnsupported)
    // Unsupported settings fail the check unless ignored: JUnit failures, not skips.
    let failures = drift + (ignoreUnsupported ? 0 : unsupported)
    switch format {
    case .text:
      var lines = Grouping.lines(plan.entries, id: \.id, style: style) { e, name in
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
        "\(plan.profile): \(passes ? "matches" : "differs"): \(rs.count - drift - unsupported) ok, \(drift) drift, \(unsupported) unsupported"
          + (unsupported == 0 ? "" : ignoreUnsupported ? " (ignored)" : " (--ignore-unsupported to pass them)")
      )
      return lines.joined(separator: "\n")
    case .json:
      return ReportJSON.encode(
        Document(
          profile: plan.profile, kernel: Syscalls.uname().release, match: passes, results: rs,
          summary: Summary(total: rs.count, ok: rs.count - drift - unsupported, drift: drift, unsupported: unsupported))
      )
    case .junit:
      var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      let skipped = ignoreUnsupported ? unsupported : 0
      x +=
        "<testsuites name=\"bpstune verify\" tests=\"\(rs.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\">\n"
      x +=
        "  <testsuite name=\"\(xml(plan.profile))\" hostname=\"\(xml(Syscalls.uname().node))\" tests=\"\(rs.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\">\n"
      for r in rs {
        let classname = r.interface.map { "interface.\($0)" } ?? "system"
        x += "    <testcase classname=\"\(xml(classname))\" name=\"\(xml(r.name))\""
        switch r.status {
        case "ok": x += "/>\n"
        case "drift":
          x +=
            ">\n      <failure message=\"\(xml("expected \(r.expected), actual \(r.actual ?? "")"))\"/>\n    </testcase>\n"
        default:
          let element = ignoreUnsupported ? "skipped" : "failure"
          x += ">\n      <\(element) message=\"\(xml("unsupported: \(r.reason ?? "")"))\"/>\n    </testcase>\n"
        }
      }
      x += "  </testsuite>\n</testsuites>"
      return x
    case .prometheus:
      let p = label(plan.profile)
      var m: [String] = [
        "# HELP bpstune_setting_match 1 when the setting has the profile's value, 0 when it differs.",
        "# TYPE bpstune_setting_match gauge",
      ]
      for r in rs where r.supported {
        m.append(
          "bpstune_setting_match{profile=\"\(p)\",setting=\"\(label(r.name))\",interface=\"\(label(r.interface ?? ""))\"} \(r.status == "ok" ? 1 : 0)"
        )
      }
      m += [
        "# HELP bpstune_setting_supported 1 when this host can take the setting.",
        "# TYPE bpstune_setting_supported gauge",
      ]
      for r in rs {
        m.append(
          "bpstune_setting_supported{profile=\"\(p)\",setting=\"\(label(r.name))\",interface=\"\(label(r.interface ?? ""))\"} \(r.supported ? 1 : 0)"
        )
      }
      m += [
        "# HELP bpstune_verify_drift Settings that differ from the profile.",
        "# TYPE bpstune_verify_drift gauge",
        "bpstune_verify_drift{profile=\"\(p)\"} \(drift)",
        "# HELP bpstune_verify_unsupported Settings this host cannot take.",
        "# TYPE bpstune_verify_unsupported gauge",
        "bpstune_verify_unsupported{profile=\"\(p)\"} \(unsupported)",
        "# HELP bpstune_verify_timestamp_seconds When the verification ran.",
        "# TYPE bpstune_verify_timestamp_seconds gauge",
        "bpstune_verify_timestamp_seconds{profile=\"\(p)\"} \(Syscalls.now().seconds)",
      ]
      return m.joined(separator: "\n")
    }
  }

  static func xml(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default:
        if c.value < 0x20 && c != "\t" { out += "&#\(c.value);" } else { out.unicodeScalars.append(c) }
      }
    }
    return out
  }

  static func label(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n")
  }
}
