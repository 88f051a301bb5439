import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTuneProbe

struct ProbeSweepCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "sweep",
    abstract:
      "Choose a profile's values by measurement: every combination applied, measured and rolled back, interleaved.",
    discussion: """
      SETTING is a variable of the profile or a setting as diff names it: a sysctl \
      (net.core.busy_read), a /sys path, an interface key (napi-defer-hard-irqs, gro-flush-timeout), \
      a field (coalesce.rx-usecs) or a per-NAPI key (napi.defer-hard-irqs, irq-suspend-timeout). \
      Values are separated by commas, or by | where they hold commas. Every candidate is planned \
      first; then each repeat runs every candidate once, in an order drawn from --seed: apply \
      (snapshot first), settle, measure each workload, roll back. The choice: the best objective, \
      and among the candidates whose intervals overlap its interval, the least CPU per round trip. \
      The host ends as it began; after a kill -9, `bpstune rollback` undoes the candidate left applied.
      """)

  @Argument(help: "The profile whose values to vary.", completion: .custom { _, _, _ in Completion.profiles() })
  var profile: String

  @Option(
    name: .customLong("vary"),
    help: ArgumentHelp("A setting and its values (repeatable).", valueName: "SETTING=V1,V2,..."))
  var varies: [String] = []

  @Option(help: ArgumentHelp("Times each candidate is measured (1 to 50).", valueName: "N"))
  var `repeat` = 3

  @Option(help: ArgumentHelp("What to minimise: p50, p99 or p99.9.", valueName: "PERCENTILE"))
  var objective = "p99"

  @Option(help: ArgumentHelp("The order's seed (default: drawn at random and printed).", valueName: "N"))
  var seed: UInt64?

  @Option(
    help: ArgumentHelp("Write a chart of the objective and its interval per candidate (SVG).", valueName: "FILE.svg"))
  var plot: String?

  @Option(help: ArgumentHelp("Write a profile with the chosen values (a new file).", valueName: "FILE.profile"))
  var write: String?

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? "probe sweep" : nil }

  @OptionGroup var measure: ProbeRunOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    try Validate.text(profile, "profile")
    for vary in varies { try Validate.text(vary, "--vary") }
    try Validate.text(plot, "--plot")
    try Validate.text(write, "--write")
    try Validate.range(`repeat`, "--repeat", 1...ProbeSweep.maxRepeats)
    if SweepReport.Objective(rawValue: objective) == nil {
      throw ValidationError("--objective \(objective): one of p50, p99, p99.9")
    }
    if varies.isEmpty { throw ValidationError("probe sweep: give at least one --vary SETTING=V1,V2,...") }
  }

  func run() throws {
    let parsed = try measure.parsedWorkloads()
    let overrides = try measure.overrides()
    let base = try measure.load(profile)
    let plan = try SweepPlan(profile: base, varies: varies.map { try SweepVary(parsing: $0, profile: base) })
    let profiles = try ProbeSweep.load(plan, overrides: overrides, interface: measure.workload.interface)
    if let write { try ResultFile.check("--write", write, new: true, note: "nothing was measured") }
    if let plot { try ResultFile.check("--plot", plot, new: false, note: "nothing was measured") }
    for p in profiles { try global.require(Privilege.needed(for: p).union([.root]), for: "probe sweep") }
    var random = SystemRandomNumberGenerator()
    let seed = self.seed ?? random.next()
    Syscalls.catchInterrupts()
    let lock = try global.lock(timeout: measure.lockTimeout)
    defer { lock.release() }
    var sweep = ProbeSweep(
      plan: plan, profiles: profiles, compare: try measure.compare(global.executor(global.host())), repeats: `repeat`,
      seed: seed)
    if !global.quiet {
      sweep.log = { Output.note("probe sweep: \($0)") }
      sweep.compare.log = { Output.note("probe sweep:   \($0)") }
    }
    let (runs, failure) = try sweep.run()
    let report = SweepReport(
      plan: sweep.plan, runs: runs, workloads: parsed, objective: SweepReport.Objective(rawValue: objective)!,
      repeats: `repeat`, seed: seed, incomplete: failure?.description)
    print(format == .json ? report.json() : report.table())
    // The chosen profile first: a chart that cannot be written does not lose it.
    if let write, failure == nil { try writeProfile(report, to: write, base: base, overrides: overrides) }
    if let plot, !runs.isEmpty {
      try ResultFile.write("--plot", plot, report.svg(), replace: true, taken: "", note: ProbeRunOptions.afterTable)
    }
    if let failure { try ProbeRunOptions.fail(failure, documentPrinted: format == .json) }
  }

  /// --write: the chosen values as a profile that includes the swept one; loaded and planned
  /// here before it is written, as init does, so that it lints clean and diffs at once.
  func writeProfile(_ report: SweepReport, to path: String, base: Profile, overrides: [String: String]) throws {
    let date = SnapshotStore.today()
    let host = global.host()
    let driver = measure.workload.interface.flatMap { try? host.ethtool.driverInfo($0).driver }
    var variables = overrides
    if let interface = measure.workload.interface, base.variableNames.contains("iface") {
      variables["iface"] = interface
    }
    let include = ProfileSource.isPath(profile) ? base.path : profile
    guard
      let text = report.chosenProfile(
        include: include, interfaceName: try SweepPlan.interfaceName(of: base, raw: base.interfaces.map(\.name)),
        overrides: variables,
        command: (["bpstune", "probe", "sweep", profile] + varies.flatMap { ["--vary", $0] }).joined(separator: " "),
        date: date, kernel: Syscalls.uname().release, driver: driver)
    else {
      throw BPSTuneError.usage("--write \(path): no decision to write (the profile as written was not measured)")
    }
    let made: Profile
    do {
      made = try ProfileLoader().load(text: text, path: path)
    } catch {
      throw BPSTuneError.usage("--write \(path): the profile made does not load (a bug in probe sweep): \(error)")
    }
    do {
      _ = try Planner().plan(made, on: host)
    } catch {
      throw BPSTuneError.usage("--write \(path): the profile made does not plan on this host: \(error)")
    }
    try ResultFile.write(
      "--write", path, text, replace: false, taken: "written meanwhile", note: ProbeRunOptions.afterTable)
  }
}
