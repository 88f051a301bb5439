import ArgumentParser
import BPSTuneCore
import BPSTuneKernel

struct ApplyCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Apply a profile: snapshot every value it touches, write, read back; undo on failure.")

  @OptionGroup var profileOptions: ProfileOptions
  @OptionGroup var global: GlobalOptions
  @OptionGroup var reasonOption: ReasonOption

  @Flag(help: "Print the plan (the same as diff) and change nothing.")
  var dryRun = false

  @Flag(help: "Apply what this host can take and list the unsupported settings skipped.")
  var skipUnsupported = false

  @Option(help: "Seconds to wait for another bpstune run to finish.")
  var lockTimeout = 30

  @Option(help: "After a successful apply, keep at least this many of the newest snapshots (see snapshots prune).")
  var keepSnapshots = SnapshotHistory.defaultKeep

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? (dryRun ? "apply --dry-run" : "apply") : nil }

  func validate() throws {
    try Validate.lockTimeout(lockTimeout)
    try Validate.range(keepSnapshots, "--keep-snapshots", 1...1_000_000)
  }

  func run() throws {
    let profile = try profileOptions.load()
    if !dryRun { try global.require(Privilege.needed(for: profile), for: "apply") }
    let host = global.host()
    if dryRun {
      let plan = try Planner().plan(profile, on: host)
      let refused = !plan.unsupported.isEmpty && !skipUnsupported
      // One JSON document per run: a refused plan's is the error, which lists the settings.
      if format == .text {
        print(PlanReport.text(plan, style: global.style, quiet: global.quiet))
      } else if !refused {
        print(PlanReport.json(plan, command: "apply --dry-run"))
      }
      if refused {
        throw BPSTuneError.unsupportedSettings(plan.unsupported.map { Printable.Item($0.id, ": \($0.reason ?? "")") })
      }
      return
    }
    StopReport.install(doing: "applying \(profile.name)")
    let lock = try global.lock(timeout: lockTimeout)
    defer { lock.release() }
    StopReport.doing("reading the current values to plan \(profile.name)")
    var executor = global.executor(host)
    executor.reason = reasonOption.reason
    let outcome = try Applier(executor: executor).apply(profile, skipUnsupported: skipUnsupported)
    if let snapshot = outcome.snapshot {
      Output.warnIfUnrecorded(snapshot)
      // Retention: the host is tuned; a failure to delete old snapshots only warns.
      do {
        let deleted = try global.store.prune(keep: keepSnapshots)
        if global.verbose && !deleted.isEmpty {
          Output.note("  deleted settled snapshots: \(deleted.joined(separator: ", "))")
        }
      } catch {
        Output.error("warning: could not delete old snapshots: \(error)")
      }
    }
    if format == .json {
      print(
        PlanReport.json(
          outcome.plan, command: "apply", snapshot: outcome.snapshot?.id, skipped: OutcomeReport.skippedJSON(outcome)))
      return
    }
    print(PlanReport.text(outcome.plan, style: global.style, quiet: global.quiet))
    for line in OutcomeReport.skipped(outcome) { print(line) }
    print(OutcomeReport.summary(outcome, .apply))
    if let line = OutcomeReport.rebootLine(outcome, profile: profileOptions.profile) { print(line) }
  }
}

struct DiffCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Show what apply would change: current -> desired per setting. Exit 1 when the host differs.")

  @OptionGroup var profileOptions: ProfileOptions
  @OptionGroup var global: GlobalOptions

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? "diff" : nil }

  func run() throws {
    let profile = try profileOptions.load()
    let plan = try Planner().plan(profile, on: global.host())
    print(
      format == .json
        ? PlanReport.json(plan, command: "diff") : PlanReport.text(plan, style: global.style, quiet: global.quiet))
    if plan.differs { throw ExitCode(1) }
  }
}

struct VerifyCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract:
      "Check the host against a profile, per setting (expected, actual, supported). Exit 1 on drift or an unsupported setting."
  )

  @OptionGroup var profileOptions: ProfileOptions
  @OptionGroup var global: GlobalOptions

  @Option(help: "Output format: text, json, junit or prometheus (node_exporter textfile).")
  var format: VerifyReport.Format = .text

  @Option(help: "Write the report to this file (atomically) instead of standard output.")
  var output: String?

  @Flag(
    help: ArgumentHelp(
      "Pass settings this host cannot take (as tuned-adm verify --ignore-missing).",
      discussion: "By default an unsupported setting, a misspelt sysctl included, fails verify (exit 1)."))
  var ignoreUnsupported = false

  var jsonCommandName: String? { format == .json ? "verify" : nil }

  func validate() throws {
    try Validate.text(output, "--output")
  }

  func run() throws {
    let profile = try profileOptions.load()
    let plan = try Planner().plan(profile, on: global.host())
    let report = VerifyReport.render(
      plan, format: format, style: output == nil ? global.style : TextStyle(color: false),
      ignoreUnsupported: ignoreUnsupported, quiet: global.quiet)
    if let output {
      do {
        try Syscalls.writeDurably(output, Array((report + "\n").utf8), mode: Syscalls.readableByAll)
      } catch {
        throw BPSTuneError.usage("--output \(output): \(error)")
      }
    } else {
      print(report)
    }
    if !VerifyReport.passes(plan, ignoreUnsupported: ignoreUnsupported) { throw ExitCode(1) }
  }
}
