import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTunePersistence

struct EnableCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "enable",
    abstract: "Apply a profile now, at every boot, and to the interfaces it names whenever they appear.",
    discussion: """
      Plans and refuses exactly like apply, applies, records the profile and its variables in \
      /etc/bpstune/enabled.toml, writes the udev rule for the profile's interfaces \
      (/etc/udev/rules.d/80-bpstune.rules) and enables bpstune.service (boot) and \
      bpstune-drift.timer (verify every 5 minutes, node_exporter metrics). Undo with \
      `bpstune disable`.
      """)

  @Argument(
    help: "A profile name (see `bpstune profiles`) or a path to a .profile file; none with --refresh.",
    completion: .custom { _, _, _ in Completion.profiles() })
  var profile: String?

  @OptionGroup var variables: VariableOptions

  @Flag(
    help: ArgumentHelp(
      "Adopt the enabled profile's edited content: show what it changes, then enable it again as recorded.",
      discussion: "The record keeps the profile's SHA-256; status says when the file no longer matches it."))
  var refresh = false

  @OptionGroup var global: GlobalOptions
  @OptionGroup var reasonOption: ReasonOption

  @Flag(help: "Apply what this host can take, now and at every boot, and list the unsupported settings skipped.")
  var skipUnsupported = false

  @Option(help: "Directory for the drift check's node_exporter textfile metrics (bpstune.prom).")
  var metricsDir = EnabledRecord.defaultMetricsDirectory

  @Flag(help: "Let the drift check re-apply the profile when the host drifted (default: it only reports).")
  var reapplyOnDrift = false

  @Option(help: "Seconds to wait for another bpstune run to finish.")
  var lockTimeout = 30

  func validate() throws {
    try Validate.absolutePath(metricsDir, "--metrics-dir")
    try Validate.lockTimeout(lockTimeout)
    try Validate.text(profile, "profile")
    if refresh && (profile != nil || variables.interface != nil || !variables.assignments.isEmpty) {
      throw ValidationError("--refresh takes the profile, -i and --set from the record; give none of them")
    }
    if !refresh && profile == nil { throw ValidationError("name the profile to enable (or --refresh)") }
  }

  func run() throws {
    let persistence = global.persistence
    let previous: EnabledRecord?
    var reference = profile ?? ""
    var interface = variables.interface
    var overrides = try variables.overrides()
    var skipUnsupported = skipUnsupported
    var metricsDir = metricsDir
    var reapplyOnDrift = reapplyOnDrift
    if refresh {
      guard let old = try EnabledRecord.load(persistence.recordPath) else {
        throw BPSTuneError.usage("enable --refresh: nothing is enabled")
      }
      previous = old
      (reference, interface, overrides) = (old.profile, old.interface, old.variables)
      (skipUnsupported, metricsDir, reapplyOnDrift) = (old.skipUnsupported, old.metricsDirectory, old.reapplyOnDrift)
    } else {
      // A record that cannot be read is replaced: enabling is what mends it.
      previous = (try? EnabledRecord.load(persistence.recordPath)) ?? nil
    }
    // The units read the profile as root at every boot: only root's files (ProfileTrust).
    let profile = try ProfileOptions.load(reference, overrides: overrides, interface: interface, persistent: true)
    try global.require(Privilege.needed(for: profile).union([.root]), for: "enable")
    if refresh, let old = previous {
      // The copy the units fall back on is checked too: a missing or changed one is written again.
      let pinnedProblem = old.pinnedSHA256.flatMap {
        EnabledProfile.checkPinned(EnabledProfile.pinnedPath(recordPath: persistence.recordPath), sha256: $0)
      }
      if let pinnedProblem, old.sha256 == profile.contentHash {
        print("\(pinnedProblem); writing it again")
      } else if old.sha256 == profile.contentHash {
        let hash = profile.contentHash.prefix(16)
        print("\(old.profile) is unchanged since it was enabled (sha256 \(hash)); nothing to refresh")
        return
      } else {
        // The plan the apply makes of the edited content follows (as enable prints it).
        print(
          "\(old.profile) changed since it was enabled (sha256 \(old.sha256.map { String($0.prefix(16)) } ?? "not recorded")"
            + " -> \(profile.contentHash.prefix(16))); adopting it:")
      }
    }
    // A path is recorded as the file itself: absolute, symlinks resolved (the units run in /).
    let recorded: String
    if ProfileSource.isPath(reference) {
      do {
        recorded = try Syscalls.realPath(profile.path)
      } catch {
        throw BPSTuneError.profile(file: profile.path, key: "", message: "cannot resolve: \(error)")
      }
    } else {
      recorded = reference
    }
    var record = EnabledRecord(
      profile: recorded, interface: interface, variables: overrides,
      skipUnsupported: skipUnsupported, metricsDirectory: metricsDir, reapplyOnDrift: reapplyOnDrift)
    record.sha256 = profile.contentHash
    // The copy the units fall back on once the file is edited or gone, checked before any change.
    let pinned = try EnabledProfile.pin(profile, record: record, recordPath: persistence.recordPath)
    StopReport.install(doing: "enabling \(record.profile)")
    let lock = try global.lock(timeout: lockTimeout)
    defer { lock.release() }
    StopReport.doing("reading the current values to plan \(record.profile)")
    var executor = global.executor(global.host())
    executor.trigger = "enable"
    executor.reason = reasonOption.reason
    let outcome = try Applier(executor: executor).apply(profile, skipUnsupported: skipUnsupported)
    if let snapshot = outcome.snapshot { Output.warnIfUnrecorded(snapshot) }
    record.pinnedSHA256 = try EnabledProfile.save(pinned, recordPath: persistence.recordPath)
    try record.save(persistence.recordPath)
    try persistence.installRule(for: profile)
    // The drift unit may write only there (ProtectSystem=strict, ReadWritePaths=): made now,
    // 0755 for node_exporter, so that it exists when the unit starts.
    var unitProblems: [String] = []
    do {
      try Syscalls.makeDirectories(metricsDir, mode: 0o755)
    } catch {
      unitProblems.append("cannot create the metrics directory: \(error)")
    }
    if metricsDir != EnabledRecord.defaultMetricsDirectory {
      unitProblems.append(
        "\(Persistence.driftService) may write only \(EnabledRecord.defaultMetricsDirectory): add "
          + "ReadWritePaths=\(metricsDir) with `systemctl edit \(Persistence.driftService)`")
    }
    unitProblems += persistence.enableUnits()

    print(PlanReport.text(outcome.plan, style: global.style, quiet: global.quiet))
    for entry in outcome.skipped { print("skipped (unsupported): \(entry.id): \(entry.reason ?? "")") }
    if let old = previous, old.profile != record.profile {
      print("replaced the enabled profile \(old.profile) (its settings stay until `bpstune rollback`)")
    }
    let applied =
      outcome.snapshot.map { "applied \($0.entries.count) change(s), snapshot \($0.id)" } ?? "nothing to change"
    print("enabled \(record.profile): \(applied)")
    print("  at every boot: \(Persistence.bootUnit); recorded in \(persistence.recordPath)")
    let names = Set(profile.interfaces.map(\.name)).sorted()
    if !names.isEmpty {
      print("  when \(names.joined(separator: ", ")) appear(s): bpstune-interface@IF.service (\(persistence.rulePath))")
    }
    print("  drift: \(Persistence.driftTimer) writes \(metricsDir)/\(Persistence.metricsFile)")
    for problem in unitProblems { Output.error("warning: \(problem)") }
  }
}

