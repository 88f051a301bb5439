import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTuneProbe

struct ProbeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "probe",
    abstract: "Measure round-trip latency on a real path, and prove how packets were received.",
    discussion: """
      Run `bpstune probe server` on the peer host and `bpstune probe client PEER:PORT` here.
      `bpstune probe compare` applies each profile in turn, measures, and rolls it back.
      """,
    subcommands: [ProbeServerCommand.self, ProbeClientCommand.self, ProbeCompareCommand.self, ProbeSweepCommand.self])
}

/// The default port of the probe server.
let probeDefaultPort = 7878

/// Receive mode, busy polling and thread placement: the same options on both ends. The
/// application-side ones are nil when not given, so that `probe compare` can tell them from a
/// profile's [probe] (the command line wins where it says something).
struct ProbeSocketOptions: ParsableArguments {
  @Option(
    name: .customLong("receive"),
    help: ArgumentHelp(
      "How to wait for a packet: blocking recv, spin (non-blocking recv in a loop), or epoll. Default: blocking (compare: the profile's [probe], else blocking)."
    ))
  var receiveMode: ReceiveMode?

  @Option(
    name: .customLong("busy-poll"),
    help: ArgumentHelp(
      "Busy-poll the socket's NAPI this long (SO_BUSY_POLL; in epoll mode the epoll instance's EPIOCSPARAMS).",
      valueName: "USECS"))
  var busyPoll: Int?

  @Flag(inversion: .prefixedNo, help: "SO_PREFER_BUSY_POLL (or epoll's prefer_busy_poll); off unless given.")
  var preferBusyPoll: Bool?

  @Option(help: ArgumentHelp("SO_BUSY_POLL_BUDGET (or epoll's busy_poll_budget).", valueName: "N"))
  var busyPollBudget: Int?

  @Option(help: ArgumentHelp("Pin the probe's threads to these CPUs (sched_setaffinity).", valueName: "CPUS"))
  var cpu: String?

  @Option(help: ArgumentHelp("Run the probe's threads SCHED_FIFO at this priority.", valueName: "PRIORITY"))
  var fifo: Int?

  /// The application-side options given on the command line; nil fields were not given.
  var explicit: ApplicationSide {
    ApplicationSide(
      receive: receiveMode, busyPoll: busyPoll, busyPollBudget: busyPollBudget, preferBusyPoll: preferBusyPoll)
  }

  /// The settings with the defaults filled in. `validating: false` checks each number but not
  /// the combination, which a profile's [probe] may complete (compare checks it per profile).
  func settings(validating: Bool = true) throws -> ProbeSocketSettings {
    var s = ProbeSocketSettings()
    s.receiveMode = receiveMode ?? .blocking
    s.busyPoll = busyPoll
    s.preferBusyPoll = preferBusyPoll ?? false
    s.busyPollBudget = busyPollBudget
    if let cpu {
      do {
        s.cpus = try CPUSet(list: cpu)
      } catch {
        throw ValidationError("--cpu \(cpu): \(error)")
      }
    }
    s.fifo = fifo
    try s.validate(combination: validating)
    return s
  }
}

extension ReceiveMode: ExpressibleByArgument {}
extension ProbeSocket.Kind: ExpressibleByArgument {}

struct ProbeServerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "server",
    abstract: "Echo probe requests over UDP and TCP on one port until interrupted.",
    discussion: """
      Listens on 127.0.0.1:\(probeDefaultPort) unless --bind names another address: give the \
      address the client reaches (or 0.0.0.0:\(probeDefaultPort) for every address) on a \
      measuring host. Replies carry a reply flag; a message that is itself a reply, or a \
      datagram from the server's own address and port, is never answered. TCP is served by one \
      epoll thread: at most --max-connections peers at once (more are closed at once), each \
      closed after --idle-timeout seconds without a whole message answered (a byte now and then \
      does not keep it); each wake-up answers at most \(ProbeServer.messagesPerWakeup) messages \
      of a connection and accepts at most \(ProbeServer.acceptsPerWakeup) connections, so that no \
      peer holds up the others.
      """)

  @Option(
    help: ArgumentHelp(
      "Address and port to listen on (port 0: any free port; 0.0.0.0:PORT: every address).",
      valueName: "ADDR:PORT"))
  var bind = "127.0.0.1:\(probeDefaultPort)"

  @Option(help: ArgumentHelp("Stop after this many seconds.", valueName: "SECONDS"))
  var duration: Double?

  @Option(help: ArgumentHelp("TCP peers served at once (1 to 1024); more are closed at once.", valueName: "N"))
  var maxConnections = 8

  @Option(
    help: ArgumentHelp(
      "Close a TCP peer that has had no whole message answered for this many seconds.", valueName: "SECONDS"))
  var idleTimeout = 10.0

  @OptionGroup var socket: ProbeSocketOptions

  func settings() throws -> ProbeServer.Settings {
    try Validate.text(bind, "--bind")
    var settings = ProbeServer.Settings(bind: try SocketAddress(parsing: bind))
    settings.socket = try socket.settings()
    settings.duration = duration
    settings.maxConnections = maxConnections
    settings.idleTimeout = idleTimeout
    try settings.validate()
    return settings
  }

  func validate() throws {
    try Validate.usage { _ = try settings() }
  }

  func run() throws {
    let settings = try settings()
    Syscalls.catchInterrupts()
    let counts = try ProbeServer(settings: settings).run { bound in
      Syscalls.writeStandardOutput(
        "listening on \(bound) (udp, tcp), \(settings.socket.summary), at most \(settings.maxConnections) tcp peer(s)\n"
      )
    }
    Syscalls.writeStandardOutput(
      "echoed \(counts.udp) udp and \(counts.tcp) tcp request(s) on \(counts.connections) connection(s);"
        + " dropped \(counts.dropped) (replies, own address), closed \(counts.refused) over the limit and"
        + " \(counts.idleClosed) idle\n")
  }
}

