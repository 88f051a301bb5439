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
    let request = Workflow.EnableRequest(
      profile: profile ?? "", interface: variables.interface, variables: try variables.overrides(),
      skipUnsupported: skipUnsupported, metricsDirectory: metricsDir, reapplyOnDrift: reapplyOnDrift, refresh: refresh,
      reason: reasonOption.reason, lockTimeout: lockTimeout)
    guard
      let enabled = try global.workflow().enable(
        request, privileges: { try global.require(Privilege.needed(for: $0).union([.root]), for: "enable") })
    else { return }
    let (record, outcome, persistence) = (enabled.record, enabled.outcome, global.persistence)
    print(PlanReport.text(outcome.plan, style: global.style, quiet: global.quiet))
    for line in OutcomeReport.skipped(outcome) { print(line) }
    if let old = enabled.previous, old.profile != record.profile {
      print("replaced the enabled profile \(old.profile) (its settings stay until `bpstune rollback`)")
    }
    print(OutcomeReport.summary(outcome, .enable(profile: record.profile)))
    print("  at every boot: \(Persistence.bootUnit); recorded in \(persistence.recordPath)")
    let names = Set(enabled.profile.interfaces.map(\.name)).sorted()
    if !names.isEmpty {
      print("  when \(names.joined(separator: ", ")) appear(s): bpstune-interface@IF.service (\(persistence.rulePath))")
    }
    print("  drift: \(Persistence.driftTimer) writes \(record.metricsDirectory)/\(Persistence.metricsFile)")
    for problem in enabled.unitProblems { Output.error("warning: \(problem)") }
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
    let done = try global.workflow().disable(keepSettings: keepSettings, lockTimeout: lockTimeout)
    let what = done.record.map { "disabled \($0.profile)" } ?? "nothing was enabled; units and rule removed"
    if keepSettings {
      print("\(what); the values stay as they are (--keep-settings)")
    } else if done.rolledBack.isEmpty {
      print("\(what); nothing of this boot to roll back")
    } else {
      print(
        "\(what); rolled back \(done.rolledBack.count) apply(s) of this boot: \(done.rolledBack.joined(separator: ", "))"
      )
    }
    for problem in done.unitProblems { Output.error("warning: \(problem)") }
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
    switch try global.workflow().status() {
    case .notEnabled(let applied, let units):
      print(StatusReport.notEnabled(json: format == .json, units: units, applied: applied, style: global.style))
      throw ExitCode(2)
    case .enabled(let report):
      print(format == .json ? report.json() : report.text(style: global.style))
      if report.plan.differs { throw ExitCode(1) }
    }
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
      try global.require([.root], for: "persist boot")
      try global.workflow().boot(lockTimeout: lockTimeout)
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
      try global.require([.root], for: "persist interface")
      try global.workflow().interface(instance: name, waitUp: waitUp, lockTimeout: lockTimeout)
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

    func run() throws {
      if case .drifted(_, reapplied: false) = try global.workflow().driftCheck(lockTimeout: lockTimeout) {
        throw ExitCode(1)
      }
    }
  }
}