struct DisableCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "disable",
    abstract: "Stop persisting the enabled profile and roll back what it applied in this boot.",
    discussion: """
      Rolls back this boot's applies made by enable and by bpstune's units (newest first, with \
      rollback's checks), then disables the units and removes the record and the udev rule. \
      An apply made by hand after them must be rolled back first.
      """)

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Leave the current values as they are; only stop persisting them.")
  var keepSettings = false

  @Option(help: "Seconds to wait for another bpstune run to finish.")
  var lockTimeout = 30

  func validate() throws {
    try Validate.lockTimeout(lockTimeout)
  }

  func run() throws {
    try global.require([.root], for: "disable")
    let persistence = global.persistence
    let record: EnabledRecord?
    do {
      record = try EnabledRecord.load(persistence.recordPath)
    } catch {
      // A damaged record is named, and disabling goes on: it is what removes it.
      Output.error("warning: \(error)")
      record = nil
    }
    var rolledBack: [String] = []
    if !keepSettings {
      let host = global.host()
      let lock = try global.lock(timeout: lockTimeout)
      defer { lock.release() }
      let restorer = Restorer(executor: global.executor(host))
      let history = try global.store.all().compactMap(\.snapshot)
      let boot = host.bootID
      let inEffect = SnapshotStore.inEffect(in: history, boot: boot)
      let ours = EnabledProfile.applies(in: history, boot: boot)
      if let first = ours.first,
        let byHand = inEffect.last(where: { $0.trigger == nil && ($0.created, $0.id) > (first.created, first.id) })
      {
        throw BPSTuneError.usage(
          "disable: apply \(byHand.id) (\(byHand.profile ?? "?"), made by hand after the enabled profile's) is still in effect; "
            + "roll it back first (bpstune rollback) or keep the values with --keep-settings; nothing was changed")
      }
      // The listing read once, extended with each rollback made (plan looks there for an
      // unfinished rollback of the snapshot it restores).
      var current = history
      var newer: [Snapshot] = []
      for snapshot in ours.reversed() {
        let plan = EnabledProfile.relax(restorer.plan(snapshot, history: current), knownBefore: newer)
        newer.append(snapshot)
        let made = try restorer.restore(plan, force: false)
        current.append(made)
        Output.warnIfUnrecorded(made)
        rolledBack.append(snapshot.id)
      }
    }
    let problems = persistence.disableUnits()
    try persistence.removeRule()
    // The drift check's metrics go with it: a file no check rewrites would alert forever.
    if let record {
      let metrics = record.metricsDirectory + "/" + Persistence.metricsFile
      do {
        if try Syscalls.fileStatus(metrics) != nil { try Syscalls.removeFile(metrics) }
      } catch {
        throw BPSTuneError.enabled(path: metrics, message: "cannot remove: \(error)")
      }
    }
    try EnabledRecord.remove(persistence.recordPath)
    try EnabledProfile.removePinned(recordPath: persistence.recordPath)
    let what = record.map { "disabled \($0.profile)" } ?? "nothing was enabled; units and rule removed"
    if keepSettings {
      print("\(what); the values stay as they are (--keep-settings)")
    } else if rolledBack.isEmpty {
      print("\(what); nothing of this boot to roll back")
    } else {
      print("\(what); rolled back \(rolledBack.count) apply(s) of this boot: \(rolledBack.joined(separator: ", "))")
    }
    for problem in problems { Output.error("warning: \(problem)") }
  }
}

