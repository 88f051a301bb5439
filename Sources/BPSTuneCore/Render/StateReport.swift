import BPSTuneKernel

/// Reports on host state and on snapshots: `show`, `snapshots`, `rollback`.
package enum StateReport {
  // MARK: show

  /// JSON schema 2: each setting as every report lists it (``SettingJSON``): `current` and
  /// `kernel_current`, or the `reason` it cannot be read. (Schema 1 had `value`,
  /// `kernel_value` and `unavailable`.)
  struct ShowDocument: Encodable {
    var schema = 2
    var command = "show"
    var kernel: String
    var settings: [SettingJSON]
  }

  package static func show(_ settings: [ShownSetting], json: Bool, style: TextStyle) -> String {
    if json {
      return ReportJSON.encode(
        ShowDocument(
          kernel: Syscalls.uname().release,
          settings: settings.map(SettingJSON.init(shown:))))
    }
    var lines = ["kernel \(Syscalls.uname().release)"]
    lines += Grouping.lines(settings, id: \.id, style: style) { s, name in
      name + (s.value.map(s.semantics.display) ?? style.dim("(\(s.unavailable ?? "unavailable"))"))
    }
    return lines.joined(separator: "\n")
  }

  // MARK: snapshots

  /// What a snapshot's state means now: interrupted runs and rolled-back applies included.
  package static func state(of snapshot: Snapshot, undone: Set<String>, lockHeld: Bool) -> String {
    if snapshot.status == .inProgress {
      return lockHeld && Syscalls.processExists(snapshot.pid) ? "running" : "interrupted"
    }
    if undone.contains(snapshot.id) { return "rolled-back" }
    return snapshot.status.rawValue
  }

  struct SnapshotSummary: Encodable {
    var id: String
    var operation: String
    var profile: String?
    var restores: String?
    var created: String
    var status: String
    var state: String
    var settings: Int
    var boot: String?
    var thisBoot: Bool?
    var trigger: String?
    var origin: Snapshot.Origin?
    var error: String?

    enum CodingKeys: String, CodingKey {
      case id, operation, profile, restores, created, status, state, settings, boot, trigger, origin, error
      case thisBoot = "this_boot"
    }

    /// The BOOT column: "this", the first 8 characters of an earlier boot's id, or "?" for a
    /// snapshot of bpstune 0.2 (which did not record it).
    var bootLabel: String {
      if thisBoot == true { return "this" }
      return boot.map { String($0.prefix(8)) } ?? "?"
    }
  }

  struct SnapshotList: Encodable {
    var schema = 1
    var command = "snapshots"
    var snapshots: [SnapshotSummary]
  }

  package static func list(
    _ all: [SnapshotStore.Listed], lockHeld: Bool, boot: String?, json: Bool, style: TextStyle
  ) -> String {
    let good = all.compactMap(\.snapshot)
    let undone = SnapshotHistory(snapshots: good).undone
    let rows: [SnapshotSummary] = all.map { listed in
      switch listed.result {
      case .success(let s):
        return SnapshotSummary(
          id: s.id, operation: s.operation.rawValue, profile: s.profile, restores: s.restores, created: s.created,
          status: s.status.rawValue, state: state(of: s, undone: undone, lockHeld: lockHeld), settings: s.entries.count,
          boot: s.boot, thisBoot: boot.map { s.boot == $0 }, trigger: s.trigger, origin: s.origin)
      case .failure(let e):
        return SnapshotSummary(
          id: listed.id, operation: "?", created: "", status: "invalid", state: "invalid", settings: 0,
          error: e.description)
      }
    }
    if json { return ReportJSON.encode(SnapshotList(snapshots: rows)) }
    if rows.isEmpty { return "no snapshots" }
    // Columns as wide as their longest value (a profile given as a long path included). Every
    // column but the last is one word, never empty, whatever the row, so that scripts can read
    // them with awk: a rollback's PROFILE is "of:ID" (the snapshot it restored), BY is
    // "TRIGGER,USER,login=NAME,sudo=NAME", and a blank inside a value is written "\x20".
    // REASON, the last column, is the rest of the line ("-" for none; for a snapshot that
    // cannot be read, why).
    let table: [[String]] = rows.map { r in
      if let e = r.error { return [r.id, "?", "-", "invalid", "-", "-", "-"].map(word) + [e] }
      let what = r.operation == "rollback" ? "of:\(r.restores ?? "?")" : (r.profile ?? "-")
      return [
        word(r.id), word(r.operation), word(what), word(r.state), word(r.bootLabel), "\(r.settings)",
        word(byWord(trigger: r.trigger, origin: r.origin)), r.origin?.reason ?? "-",
      ]
    }
    let header = ["ID", "OPERATION", "PROFILE", "STATE", "BOOT", "SETTINGS", "BY", "REASON"]
    let widths = header.indices.map { c in ([header] + table).map { $0[c].count }.max() ?? 0 }
    func line(_ cells: [String], bad: Bool = false) -> String {
      cells.indices.map { c in
        let cell = c == cells.count - 1 ? cells[c] : TextStyle.pad(cells[c], widths[c] + 2)
        // The STATE of a row in trouble, and why a snapshot cannot be read.
        let red = bad && (c == 3 || (c == cells.count - 1 && cells[3] == "invalid"))
        return red ? style.bad(cell) : cell
      }.joined()
    }
    var lines = [line(header)]
    for (r, cells) in zip(rows, table) {
      lines.append(line(cells, bad: ["interrupted", "failed", "invalid"].contains(r.state)))
    }
    return lines.joined(separator: "\n")
  }

  /// A cell of `snapshots list` as one word for awk: "-" when empty, a blank or tab inside
  /// written as an escape.
  static func word(_ text: String) -> String {
    if text.isEmpty { return "-" }
    guard text.contains(where: { $0 == " " || $0 == "\t" }) else { return text }
    return text.replacingSpaces()
  }

  /// Who ran an operation, in one word: the trigger ("boot", "interface=eth0"), the user, and
  /// the login and sudo names behind it, comma-separated ("interface=eth0,root",
  /// "root,sudo=alice").
  static func byWord(trigger: String?, origin: Snapshot.Origin?) -> String {
    var parts: [String] = []
    if let trigger { parts.append(trigger.replacingFirstSpace(with: "=")) }
    if let o = origin {
      parts.append(o.user ?? "uid=\(o.uid)")
      if let login = o.loginUser, login != o.user { parts.append("login=\(login)") }
      if let sudo = o.sudoUser, sudo != o.user, sudo != o.loginUser { parts.append("sudo=\(sudo)") }
    }
    return parts.joined(separator: ",")
  }

  /// " -i eth0 --set a=b": how the profile was used.
  static func usage(_ origin: Snapshot.Origin) -> String {
    let parts = options(interface: origin.interface, variables: origin.variables ?? [:])
    return parts.isEmpty ? "" : " " + parts.joined(separator: " ")
  }

  /// `-i IF` and `--set NAME=VALUE` as given on the command line.
  package static func options(interface: String?, variables: [String: String]) -> [String] {
    (interface.map { ["-i \($0)"] } ?? []) + variables.keys.sorted().map { "--set \($0)=\(variables[$0]!)" }
  }

  /// The applies in effect, one paragraph each: what `status` leads with. `changed` counts,
  /// per snapshot id, the settings someone else changed since (nil: not known).
  package static func inEffect(_ applies: [Snapshot], changed: [String: Int], style: TextStyle) -> [String] {
    if applies.isEmpty { return ["applied:  nothing in effect in this boot"] }
    var lines: [String] = []
    for s in applies {
      let o = s.origin
      lines.append(
        "applied:  \(s.profile ?? "?")" + (o.map(usage) ?? "") + " at \(s.created)"
          + " by \([s.trigger, o?.who].compactMap { $0 }.joined(separator: ", "))"
          + (s.status == .complete
            ? "" : style.bad(" (\(s.status == .inProgress ? "interrupted" : s.status.rawValue))")))
      if let path = o?.path { lines.append("          \(path)" + (o?.sha256.map { " sha256 \($0.prefix(16))" } ?? "")) }
      if let reason = o?.reason { lines.append("          why: \(reason)") }
      let n = changed[s.id]
      lines.append(
        "          \(s.entries.count) setting(s), snapshot \(s.id); "
          + (n == nil
            ? "drift unknown"
            : n == 0 ? style.ok("as applied") : style.bad("\(n!) changed since by someone else")))
    }
    return lines
  }

  package static func detail(_ s: Snapshot, state: String, json: Bool, style: TextStyle) -> String {
    if json { return ReportJSON.encode(s) }
    var lines = [
      "snapshot \(s.id)", "  operation  \(s.operation.rawValue)" + (s.restores.map { " of \($0)" } ?? ""),
      "  profile    \(s.profile ?? "-")" + (s.origin.map(usage) ?? ""),
    ]
    if let o = s.origin {
      if let path = o.path { lines.append("  path       \(path)") }
      if let hash = o.sha256 { lines.append("  sha256     \(hash)") }
      lines.append("  by         \(o.who)")
      if let reason = o.reason { lines.append("  reason     \(reason)") }
    }
    lines += [
      "  created    \(s.created) by pid \(s.pid) on \(s.hostname) (\(s.kernel))",
      "  finished   \(s.finished ?? "-")", "  state      \(state)",
      "  boot       \(s.boot ?? "- (not recorded)")" + (s.trigger.map { "\n  run by     \($0)" } ?? ""),
    ]
    for left in s.leftChanged ?? [] { lines.append("  " + style.bad("left changed: ") + left) }
    lines += Grouping.lines(s.entries, id: \.setting, style: style) { e, name in
      name + e.semantics.change(from: e.before, to: e.after)
    }
    return lines.joined(separator: "\n")
  }

  // MARK: rollback

  /// JSON schema 2: each setting as every report lists it (``SettingJSON``), its `status` what
  /// the rollback does, `desired` the value it restores. (Schema 1 had `{name, action, current,
  /// restore_to, reason}`.)
  struct RollbackDocument: Encodable {
    var schema = 2
    var command = "rollback"
    var dryRun: Bool
    var restores: String?
    var snapshot: String?
    var settings: [SettingJSON]
    var passedOver: [PassedOver]?
    var earlierBoots: [String]?

    enum CodingKeys: String, CodingKey {
      case schema, command, restores, snapshot, settings
      case dryRun = "dry_run"
      case passedOver = "passed_over"
      case earlierBoots = "earlier_boots"
    }
  }

  /// A damaged snapshot file a forced plain rollback passed over.
  struct PassedOver: Encodable {
    var id: String
    var error: String

    static func from(_ listed: [SnapshotStore.Listed]) -> [PassedOver]? {
      listed.isEmpty ? nil : listed.map { PassedOver(id: $0.id, error: $0.error?.description ?? "") }
    }
  }

  struct ErrorDocument: Encodable {
    var schema = 1
    var command: String
    var error: ErrorItem

    struct ErrorItem: Encodable {
      var message: String
      var exitCode: Int32
      var path: String?
      var setting: String?
      var undone: Int?
      var leftChanged: [String]?
      var unsupported: [String]?
      var conflicts: [String]?

      enum CodingKeys: String, CodingKey {
        case message, path, setting, undone, unsupported, conflicts
        case exitCode = "exit_code"
        case leftChanged = "left_changed"
      }
    }
  }

  /// A failed command's JSON: `{"schema":1, "command", "error":{"message", "exit_code", ...}}`,
  /// with the file (`path`), the setting that failed, and the lists the one line joins
  /// (`left_changed` for exit 4, `unsupported`, `conflicts`) as arrays for programs.
  package static func error(_ error: BPSTuneError, command: String) -> String {
    var item = ErrorDocument.ErrorItem(message: error.description, exitCode: error.exitCode)
    switch error {
    case .snapshot(let p, _), .stateDirectory(let p, _), .damagedNewest(let p, _, _, _, _), .locked(let p, _),
      .enabled(let p, _):
      item.path = p
    case .profile(let file, let key, _):
      item.path = file
      item.setting = key.isEmpty ? nil : key
    case .invalidPlan(let setting, _), .hostRead(let setting, _): item.setting = setting
    case .unsupportedSettings(let names): item.unsupported = names.map(\.text)
    case .conflicts(let names): item.conflicts = names.map(\.text)
    case .failedAndUndone(let setting, _, let undone):
      item.setting = setting
      item.undone = undone
    case .failedPartially(let setting, _, let left):
      item.setting = setting
      item.leftChanged = left.map(\.text)
    case .usage, .privilege, .probe: break
    }
    return ReportJSON.encode(ErrorDocument(command: command, error: item))
  }

  /// A plain `rollback` when every apply is undone already.
  /// A plain rollback with no apply of this boot left to undo. Applies of earlier boots are
  /// named: they stay restorable by id.
  package static func nothingToRollBack(
    json: Bool, passedOver: [SnapshotStore.Listed] = [], earlierBoots: [Snapshot] = []
  ) -> String {
    if json {
      return ReportJSON.encode(
        RollbackDocument(
          dryRun: false, settings: [], passedOver: PassedOver.from(passedOver),
          earlierBoots: earlierBoots.isEmpty ? nil : earlierBoots.map(\.id)))
    }
    guard let newest = earlierBoots.last else { return "nothing to roll back" }
    let count = earlierBoots.count == 1 ? "1 apply" : "\(earlierBoots.count) applies"
    return "nothing to roll back in this boot; \(count) of earlier boots not rolled back "
      + "(rollback considers this boot only; `bpstune rollback \(newest.id)` restores the newest with the usual checks)"
  }

  package static func rollback(
    _ plan: Restorer.RestorePlan, snapshot: Snapshot?, dryRun: Bool, json: Bool, style: TextStyle, quiet: Bool,
    passedOver: [SnapshotStore.Listed] = []
  ) -> String {
    if json {
      return ReportJSON.encode(
        RollbackDocument(
          dryRun: dryRun, restores: plan.source.id, snapshot: snapshot?.id,
          settings: plan.items.map(SettingJSON.init(restoring:)), passedOver: PassedOver.from(passedOver)))
    }
    var lines: [String] = []
    if !quiet {
      lines += Grouping.lines(plan.items, id: \.entry.setting, style: style) { item, name in
        let s = item.entry.semantics
        switch item.action {
        case .restore:
          return style.change("~ ") + name + s.change(from: item.current ?? "", to: item.entry.before)
        case .alreadyRestored:
          return style.ok("= ") + name + s.display(item.entry.before)
        case .conflict:
          return style.bad("! ") + name
            + style.bad(
              "changed since: is \(s.display(item.current ?? "", as: item.entry.after)), bpstune set \(s.display(item.entry.after))"
            )
        case .unavailable:
          return style.bad("! ") + name + style.bad("cannot be read: \(item.reason ?? "")")
        case .gone:
          return style.dim("- ") + name + style.dim("gone with its device: \(item.reason ?? "")")
        }
      }
    }
    let restore = plan.items.filter { $0.action == .restore }.count
    let verb = dryRun ? "would restore" : "restored"
    // Settings of queues that a restored channel count removed are gone, not restored.
    let written = snapshot.map { s in s.entries.filter { e in plan.items.contains { $0.entry.setting == e.setting } } }
    let gone = written.map { restore - $0.count } ?? 0
    var summary = "rollback of \(plan.source.id): \(verb) \(restore - gone) of \(plan.items.count) settings"
    if gone > 0 { summary += ", \(gone) gone with their queues" }
    // A device that is not where its settings were recorded is named once: renamed (its
    // settings restored under its new name), replaced, moved or deleted (they went with it).
    // Many are summarized; each setting's line above names its device.
    if !plan.devices.isEmpty {
      let sentences = plan.devices.map { Printable.Item($0.sentence(dryRun: dryRun)) }
      summary += "; " + Printable.summary(sentences, limit: 5, more: " device(s) renamed or gone")
    }
    if let snapshot { summary += " (rollback snapshot \(snapshot.id))" }
    lines.append(summary)
    return lines.joined(separator: "\n")
  }
}

extension String {
  /// Blanks and tabs written as escapes ("\x20", "\t"): one word for awk.
  fileprivate func replacingSpaces() -> String {
    var out = ""
    for c in self {
      switch c {
      case " ": out += "\\x20"
      case "\t": out += "\\t"
      default: out.append(c)
      }
    }
    return out
  }

  /// "interface eth0" as "interface=eth0".
  fileprivate func replacingFirstSpace(with separator: String) -> String {
    guard let i = firstIndex(of: " ") else { return self }
    return self[..<i] + separator + self[index(after: i)...]
  }
}
