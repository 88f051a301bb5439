import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTuneProbe

/// What the commands that apply profiles and measure them take alike (`probe compare`,
/// `probe sweep`): the peer, the profiles' variables, the workloads, the settling time, the
/// lock's timeout, and the client's workload and socket options.
struct ProbeRunOptions: ParsableArguments {
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

  @Flag(help: "Apply what this host can take of each profile.")
  var skipUnsupported = false

  @Option(help: "Seconds to wait for another bpstune run to finish.")
  var lockTimeout = 30

  @OptionGroup var workload: ProbeWorkloadOptions
  @OptionGroup var socket: ProbeSocketOptions

  func validate() throws {
    if !(settle >= 0 && settle <= 600) { throw ValidationError("--settle \(settle): must be 0 to 600 s") }
    try Validate.lockTimeout(lockTimeout)
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

  /// The client's settings; whether the application-side options go together is checked per
  /// profile, with its [probe] (``ProbeCompare/check(_:)``).
  func clientSettings() throws -> ProbeClient.Settings {
    try Validate.text(peer, "--peer")
    try Validate.interface(workload.interface)
    var client = ProbeClient.Settings(peer: try SocketAddress(parsing: peer))
    workload.apply(to: &client)
    client.socket = try socket.settings(validating: false)
    try client.validate(combination: false)
    return client
  }

  func parsedWorkloads() throws -> [ProbeCompare.Workload] {
    try workloads.isEmpty ? ProbeCompare.Workload.defaults : workloads.map(ProbeCompare.Workload.init)
  }

  func overrides() throws -> [String: String] { try VariableOptions.overrides(assignments) }

  /// A profile with `--set` and `-i` (for ${iface}, in the profiles that use it).
  func load(_ reference: String) throws -> Profile {
    try ProfileLoader().load(
      reference, overrides: try overrides(), interface: workload.interface, interfaceIfUsed: true)
  }

  /// The apply-measure-rollback runner over `executor`, with the command line's explicit
  /// application-side options winning over each profile's [probe].
  func compare(_ executor: Executor) throws -> ProbeCompare {
    var compare = ProbeCompare(
      executor: executor, client: try clientSettings(), workloads: try parsedWorkloads(), settle: settle,
      skipUnsupported: skipUnsupported)
    compare.explicit = socket.explicit
    return compare
  }

  /// What a result file's failure says after the table was printed.
  static let afterTable = " (the table is above; the host is as before)"

  /// Ends a run that failed after its document was printed: JSON readers already have it, so
  /// the line goes to standard error and the exit code follows the failure.
  static func fail(_ failure: BPSTuneError, documentPrinted: Bool) throws -> Never {
    if documentPrinted {
      Output.error(failure.description)
      throw ExitCode(failure.exitCode)
    }
    throw failure
  }
}