struct StatusCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract:
      "What is applied in this boot (which profile, how, by whom, why), what is enabled, drift now, and the units' state.",
    discussion: "Exit 0 when enabled and matching, 1 on drift, 2 when nothing is enabled or it cannot be used.")

  @OptionGroup var global: GlobalOptions

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? "status" : nil }

  func run() throws {
    let persistence = global.persistence
    let host = global.host()
    // What is applied in this boot, enabled or not, and how much of it someone else changed.
    var applied: StatusReport.Applied?
    // The snapshots read once, for this and for enable's own applies below.
    let history = (try? global.store.all())?.compactMap(\.snapshot)
    if let history {
      let inEffect = SnapshotStore.inEffect(in: history, boot: host.bootID)
      let restorer = Restorer(executor: global.executor(host))
      var changed: [String: Int] = [:]
      for s in inEffect {
        changed[s.id] = restorer.plan(s, history: history).items.filter { $0.action == .conflict }.count
      }
      applied = StatusReport.Applied(snapshots: inEffect, changed: changed)
    }
    guard let enabled = try EnabledProfile.load(persistence) else {
      print(
        StatusReport.notEnabled(
          json: format == .json, units: persistence.unitStates(), applied: applied, style: global.style))
      throw ExitCode(2)
    }
    let (part, absent) = Persistence.present(enabled.profile, on: host)
    let plan = try Planner().plan(part, on: host)
    let applies = history.map { EnabledProfile.applies(in: $0, boot: host.bootID) }
    var report = StatusReport(
      record: enabled.record, recordPath: persistence.recordPath, plan: plan, absent: absent, applies: applies,
      units: persistence.unitStates(), applied: applied)
    report.contentHash = enabled.fileHash
    report.fileProblem = enabled.fileProblem
    report.pinnedPath = enabled.pinnedPath
    report.pinnedProblem = enabled.pinnedProblem
    print(format == .json ? report.json() : report.text(style: global.style))
    if plan.differs { throw ExitCode(1) }
  }
}

