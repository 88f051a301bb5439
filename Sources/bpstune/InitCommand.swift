import ArgumentParser
import BPSTuneCore
import BPSTuneKernel

struct InitCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Write a site profile from this host's topology: which CPUs poll, run the application and keep the OS.",
    discussion: """
      Reads the NICs' NUMA nodes and local CPUs, drivers, channels and queue IRQs, the CPUs' cores, \
      SMT siblings and L3 caches, isolcpus/nohz_full/rcu_nocbs/irqaffinity on /proc/cmdline, irqbalance, \
      and what this kernel can do for busy polling; decides the base profile, the housekeeping, poll \
      and application CPUs, the channels and the boot parameters, and writes a profile that includes \
      the base and sets its variables, every decision a comment with its evidence. Read-only on the \
      host. Exit 2 when the host has too few CPUs for the layout asked for.
      """)

  @Option(
    name: [.customShort("i"), .customLong("interface")],
    help: ArgumentHelp("A NIC to lay out (repeatable; default: the host's only NIC with a device).", valueName: "IF"),
    completion: .custom { _, _, _ in Completion.interfaces() })
  var interfaces: [String] = []

  @Option(
    help: ArgumentHelp("The profile to include (default: the strongest this kernel can take).", valueName: "PROFILE"))
  var base: String?

  @Option(
    name: .customLong("poll-cpus"),
    help: ArgumentHelp("CPUs that poll each NIC and take its IRQs (default 1).", valueName: "N"))
  var pollCPUs: Int?

  @Option(
    name: .customLong("app-cpus"),
    help: ArgumentHelp("CPUs for the application (default 1 where there is room).", valueName: "N"))
  var appCPUs: Int?

  @Option(help: ArgumentHelp("Write the profile to FILE (0644) instead of standard output.", valueName: "FILE"))
  var output: String?

  @Flag(help: "Replace an existing --output file.")
  var force = false

  @Option(help: "Output format: text (the profile) or json (the topology, decisions and profile).")
  var format: OutputFormat = .text

  @OptionGroup var options: ReadOptions

  var jsonCommandName: String? { format == .json ? "init" : nil }

  func validate() throws {
    for name in interfaces {
      try Validate.interface(name)
      // The name goes into a profile, where ${...} is a variable and *?[ a glob.
      if let why = SiteProfile.unwritableName(name) { throw ValidationError("-i \(name): \(why)") }
    }
    if Set(interfaces).count != interfaces.count { throw ValidationError("-i: an interface is given twice") }
    try Validate.text(base, "--base")
    try Validate.text(output, "--output")
    if output == "" { throw ValidationError("--output: an empty path") }
    try Validate.range(pollCPUs, "--poll-cpus", 1...CPUSet.maxCPU)
    try Validate.range(appCPUs, "--app-cpus", 0...CPUSet.maxCPU)
    if force && output == nil { throw ValidationError("--force: only with --output") }
  }

  func run() throws {
    let host = options.host()
    let names = try interfaces.isEmpty ? [Self.onlyNIC(host)] : interfaces
    let request = InitRequest(interfaces: names, base: base, pollCPUs: pollCPUs, appCPUs: appCPUs)
    let date = SnapshotStore.today()
    var report = try InitReport(
      host: host, request: request, loader: ProfileLoader(source: .standard(trust: .forThisProcess())),
      workingDirectory: try? Syscalls.currentDirectory(), command: commandLine(names), date: date)
    if let output { try report.write(to: output, replace: force) }
    switch format {
    case .json: print(report.json())
    case .text:
      if output == nil {
        Syscalls.writeStandardOutput(Printable.terminalSafe(report.profile, colour: false))
      } else if !options.quiet {
        report.summary().forEach { print($0) }
      }
      for warning in report.layout.warnings { Output.error("note: \(warning)") }
    }
  }

  /// The command as the profile's header records it.
  func commandLine(_ names: [String]) -> String {
    var words = ["bpstune", "init"] + names.flatMap { ["-i", $0] }
    if let base { words += ["--base", base] }
    if let pollCPUs { words += ["--poll-cpus", String(pollCPUs)] }
    if let appCPUs { words += ["--app-cpus", String(appCPUs)] }
    return words.joined(separator: " ")
  }

  /// Without -i: the host's only interface with a device (a NIC, not lo, a bridge or a veth).
  static func onlyNIC(_ host: KernelHost) throws -> String {
    let nics = host.interfaces.filter { host.exists("/sys/class/net/\($0)/device") }.sorted(by: KernelHost.naturalOrder)
    guard nics.count == 1 else {
      throw BPSTuneError.usage(
        nics.isEmpty
          ? "init: this host has no NIC with a device; name the interface with -i IF"
          : "init: this host has \(nics.count) NICs (\(nics.joined(separator: ", "))); name the one(s) to lay out with -i IF"
      )
    }
    return nics[0]
  }
}
