import BPSTuneCore

/// `bpstune status`: the enabled profile and its options, this boot's applies of it, drift now,
/// the units' state, and what will overwrite bpstune later.
package struct StatusReport {
  package var record: EnabledRecord
  package var recordPath: String
  package var plan: Plan
  /// Interfaces the profile names that are absent or down, each with why ("eth1 (down)").
  package var absent: [String]
  /// This boot's applies by enable and the units; nil when the snapshots cannot be read.
  package var applies: [Snapshot]?
  package var units: [Persistence.UnitState]
  /// Every apply in effect in this boot, enable's or not.
  package var applied: Applied?
  /// SHA-256 of the enabled profile's content now; differs from the record's when the file
  /// was edited since enable.
  package var contentHash: String?
  /// Why the profile file cannot be loaded now (moved, removed, invalid), if so.
  package var fileProblem: String?
  /// The pinned copy the units apply instead of the file (``EnabledProfile/pinnedPath``).
  package var pinnedPath: String?
  /// What is wrong with the pinned copy while the file is used (``EnabledProfile/pinnedProblem``).
  package var pinnedProblem: String?

  /// Whether the profile file changed since enable (nil: the record predates hashes).
  var profileChanged: Bool? {
    if fileProblem != nil { return true }
    guard let recorded = record.sha256, let contentHash else { return nil }
    return recorded != contentHash
  }

  package init(
    record: EnabledRecord, recordPath: String, plan: Plan, absent: [String], applies: [Snapshot]?,
    units: [Persistence.UnitState], applied: Applied? = nil
  ) {
    self.applied = applied
    self.record = record
    self.recordPath = recordPath
    self.plan = plan
    self.absent = absent
    self.applies = applies
    self.units = units
  }

  /// An apply in effect in this boot, as status leads with it.
  package struct InEffect: Encodable, Sendable {
    var id: String
    var profile: String?
    var created: String
    var status: String
    var trigger: String?
    var settings: Int
    var origin: Snapshot.Origin?
    /// Settings someone else changed since the apply (nil: not known).
    var changedSince: Int?

    enum CodingKeys: String, CodingKey {
      case id, profile, created, status, trigger, settings, origin
      case changedSince = "changed_since"
    }

    package init(_ s: Snapshot, changedSince: Int?) {
      id = s.id
      profile = s.profile
      created = s.created
      status = s.status.rawValue
      trigger = s.trigger
      settings = s.entries.count
      origin = s.origin
      self.changedSince = changedSince
    }
  }

  /// What is applied in this boot (status leads with it, enabled or not): the applies in effect
  /// and, per id, how many of their settings someone else changed since; nil when the
  /// snapshots cannot be read (they are root's).
  package struct Applied: Sendable {
    package var snapshots: [Snapshot]
    package var changed: [String: Int]
    package init(snapshots: [Snapshot], changed: [String: Int]) {
      self.snapshots = snapshots
      self.changed = changed
    }

    var documents: [InEffect] { snapshots.map { InEffect($0, changedSince: changed[$0.id]) } }

    static func lines(_ applied: Applied?, style: TextStyle) -> [String] {
      guard let applied else { return ["applied:  unknown (the snapshots are root's: run as root)"] }
      return StateReport.inEffect(applied.snapshots, changed: applied.changed, style: style)
    }
  }

  /// JSON schema 2: `drift` and `unsupported` list settings as diff does (``SettingJSON``).
  /// (Schema 1 had `{name, expected, actual}` in the kernel's text and `{name, reason}`.)
  struct Document: Encodable {
    var schema = 2
    var command = "status"
    var inEffect: [InEffect]?
    var enabled: Bool
    var sha256: String?
    var enabledSHA256: String?
    var profileChanged: Bool?
    var profileProblem: String?
    var pinned: String?
    var pinnedProblem: String?
    var record: String?
    var profile: String?
    var interface: String?
    var variables: [String: String]?
    var skipUnsupported: Bool?
    var enabledAt: String?
    var metricsDirectory: String?
    var reapplyOnDrift: Bool?
    var applies: [EnabledProfile.Applied]?
    var match: Bool?
    var drift: [SettingJSON]?
    /// Settings this host cannot take: skipped at every boot with skip_unsupported, else refused.
    var unsupported: [SettingJSON]?
    var absent: [String]?
    var units: [Unit]
    var warnings: [String]?

    enum CodingKeys: String, CodingKey {
      case schema, command, enabled, record, profile, interface, variables, applies, match, drift, unsupported, absent
      case units
      case warnings
      case inEffect = "in_effect"
      case sha256
      case enabledSHA256 = "enabled_sha256"
      case profileChanged = "profile_changed"
      case profileProblem = "profile_problem"
      case pinned
      case pinnedProblem = "pinned_problem"
      case skipUnsupported = "skip_unsupported"
      case enabledAt = "enabled_at"
      case metricsDirectory = "metrics_directory"
      case reapplyOnDrift = "reapply_on_drift"
    }
  }

  struct Unit: Encodable {
    var unit: String
    var enabled: String
    var active: String
  }

  static func units(_ states: [Persistence.UnitState]) -> [Unit] {
    states.map { Unit(unit: $0.unit, enabled: $0.enabled, active: $0.active) }
  }

  static func unitLine(_ states: [Persistence.UnitState]) -> String {
    // No systemd here: said once, not once per unit and state.
    if let first = states.first, ["no systemd", "systemd not running"].contains(first.enabled),
      states.allSatisfy({ $0.enabled == first.enabled && $0.active == first.enabled })
    {
      return "units:    \(first.enabled) on this host: nothing runs bpstune's units"
    }
    return "units:    " + states.map { "\($0.unit) \($0.enabled), \($0.active)" }.joined(separator: "; ")
  }

  /// Nothing is enabled (exit 2); what is applied all the same.
  package static func notEnabled(json: Bool, units: [Persistence.UnitState], applied: Applied?, style: TextStyle)
    -> String
  {
    if json {
      return ReportJSON.encode(Document(inEffect: applied?.documents, enabled: false, units: Self.units(units)))
    }
    return (Applied.lines(applied, style: style) + ["nothing is enabled (bpstune enable PROFILE)", unitLine(units)])
      .joined(separator: "\n")
  }

  var enableApplies: [EnabledProfile.Applied]? {
    applies?.map {
      EnabledProfile.Applied(
        id: $0.id, trigger: $0.trigger ?? "", created: $0.created, status: $0.status.rawValue,
        settings: $0.entries.count)
    }
  }

  package func json() -> String {
    ReportJSON.encode(
      Document(
        inEffect: applied?.documents, enabled: true, sha256: contentHash, enabledSHA256: record.sha256,
        profileChanged: profileChanged, profileProblem: fileProblem, pinned: pinnedPath, pinnedProblem: pinnedProblem,
        record: recordPath,
        profile: record.profile,
        interface: record.interface,
        variables: record.variables, skipUnsupported: record.skipUnsupported, enabledAt: record.enabled,
        metricsDirectory: record.metricsDirectory, reapplyOnDrift: record.reapplyOnDrift, applies: enableApplies,
        match: !plan.differs,
        drift: (plan.changes + plan.rebootNeeded).map(SettingJSON.init),
        unsupported: plan.unsupported.map(SettingJSON.init),
        absent: absent, units: Self.units(units), warnings: plan.warnings))
  }

  package func text(style: TextStyle) -> String {
    var options = StateReport.options(interface: record.interface, variables: record.variables)
    if record.skipUnsupported { options.append("--skip-unsupported") }
    var lines = Applied.lines(applied, style: style)
    lines.append(
      "enabled:  \(record.profile)" + (options.isEmpty ? "" : " " + options.joined(separator: " "))
        + " since \(record.enabled) (\(recordPath))")
    if let enableApplies, enableApplies.isEmpty {
      lines.append("          not applied in this boot yet")
    }
    if profileChanged == true {
      // An edited profile is not host drift: say which it is, and what the units apply.
      let what =
        fileProblem.map { "the profile file cannot be loaded now (\($0))" }
        ?? "the profile file changed since enable (sha256 \(record.sha256.map { String($0.prefix(16)) } ?? "?") -> "
        + "\(contentHash.map { String($0.prefix(16)) } ?? "?"))"
      let used =
        pinnedPath.map { "boot, hot-plug and the drift check apply the content enabled, pinned in \($0)" }
        ?? "boot and the drift check use the file as it is now"
      lines.append(style.change("          \(what): \(used); `bpstune enable --refresh` adopts the edit"))
    }
    if let pinnedProblem {
      lines.append(style.change("          \(pinnedProblem): `bpstune enable --refresh` writes it again"))
    }
    let drift = plan.changes + plan.rebootNeeded
    let against =
      profileChanged == true ? (pinnedPath == nil ? " from the edited profile" : " from the content enabled") : ""
    if drift.isEmpty {
      lines.append(
        style.ok("drift:    none")
          + " (\(plan.satisfied.count) setting(s) match, \(plan.unsupported.count) unsupported)")
    } else {
      lines.append(style.bad("drift:    \(drift.count) setting(s) differ\(against)"))
      for entry in drift {
        let s = entry.target.semantics
        // "is now X, the profile says Y": which side is which, without knowing diff's arrow.
        lines.append(
          "  \(entry.id): is \(s.display(entry.current ?? "(none)", as: entry.target.desired)), the profile says "
            + s.display(entry.target.desired) + (entry.status == .reboot ? " (needs reboot)" : ""))
      }
    }
    // What the boot apply passes over (or refuses the profile for): never silent.
    let unsupported = plan.unsupported
    if !unsupported.isEmpty {
      lines.append(
        style.change(
          record.skipUnsupported
            ? "skipped:  \(unsupported.count) setting(s) this host cannot take, at every boot (--skip-unsupported)"
            : "unsupported: \(unsupported.count) setting(s) this host cannot take; the boot apply refuses the profile"))
      for entry in unsupported { lines.append("  \(entry.id): \(entry.reason ?? "unsupported")") }
    }
    for name in absent { lines.append("waiting:  \(name), tuned once it is there and up") }
    lines.append(Self.unitLine(units))
    lines.append(
      "checks:   metrics in \(record.metricsDirectory)/\(Persistence.metricsFile); "
        + (record.reapplyOnDrift ? "drift is re-applied" : "drift is reported, not re-applied"))
    for warning in plan.warnings { lines.append(style.change("warning: ") + warning) }
    return lines.joined(separator: "\n")
  }
}