/// What bpstune's units run. Not for daily use: `enable`, `disable` and `status` are.
struct PersistCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "persist",
    abstract: "What bpstune's systemd units run (bpstune.service, bpstune-interface@.service, bpstune-drift.service).",
    subcommands: [Boot.self, Interface.self, Check.self])

  struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "boot",
      abstract: "Apply the enabled profile (bpstune.service); interfaces not present yet are left to their own unit.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Seconds to wait for another bpstune run to finish.") var lockTimeout = 120

    func validate() throws { try Validate.lockTimeout(lockTimeout) }

    func run() throws {
      StopReport.install(doing: "reading the enabled profile")
      try global.require([.root], for: "persist boot")
      guard let enabled = try EnabledProfile.load(global.persistence) else {
        print("nothing is enabled")
        return
      }
      if let notice = enabled.notice { print(notice) }
      if let problem = enabled.pinnedProblem {
        print("warning: \(problem); `bpstune enable --refresh` writes it again")
      }
      let host = global.host()
      let (part, absent) = Persistence.present(enabled.profile, on: host)
      try PersistCommand.apply(part, enabled.record, trigger: "boot", global: global, lockTimeout: lockTimeout)
      for name in absent {
        let interface = name.split(separator: " ").first.map(String.init) ?? name
        print("\(name): bpstune-interface@\(interface).service tunes it once it is there and up")
      }
    }
  }

  struct Interface: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "interface",
      abstract: "Apply the enabled profile's blocks for one interface (bpstune-interface@IF.service).")
    @Argument(help: "The interface that appeared, was re-created or renamed.") var name: String
    @OptionGroup var global: GlobalOptions
    @Option(help: "Seconds to wait for another bpstune run to finish.") var lockTimeout = 120
    @Option(
      help: "Seconds to wait for the interface to be brought up (its queue IRQs and NAPIs exist only then).")
    var waitUp = 120

    func validate() throws {
      try Validate.lockTimeout(lockTimeout)
      try Validate.range(waitUp, "--wait-up", 0...3600, unit: "seconds")
    }

    func run() throws {
      StopReport.install(doing: "reading the enabled profile")
      try global.require([.root], for: "persist interface")
      guard let enabled = try EnabledProfile.load(global.persistence) else {
        print("nothing is enabled")
        return
      }
      if let notice = enabled.notice { print(notice) }
      let host = global.host()
      // The instance name as systemd mangled it ("eth0\x2b" for eth0+).
      let name = Persistence.interfaceName(instance: self.name, existing: host.interfaces)
      let shown = Printable.escaped(name)
      guard let part = Persistence.only(enabled.profile, interface: name) else {
        print("\(shown): not named by the enabled profile \(enabled.record.profile); nothing to do")
        return
      }
      guard host.interfaces.contains(name) else {
        print("\(shown): gone again; nothing to do")
        return
      }
      // A new NIC is down until the network configuration brings it up; its queue IRQs,
      // NAPIs and their kthreads appear only then.
      if !host.isUp(name) {
        StopReport.doing("waiting for \(name) to be brought up")
        print("\(shown): waiting up to \(waitUp) s for it to be brought up")
        guard Persistence.waitUntilUp(name, on: host, seconds: waitUp) else {
          guard host.interfaces.contains(name) else {
            print("\(shown): gone again; nothing to do")
            return
          }
          print("\(shown): still down after \(waitUp) s; applying what it takes while down")
          return try PersistCommand.apply(
            part, enabled.record, trigger: "interface \(shown)", global: global, lockTimeout: lockTimeout)
        }
        host.forget()
      }
      try PersistCommand.apply(
        part, enabled.record, trigger: "interface \(shown)", global: global, lockTimeout: lockTimeout)
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract:
        "Verify the enabled profile, write node_exporter metrics, log each drifting setting (bpstune-drift.service).",
      discussion:
        "Exit 1 when the host drifted (the unit counts it as success); re-applies only when enabled with --reapply-on-drift."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "Seconds to wait for another bpstune run to finish (re-apply only).") var lockTimeout = 120

    func validate() throws { try Validate.lockTimeout(lockTimeout) }

    /// Writes the metrics file atomically (a reader sees the old file or the new, whole).
    static func writeMetrics(_ text: String, directory: String) throws {
      let metrics = directory + "/" + Persistence.metricsFile
      do {
        try Syscalls.makeDirectories(directory, mode: 0o755)
        try Syscalls.writeDurably(metrics, Array((text + "\n").utf8), mode: Syscalls.readableByAll)
      } catch {
        throw BPSTuneError.enabled(path: metrics, message: "cannot write the metrics: \(error)")
      }
    }

    func run() throws {
      StopReport.install(doing: "reading the enabled profile")
      let persistence = global.persistence
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
        print("nothing is enabled")
        return
      }
      let host = global.host()
      let enabled: EnabledProfile
      let plan: Plan
      let part: Profile
      let absent: [String]
      do {
        enabled = try EnabledProfile.load(record, recordPath: persistence.recordPath)
        if let notice = enabled.notice { print(notice) }
        if let problem = enabled.pinnedProblem {
          print("warning: \(problem); `bpstune enable --refresh` writes it again")
        }
        (part, absent) = Persistence.present(enabled.profile, on: host)
        StopReport.doing("reading the current values to check \(enabled.record.profile)")
        plan = try Planner().plan(part, on: host)
      } catch {
        // The enabled profile moved, or this host can no longer take it: success 0, the reason,
        // the time; never the last good file left in place reading as healthy.
        try? Self.writeMetrics(
          VerifyReport.prometheusFailure(profile: VerifyReport.profileLabel(record.profile), reason: "\(error)"),
          directory: record.metricsDirectory)
        throw error
      }
      let metrics = record.metricsDirectory + "/" + Persistence.metricsFile
      try Self.writeMetrics(
        VerifyReport.render(plan, format: .prometheus, style: TextStyle(color: false)),
        directory: record.metricsDirectory)
      for name in absent { print("\(name): not checked; bpstune-interface@.service tunes it once it is there and up") }
      for entry in plan.rebootNeeded {
        print(
          "needs reboot: boot parameter \(entry.id) is \(entry.target.semantics.display(entry.current ?? "")), "
            + "profile \(enabled.record.profile) wants \(entry.target.semantics.display(entry.target.desired))")
      }
      let drift = plan.changes
      for entry in drift {
        let s = entry.target.semantics
        print(
          "drift: \(entry.id) is \(s.display(entry.current ?? "?", as: entry.target.desired)), "
            + "profile \(enabled.record.profile) sets \(s.display(entry.target.desired))")
      }
      guard !drift.isEmpty else {
        print("no drift: \(plan.satisfied.count) setting(s) match \(enabled.record.profile) (\(metrics))")
        return
      }
      print("\(drift.count) setting(s) drifted from \(enabled.record.profile) (\(metrics))")
      if enabled.record.reapplyOnDrift {
        try PersistCommand.apply(part, enabled.record, trigger: "drift", global: global, lockTimeout: lockTimeout)
        return
      }
      throw ExitCode(1)
    }
  }

  /// Applies part of the enabled profile under the lock, recording what ran it.
  static func apply(
    _ profile: Profile, _ record: EnabledRecord, trigger: String, global: GlobalOptions, lockTimeout: Int
  )
    throws
  {
    let lock = try global.lock(timeout: lockTimeout)
    defer { lock.release() }
    StopReport.doing("reading the current values to plan \(record.profile)")
    var executor = global.executor(global.host())
    executor.trigger = trigger
    let outcome = try Applier(executor: executor).apply(profile, skipUnsupported: record.skipUnsupported)
    for entry in outcome.skipped { print("skipped (unsupported): \(entry.id): \(entry.reason ?? "")") }
    if let snapshot = outcome.snapshot {
      Output.warnIfUnrecorded(snapshot)
      print("\(trigger): applied \(record.profile): \(snapshot.entries.count) change(s), snapshot \(snapshot.id)")
    } else {
      print("\(trigger): \(record.profile) already in place; nothing to change")
    }
  }
}
