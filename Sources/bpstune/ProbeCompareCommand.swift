import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTuneProbe

struct ProbeCompareCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Apply each profile in turn, measure each workload against a probe server, roll back; one table.",
    discussion: """
      Every profile is planned first: one this host cannot take fails before anything changes. \
      Each apply takes a snapshot first, like `bpstune apply`, and is rolled back after its \
      measurements; the host ends as it began. After a kill -9, `bpstune rollback` undoes the \
      apply left in place. Exit 3 when a measurement failed after an apply (rolled back).

      A profile's [probe] section (the application side it assumes) sets --receive, --busy-poll, \
      --busy-poll-budget and --prefer-busy-poll for its own runs unless the command line gives \
      them; the table's first row says what each profile ran with.
      """)

  @Argument(
    help: "Profiles to compare, names or paths; each becomes a column.",
    completion: .custom { _, _, _ in Completion.profiles() })
  var profiles: [String]

  @Option(help: ArgumentHelp("Write a percentile-distribution chart (SVG) here.", valueName: "FILE.svg"))
  var plot: String?

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? "probe compare" : nil }

  @OptionGroup var measure: ProbeRunOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    for profile in profiles { try Validate.text(profile, "profile") }
    try Validate.text(plot, "--plot")
  }

  func run() throws {
    let parsed = try measure.parsedWorkloads()
    let loaded = try profiles.map(measure.load)
    for profile in loaded { try global.require(Privilege.needed(for: profile).union([.root]), for: "probe compare") }
    Syscalls.catchInterrupts()
    let lock = try global.lock(timeout: measure.lockTimeout)
    defer { lock.release() }
    var compare = try measure.compare(global.executor(global.host()))
    if !global.quiet { compare.log = { Output.note("probe compare: \($0)") } }
    let (columns, failure) = try compare.run(loaded)
    // What was measured before a failure is shown and plotted all the same (marked incomplete).
    if !columns.isEmpty || failure == nil {
      print(
        format == .json
          ? CompareReport.json(columns, workloads: parsed) : CompareReport.table(columns, workloads: parsed))
    }
    if let plot, !columns.isEmpty {
      try ResultFile.write(
        "--plot", plot, CompareReport.svg(columns, workloads: parsed), replace: true, taken: "",
        note: ProbeRunOptions.afterTable)
    }
    if let failure { try ProbeRunOptions.fail(failure, documentPrinted: format == .json && !columns.isEmpty) }
  }
}