/// The workload options of client and compare.
struct ProbeWorkloadOptions: ParsableArguments {
  @Option(name: .customLong("protocol"), help: "udp or tcp.")
  var transport: ProbeSocket.Kind = .udp

  @Option(help: ArgumentHelp("Message size in bytes (32 or more).", valueName: "BYTES"))
  var size = 64

  @Option(help: ArgumentHelp("Seconds to measure.", valueName: "SECONDS"))
  var duration = 5.0

  @Option(help: ArgumentHelp("Measure this many round trips instead of a duration.", valueName: "N"))
  var count: Int?

  @Option(help: ArgumentHelp("Seconds of the same workload before measuring, discarded.", valueName: "SECONDS"))
  var warmup = 0.5

  @Option(help: ArgumentHelp("A request without a reply this long counts as lost.", valueName: "MS"))
  var timeout = 1000

  @Option(
    name: [.customShort("i"), .customLong("interface")],
    help: ArgumentHelp(
      "Interface whose queue IRQs are counted (default: the one holding the local address).", valueName: "IF"),
    completion: .custom { _, _, _ in Completion.interfaces() })
  var interface: String?
}

struct ProbeClientCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "client",
    abstract: "Measure request/response round trips against a probe server.",
    discussion: """
      Without --rate: a closed loop (one request at a time). With --rate: an open loop; a thread
      sends on schedule and each round trip counts from when its request was due. --delay spends
      that many µs of busy work after each reply, as an application would.
      """)

  @Argument(help: ArgumentHelp("The probe server.", valueName: "ADDR:PORT"))
  var peer: String

  @Option(help: ArgumentHelp("Requests per second (open loop).", valueName: "PKTS_PER_S"))
  var rate: Int?

  @Option(help: ArgumentHelp("µs of application work after each reply.", valueName: "USECS"))
  var delay = 0

  @OptionGroup var workload: ProbeWorkloadOptions
  @OptionGroup var socket: ProbeSocketOptions

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? "probe client" : nil }

  func settings() throws -> ProbeClient.Settings {
    try Validate.text(peer, "peer")
    try Validate.interface(workload.interface)
    var settings = ProbeClient.Settings(peer: try SocketAddress(parsing: peer))
    settings.rate = rate
    settings.delay = delay
    workload.apply(to: &settings)
    settings.socket = try socket.settings()
    try settings.validate()
    return settings
  }

  func validate() throws {
    try Validate.usage { _ = try settings() }
  }

  func run() throws {
    let settings = try settings()
    Syscalls.catchInterrupts()
    let result = try ProbeClient(settings: settings).run()
    print(format == .json ? ProbeReport.json(result) : ProbeReport.text(result))
    // Busy polling asked for and not engaged: the causes this host can check, one line each.
    if format == .text {
      for line in ProbeDiagnosis.causes(result, on: KernelHost(root: "/")) { print("  why            " + line) }
    }
    if let error = result.rateError {
      // JSON readers have the document (rate_sustained false): the line and the code, not a
      // second document.
      if format == .json {
        Output.error(error.description)
        throw ExitCode(error.exitCode)
      }
      throw error
    }
  }
}

extension ProbeWorkloadOptions {
  func apply(to settings: inout ProbeClient.Settings) {
    settings.transport = transport
    settings.size = size
    settings.duration = duration
    settings.count = count
    settings.warmup = warmup
    settings.timeout = timeout
    settings.interface = interface
  }
}
