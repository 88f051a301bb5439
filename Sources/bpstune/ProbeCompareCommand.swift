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

  @Option(help: ArgumentHelp("The probe server (`bpstune probe server` on the peer host).", valueName: "ADDR:PORT"))
  var peer: String

  @Option(name: .customLong("set"), help: ArgumentHelp("Set a profile variable.", valueName: "NAME=VALUE"))
  var assignments: [String] = []

  @Option(
    name: .customLong("workload"),
    help: ArgumentHelp(
      "A workload: requests per second (0 or closed: closed loop) and µs of application delay; repeatable. Default: closed:0 and 10000:30.",
      valueName: "RATE:DELAY"))
  var workloads: [String] = []

  @Option(help: ArgumentHelp("Seconds to wait after each apply before measuring.", valueName: "SECONDS"))
  var settle = 1.0

  @Option(help: ArgumentHelp("Write a percentile-distribution chart (SVG) here.", valueName: "FILE.svg"))
  var plot: String?

  @Flag(help: "Apply what this host can take of each profile.")
  var skipUnsupported = false

  @Option(help: "Seconds to wait for another bpstune run to finish.")
  var lockTimeout = 30

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? "probe compare" : nil }

  @OptionGroup var workload: ProbeWorkloadOptions
  @OptionGroup var socket: ProbeSocketOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if !(settle >= 0 && settle <= 600) { throw ValidationError("--settle \(settle): must be 0 to 600 s") }
    try Validate.lockTimeout(lockTimeout)
    for profile in profiles { try Validate.text(profile, "profile") }
    try Validate.text(plot, "--plot")
    try Validate.usage {
      let client = try clientSettings()
      for workload in try parsedWorkloads() {
        var each = client
        each.rate = workload.rate
        each.delay = workload.delay
        try each.validate(combination: false)
      }
    }
  }

  func clientSettings() throws -> ProbeClient.Settings {
    try Self.clientSettings(peer: peer, workload: workload, socket: socket)
  }

  /// The client's settings for a command that measures profiles (compare, sweep).
  static func clientSettings(peer: String, workload: ProbeWorkloadOptions, socket: ProbeSocketOptions) throws
    -> ProbeClient.Settings
  {
    try Validate.text(peer, "--peer")
    try Validate.interface(workload.interface)
    var client = ProbeClient.Settings(peer: try SocketAddress(parsing: peer))
    workload.apply(to: &client)
    // Whether the application-side options go together is checked per profile, with its [probe].
    client.socket = try socket.settings(validating: false)
    try client.validate(combination: false)
    return client
  }

  func parsedWorkloads() throws -> [ProbeCompare.Workload] {
    try workloads.isEmpty ? ProbeCompare.Workload.defaults : workloads.map(ProbeCompare.Workload.init)
  }

  func run() throws {
    let client = try clientSettings()
    let parsed = try parsedWorkloads()
    let overrides = try VariableOptions.overrides(assignments)
    // -i sets ${iface} in the profiles that use it; one that names its interfaces is fine too.
    let loaded = try profiles.map {
      try ProfileLoader().load($0, overrides: overrides, interface: workload.interface, interfaceIfUsed: true)
    }
    for profile in loaded { try global.require(Privilege.needed(for: profile).union([.root]), for: "probe compare") }
    Syscalls.catchInterrupts()
    let lock = try global.lock(timeout: lockTimeout)
    defer { lock.release() }
    var compare = ProbeCompare(
      executor: global.executor(global.host()), client: client, workloads: parsed, settle: settle,
      skipUnsupported: skipUnsupported)
    compare.explicit = socket.explicit
    if !global.quiet { compare.log = { Output.note("probe compare: \($0)") } }
    let (columns, failure) = try compare.run(loaded)
    // What was measured before a failure is shown and plotted all the same (marked incomplete).
    if !columns.isEmpty || failure == nil {
      print(
        format == .json
          ? CompareReport.json(columns, workloads: parsed) : CompareReport.table(columns, workloads: parsed))
    }
    if let plot, !columns.isEmpty {
      do {
        try Syscalls.writeDurably(
          plot, Array(CompareReport.svg(columns, workloads: parsed).utf8), mode: Syscalls.readableByAll)
      } catch {
        throw BPSTuneError.usage("--plot \(plot): \(error) (the table is above; the host is as before)")
      }
    }
    if let failure {
      // JSON readers already have the document, incomplete column and all: the line and the code.
      if format == .json && !columns.isEmpty {
        Output.error(failure.description)
        throw ExitCode(failure.exitCode)
      }
      throw failure
    }
  }
}
