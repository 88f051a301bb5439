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
    subcommands: [ProbeServerCommand.self, ProbeClientCommand.self, ProbeCompareCommand.self])
}

/// The default port of the probe server.
let probeDefaultPort = 7878

/// Receive mode, busy polling and thread placement: the same options on both ends.
struct ProbeSocketOptions: ParsableArguments {
  @Option(
    name: .customLong("receive"),
    help: "How to wait for a packet: blocking recv, spin (non-blocking recv in a loop), or epoll.")
  var receiveMode: ReceiveMode = .blocking

  @Option(
    name: .customLong("busy-poll"),
    help: ArgumentHelp(
      "Busy-poll the socket's NAPI this long (SO_BUSY_POLL; in epoll mode the epoll instance's EPIOCSPARAMS).",
      valueName: "USECS"))
  var busyPoll: Int?

  @Flag(help: "SO_PREFER_BUSY_POLL (or epoll's prefer_busy_poll).")
  var preferBusyPoll = false

  @Option(help: ArgumentHelp("SO_BUSY_POLL_BUDGET (or epoll's busy_poll_budget).", valueName: "N"))
  var busyPollBudget: Int?

  @Option(help: ArgumentHelp("Pin the probe's threads to these CPUs (sched_setaffinity).", valueName: "CPUS"))
  var cpu: String?

  @Option(help: ArgumentHelp("Run the probe's threads SCHED_FIFO at this priority.", valueName: "PRIORITY"))
  var fifo: Int?

  func settings() throws -> ProbeSocketSettings {
    var s = ProbeSocketSettings()
    s.receiveMode = receiveMode
    s.busyPoll = busyPoll
    s.preferBusyPoll = preferBusyPoll
    s.busyPollBudget = busyPollBudget
    if let cpu {
      do {
        s.cpus = try CPUSet(list: cpu)
      } catch {
        throw ValidationError("--cpu \(cpu): \(error)")
      }
    }
    s.fifo = fifo
    try s.validate()
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

struct ProbeCompareCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Apply each profile in turn, measure each workload against a probe server, roll back; one table.",
    discussion: """
      Every profile is planned first: one this host cannot take fails before anything changes.
      Each apply takes a snapshot first, like `bpstune apply`, and is rolled back after its
      measurements; the host ends as it began. After a kill -9, `bpstune rollback` undoes the
      apply left in place. Exit 3 when a measurement failed after an apply (rolled back).
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
        try each.validate()
      }
    }
  }

  func clientSettings() throws -> ProbeClient.Settings {
    try Validate.text(peer, "--peer")
    try Validate.interface(workload.interface)
    var client = ProbeClient.Settings(peer: try SocketAddress(parsing: peer))
    workload.apply(to: &client)
    client.socket = try socket.settings()
    try client.validate()
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
