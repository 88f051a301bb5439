import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// `bpstune init` on topology fixtures (``TopologyScenario``): the layout's facts checked
/// directly, the profile text against a golden file (Fixtures/init/NAME.profile, reviewed by
/// hand once; `BPSTUNE_UPDATE_GOLDEN=1 swift test --filter InitTests` writes them all again),
/// and every golden profile loaded by the ProfileLoader and planned on its fixture, as `bpstune
/// lint` and `bpstune diff` would.
@Suite struct InitTests {
  /// A fixture and what init is asked on it; its golden is Fixtures/init/NAME.profile.
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var request: InitRequest
    var make: @Sendable () -> TopologyScenario
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "vm4", request: InitRequest(interfaces: ["eth0"])) { .vm4() },
    Case(name: "vm4-irqbalance", request: InitRequest(interfaces: ["eth0"])) { .vm4(irqbalance: true) },
    Case(name: "two-socket", request: InitRequest(interfaces: ["eth0"])) { .twoSocket() },
    Case(name: "two-socket-isolcpus", request: InitRequest(interfaces: ["eth0"])) {
      .twoSocket(
        cmdline: "BOOT_IMAGE=/vmlinuz-7.0 root=/dev/sda1 ro isolcpus=managed_irq,domain,20-23 nohz_full=20-23 quiet")
    },
    Case(name: "two-node-numa-unknown", request: InitRequest(interfaces: ["eth0"])) { .twoSocket(nicNode: -1) },
    Case(name: "two-socket-poll-cpus-2", request: InitRequest(interfaces: ["eth0"], pollCPUs: 2)) { .twoSocket() },
    Case(name: "two-socket-base-hft", request: InitRequest(interfaces: ["eth0"], base: "hft")) { .twoSocket() },
    Case(name: "two-socket-base-napi-busy-poll", request: InitRequest(interfaces: ["eth0"], base: "napi-busy-poll")) {
      .twoSocket()
    },
    Case(name: "two-socket-6.12", request: InitRequest(interfaces: ["eth0"])) { .twoSocket(netdev: "6.12") },
    Case(name: "two-nics", request: InitRequest(interfaces: ["eth0", "eth1"])) { twoNICs() },
    Case(name: "hostile-host", request: InitRequest(interfaces: ["eth0"])) { hostile() },
    Case(name: "odd-names", request: InitRequest(interfaces: oddNames)) { oddNamesHost() },
    Case(name: "rx-tx-channels-base-seed002-host", request: InitRequest(interfaces: ["eth0"], base: "seed002-host")) {
      .rxTxChannels()
    },
  ]

  static func named(_ name: String) -> Case { cases.first { $0.name == name }! }

  /// eth0 on node 1 as in ``TopologyScenario/twoSocket(cmdline:nicNode:netdev:hostname:)``, and
  /// an igb-like eth1 on node 0 with 4 combined channels.
  static func twoNICs() -> TopologyScenario {
    let s = TopologyScenario.twoSocket()
    s.addNIC("eth1", numaNode: 0, localCPUs: "0-15,32-47", channels: ([0, 0, 1, 4], [0, 0, 1, 4]), queues: 4)
    return s
  }

  /// Values from the host that a careless writer would put into the profile as they are: a
  /// host name with a newline, a quote, a would-be section and a backslash (a written `\n` beside
  /// the real newlines, and one at its end), a kernel release with a quote, a driver with a
  /// quote, a bracket and an escape sequence, a DMI product name with a newline, an isolcpus=
  /// flag with a backslash (which the kernel refuses, and with it the whole isolcpus=).
  static let hostileHostname = "evil\n[sysctl]\nnet.core.busy_read = 999\n\"x\\n\\"
  static func hostile() -> TopologyScenario {
    let s = TopologyScenario(
      cpus: 8, nodes: ["0-7"], l3: ["0-7"], release: "6.12.0\"\n[cmdline]\nquiet=\"1", netdev: "6.12",
      hostname: hostileHostname, cmdline: #"ro isolcpus=do\main,6-7 quiet"#)
    s.kernel.set("/sys/class/dmi/id/sys_vendor", "QEMU\n[sysfs]\n\"x\" = \"1\"")
    s.addNIC("eth0", driver: "ig\"b]\u{1B}[31m", numaNode: 0, localCPUs: "0-7")
    return s
  }

  /// Interface names the kernel allows (any byte but "/", ":", white space and NUL) that a
  /// careless writer would break: a quote, braces and a written `\n`; a written `\x1B`, which
  /// reads as an escaped ESC unless a comment's backslashes are escaped too.
  static let oddNames = [#"e"{0}\n"#, #"f\x1B"#]
  static func oddNamesHost() -> TopologyScenario {
    let s = TopologyScenario(cpus: 8, nodes: ["0-7"], l3: ["0-7"], hostname: "names")
    for name in oddNames { s.addNIC(name, numaNode: 0, localCPUs: "0-7", queues: 2) }
    return s
  }

  // MARK: Golden files

  static let goldenDirectory = (#filePath as NSString).deletingLastPathComponent + "/Fixtures/init"
  static let updateGolden = ProcessInfo.processInfo.environment["BPSTUNE_UPDATE_GOLDEN"] == "1"

  /// `text` is Fixtures/init/NAME.profile; with BPSTUNE_UPDATE_GOLDEN=1 it becomes it.
  func expectGolden(_ name: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = Self.goldenDirectory + "/\(name).profile"
    if Self.updateGolden {
      try FileManager.default.createDirectory(atPath: Self.goldenDirectory, withIntermediateDirectories: true)
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return
    }
    let golden = try #require(
      try? String(contentsOfFile: path, encoding: .utf8),
      "no golden \(path): BPSTUNE_UPDATE_GOLDEN=1 swift test --filter InitTests writes it (review it by eye)",
      sourceLocation: sourceLocation)
    #expect(
      text == golden,
      "\(name): the profile differs from \(path) (BPSTUNE_UPDATE_GOLDEN=1 to accept, after review):\n\(text)",
      sourceLocation: sourceLocation)
  }

  @Test(arguments: cases)
  func profileIsTheGoldenAndLoadsAndPlansOnItsHost(_ c: Case) throws {
    let s = c.make()
    let report = try s.initReport(c.request)
    try expectGolden(c.name, report.profile)
    Self.expectSound(report.layout, report.topology)
    // The golden, as checked in, loads as any profile file does (lint) and plans on the host
    // it was made for (diff); the base's sysctl and sysfs names are all there (lint --host),
    // but where the machine cannot turn SMT off at all.
    let golden =
      Self.updateGolden
      ? report.profile : try String(contentsOfFile: Self.goldenDirectory + "/\(c.name).profile", encoding: .utf8)
    let (profile, plan) = try s.plan(golden)
    #expect(profile.files.count >= 2, "\(profile.files)")
    let lines = TopologyScenario.lines(plan)
    let missing = plan.unsupported.filter { [.sysctl, .sysfs].contains($0.id.kind) }
      .filter {
        !($0.id.key == "devices/system/cpu/smt/control"
          && s.kernel.get("/sys/devices/system/cpu/smt/control") == "notsupported")
      }
    #expect(missing.isEmpty, "\(c.name): \(lines)")
    // The variables the layout set are the values planned.
    let layout = report.layout
    let first = layout.nics[0]
    for nic in layout.nics where nic.hasIRQs {
      let irqs = plan.entries.filter { $0.id.kind == .irq && $0.id.interface == nic.name }
      #expect(!irqs.isEmpty && irqs.allSatisfy { $0.target.desired == nic.poll.listString }, "\(c.name): \(lines)")
      #expect(irqs.allSatisfy { $0.status == .change }, "\(c.name): \(lines)")
    }
    for nic in layout.nics {
      let channels = plan.entries.first {
        $0.id.kind == .channels && $0.id.interface == nic.name && $0.id.key == "channels"
      }
      let desired = channels?.target.desired.split(separator: " ") ?? []
      for channel in nic.channels {
        #expect(desired.contains("\(channel.name)=\(channel.count)"), "\(c.name): channels \(channel): \(lines)")
      }
      for field in nic.zeroedChannels { #expect(desired.contains("\(field)=0"), "\(c.name): \(field): \(lines)") }
    }
    // The channels init writes replace the base's: none of the merged channels is one this
    // host cannot take (the base's combined = 1 on a NIC with rx and tx channels only).
    #expect(!plan.unsupported.contains { $0.id.kind == .channels }, "\(c.name): \(lines)")
    for (name, value) in layout.cmdline {
      let entry = plan.entries.first { $0.id.kind == .cmdline && $0.id.key == name }
      let booted = s.kernel.get("/proc/cmdline")!.split(separator: " ").contains("\(name)=\(value)")
      #expect(entry?.status == (booted ? .ok : .reboot), "\(c.name): \(lines)")
      #expect(entry?.target.desired == "\(name)=\(value)", "\(c.name): \(lines)")
    }
    // The bases that set the workqueues' CPUs set them to the housekeeping CPUs.
    if let workqueue = plan.entries.first(where: { $0.id.key == "devices/virtual/workqueue/writeback/cpumask" }) {
      #expect((try? CPUSet(mask: workqueue.target.desired)) == layout.housekeeping, "\(c.name): \(lines)")
    }
    // A busy-poll kthread of the first NIC runs on its poll CPUs.
    let kthreads = plan.entries.filter { $0.id.kind == .kthread && $0.id.interface == first.name }
    #expect(kthreads.isEmpty != layout.base.name.hasPrefix("napi-threaded"), "\(c.name): \(lines)")
    #expect(
      kthreads.allSatisfy { $0.target.desired.hasSuffix(" cpus=\(first.poll.listString)") }, "\(c.name): \(lines)")
  }

  /// No golden file is left over from a fixture that is gone.
  @Test func everyGoldenFileHasItsFixture() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.goldenDirectory).filter {
      $0.hasSuffix(".profile")
    }
    #expect(Set(files) == Set(Self.cases.map { "\($0.name).profile" }))
  }

  // MARK: The layout's facts

  /// What every layout must be, whatever the host: the poll, application, idle and
  /// housekeeping CPUs are disjoint and cover the online CPUs; housekeeping holds CPU 0's
  /// core; the poll and application CPUs are each the only busy CPU of their core (siblings
  /// idle); the boot parameters isolate what the layout uses and give the rest the IRQs.
  static func expectSound(
    _ layout: SiteLayout, _ t: HostTopology, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let poll = layout.poll
    let parts = [poll, layout.app, layout.idle, layout.housekeeping, layout.kept]
    let total = parts.map { $0.sorted.count }.reduce(0, +)
    #expect(total == t.online.sorted.count, "overlap: \(parts)", sourceLocation: sourceLocation)
    #expect(parts.reduce(CPUSet.empty) { $0.union($1) } == t.online, "\(parts)", sourceLocation: sourceLocation)
    #expect(
      t.core(of: t.online.sorted[0])!.cpus.isSubset(of: layout.housekeeping), "\(layout.housekeeping)",
      sourceLocation: sourceLocation)
    let used = poll.union(layout.app)
    for cpu in used.sorted {
      let core = t.core(of: cpu)!.cpus
      #expect(
        core.intersection(used) == CPUSet([cpu]) && core.subtracting(CPUSet([cpu])).isSubset(of: layout.idle),
        "CPU \(cpu)'s core \(core)", sourceLocation: sourceLocation)
    }
    #expect(
      layout.idle == used.sorted.reduce(CPUSet.empty) { $0.union(t.core(of: $1)!.cpus) }.subtracting(used),
      sourceLocation: sourceLocation)
    for nic in layout.nics {
      #expect(!nic.poll.isEmpty, sourceLocation: sourceLocation)
      #expect(nic.channels.allSatisfy { $0.count == UInt32(nic.poll.sorted.count) }, sourceLocation: sourceLocation)
    }
    let cmdline = Dictionary(uniqueKeysWithValues: layout.cmdline.map { ($0.name, $0.value) })
    if !used.isEmpty {
      let isolated = try? CPUSet(
        list: cmdline["isolcpus"]!.split(separator: ",").filter { $0.first!.isNumber }.joined(separator: ","))
      #expect(
        isolated.map { used.union(layout.idle).isSubset(of: $0) } == true, "\(cmdline)", sourceLocation: sourceLocation)
      #expect(
        cmdline["irqaffinity"] == (t.boot.irqaffinity ?? layout.housekeeping).listString, "\(cmdline)",
        sourceLocation: sourceLocation)
    }
  }

  func report(_ name: String) throws -> (TopologyScenario, InitReport) {
    let c = Self.named(name)
    let s = c.make()
    return (s, try s.initReport(c.request))
  }

  func cmdline(_ layout: SiteLayout) -> [String: String] {
    Dictionary(uniqueKeysWithValues: layout.cmdline.map { ($0.name, $0.value) })
  }

  @Test func aFourCPUVirtualMachine() throws {
    let (_, r) = try report("vm4")
    let t = r.topology
    let l = r.layout
    #expect(t.virtualization == "the hypervisor flag in /proc/cpuinfo")
    #expect(t.nodes == [0: CPUSet(0...3)] && t.cores.count == 4)
    #expect(t.nics[0].driver == "virtio_net" && t.nics[0].numaNode == nil)
    #expect(t.nics[0].channels == [HostTopology.Channel(name: "combined", current: 4, max: 4)])
    #expect(t.nics[0].queueIRQs.count == 8, "virtio's input and output vectors of 4 queues: \(t.nics[0].queueIRQs)")
    // 6.12: no threaded busy polling, but the device has napi_defer_hard_irqs.
    #expect(l.base.name == "napi-busy-poll")
    #expect(l.housekeeping == CPUSet([0, 3]) && l.poll == CPUSet([1]) && l.app == CPUSet([2]) && l.idle.isEmpty)
    #expect(l.nics[0].channels.map(\.name) == ["combined"] && l.nics[0].channels.map(\.count) == [1])
    #expect(cmdline(l) == ["isolcpus": "1-2", "nohz_full": "1-2", "rcu_nocbs": "1-2", "irqaffinity": "0,3"])
    // A VM is said, and the base's SMT switch this VM lacks; one node is no reason to warn of
    // missing NUMA information.
    #expect(l.warnings.count == 2, "\(l.warnings)")
    #expect(l.warnings.first?.hasPrefix("a virtual machine (the hypervisor flag") == true, "\(l.warnings)")
    #expect(
      l.warnings.last?.hasPrefix(
        "this host cannot take devices/system/cpu/smt/control (SMT control is notsupported on this machine)")
        == true, "\(l.warnings)")
  }

  @Test func twoSocketsWithSMTAndTheNICOnNode1() throws {
    let (_, r) = try report("two-socket")
    let t = r.topology
    let l = r.layout
    #expect(t.nodes == [0: cpus("0-15,32-47"), 1: cpus("16-31,48-63")])
    #expect(t.cores.count == 32 && t.cores.allSatisfy { $0.cpus.sorted.count == 2 })
    #expect(t.core(of: 17)?.cpus == CPUSet([17, 49]) && t.core(of: 17)?.l3 == cpus("16-31,48-63"))
    #expect(t.nics[0].numaNode == 1 && t.nics[0].localCPUs == cpus("16-31,48-63"))
    #expect(t.nics[0].queueIRQs.count == 8 && t.virtualization == nil && t.irqbalance.isEmpty)
    #expect(l.base.name == "napi-threaded" && l.base.smtOff)
    let node1 = t.nodes[1]!
    #expect(l.poll == CPUSet([16]) && l.app == CPUSet([17]) && l.idle == CPUSet([48, 49]))
    #expect(l.poll.union(l.app).union(l.idle).isSubset(of: node1))
    #expect(l.housekeeping.contains(0) && l.housekeeping.contains(32))
    #expect(l.nics[0].node == 1 && l.nics[0].channels.map(\.count) == [1] && l.nics[0].hasIRQs)
    #expect(l.warnings.isEmpty, "\(l.warnings)")
    #expect(
      cmdline(l) == [
        "isolcpus": "16-17,48-49", "nohz_full": "16-17,48-49", "rcu_nocbs": "16-17,48-49",
        "irqaffinity": "0-15,18-47,50-63",
      ])
  }

  /// isolcpus=managed_irq,domain,20-23 nohz_full=20-23 already on the command line: the layout
  /// takes its CPUs from those, and the boot parameters keep the flags and every CPU.
  @Test func existingIsolcpusArePreferredAndKept() throws {
    let (_, r) = try report("two-socket-isolcpus")
    let l = r.layout
    #expect(r.topology.boot.isolcpus == cpus("20-23"))
    #expect(r.topology.boot.isolcpusFlags == ["managed_irq", "domain"])
    #expect(r.topology.boot.nohzFull == cpus("20-23"))
    #expect(l.poll == CPUSet([20]) && l.app == CPUSet([21]) && l.idle == CPUSet([52, 53]))
    let c = cmdline(l)
    #expect(c["isolcpus"] == "managed_irq,domain,20-23,52-53", "\(c)")
    #expect(c["nohz_full"] == "20-23,52-53", "\(c)")
    #expect(c["rcu_nocbs"] == "20-23,52-53", "\(c)")
    // 22-23, isolated by the admin and not used, stay isolated: not housekeeping.
    #expect(l.kept == cpus("22-23") && l.housekeeping.intersection(cpus("20-23")).isEmpty)
    #expect(l.decisions.contains { $0.topic == "cmdline" && $0.why.contains("already has in them are kept") })
    #expect(l.decisions.contains { $0.topic == "poll-cpus eth0" && $0.why.contains("already in isolcpus= 20-23") })
  }

  /// A two-node host whose NIC has numa_node -1: said, and the CPUs chosen from every node.
  @Test func aNICWithoutNUMAInformationOnTwoNodesIsAWarning() throws {
    let (_, r) = try report("two-node-numa-unknown")
    #expect(r.topology.nics[0].numaNode == nil)
    let warnings = r.layout.warnings
    #expect(
      warnings.count == 1 && warnings[0].hasPrefix("eth0 has no NUMA information (numa_node -1)")
        && warnings[0].contains("--set"), "\(warnings)")
    #expect(r.layout.nics[0].node == nil)
    // Both cores in one L3 group (here node 0's, the lowest numbered that has room).
    let l3 = r.topology.core(of: r.layout.poll.sorted[0])!.l3!
    #expect(r.layout.app.isSubset(of: l3), "\(r.layout.poll) \(r.layout.app)")
    #expect(r.profile.contains("# NOTE: eth0 has no NUMA information (numa_node -1)"))
  }

  @Test func tooFewCPUsForWhatWasAskedIsAnErrorNamingTheShortfall() throws {
    // 2 CPUs, --app-cpus 1: CPU 0 keeps the OS, CPU 1 polls, nothing is left for the app.
    let two = TopologyScenario(cpus: 2, nodes: ["0-1"], l3: ["0-1"])
    two.addNIC("eth0", numaNode: 0, localCPUs: "0-1", queues: 2)
    let error = thrownText { try two.initReport(InitRequest(interfaces: ["eth0"], appCPUs: 1)) }
    #expect(
      error
        == "init: too few CPUs: eth0 is on NUMA node 0, which has 1 free core(s) (1) besides housekeeping 0; "
        + "the layout needs 1 poll and 1 application core(s); ask for fewer with --poll-cpus/--app-cpus",
      "\(error ?? "nothing thrown")")
    do {
      _ = try two.initReport(InitRequest(interfaces: ["eth0"], appCPUs: 1))
    } catch let e as BPSTuneError {
      #expect(e.exitCode == 2)
    }
    // The same host by default: the app shares housekeeping, said.
    let fits = try two.initReport(InitRequest(interfaces: ["eth0"]))
    #expect(fits.layout.poll == CPUSet([1]) && fits.layout.app.isEmpty)
    #expect(fits.layout.warnings.contains { $0.hasPrefix("only 2 core(s): no core is left for the application") })
    // --poll-cpus 2 on it: too few too.
    #expect(
      thrownText { try two.initReport(InitRequest(interfaces: ["eth0"], pollCPUs: 2)) }?.contains(
        "has 1 free core(s) (1) besides housekeeping 0; the layout needs 2 poll core(s)") == true)
    // One CPU: nothing to poll on, whatever the defaults.
    let one = TopologyScenario(cpus: 1, nodes: ["0"], l3: ["0"])
    one.addNIC("eth0", numaNode: 0, localCPUs: "0", queues: 1)
    let single = thrownText { try one.initReport(InitRequest(interfaces: ["eth0"])) }
    #expect(
      single?.hasPrefix(
        "init: too few CPUs: eth0 is on NUMA node 0, which has 0 free core(s) ((none)) besides housekeeping 0")
        == true, "\(single ?? "nothing thrown")")
    // On SMT siblings: 2 CPUs of one core are one core, housekeeping's.
    let smt = TopologyScenario(cpus: 2, smt: true, nodes: ["0-1"], l3: ["0-1"])
    smt.addNIC("eth0", numaNode: 0, localCPUs: "0-1", queues: 1)
    #expect(thrownText { try smt.initReport(InitRequest(interfaces: ["eth0"])) }?.contains("too few CPUs") == true)
  }

  @Test func irqbalanceRunningIsAWarning() throws {
    let (_, r) = try report("vm4-irqbalance")
    #expect(r.topology.irqbalance == [812], "comm irqbalance2 is another program: \(r.topology.irqbalance)")
    #expect(
      r.layout.warnings.contains {
        $0.hasPrefix("irqbalance runs (pid 812) and moves queue IRQs") && $0.contains("IRQBALANCE_BANNED_CPULIST")
      }, "\(r.layout.warnings)")
    #expect(r.profile.contains("# NOTE: irqbalance runs (pid 812)"))
  }

  @Test func baseHFTAndNapiBusyPollWhenAsked() throws {
    let (_, hft) = try report("two-socket-base-hft")
    #expect(hft.layout.base.name == "hft" && hft.layout.base.why == "--base hft")
    #expect(!hft.layout.base.smtOff && !hft.layout.base.threadedBusyPoll)
    #expect(hft.profile.contains("include = [\"hft\"]") && !hft.profile.contains("poll-cpu ="))
    #expect(hft.profile.contains("app-cpus = \"17\""), "hft keeps queue IRQs off app-cpus")
    let (_, busy) = try report("two-socket-base-napi-busy-poll")
    #expect(busy.layout.base.name == "napi-busy-poll" && busy.layout.base.smtOff)
    #expect(!busy.profile.contains("[interface.napi]"))
    // Chosen, not asked: a 6.12 kernel has no threaded busy polling.
    let (_, old) = try report("two-socket-6.12")
    #expect(old.layout.base.name == "napi-busy-poll" && old.layout.base.why.hasPrefix("no threaded busy polling here"))
    // A base that is not there is an error naming it.
    let s = TopologyScenario.twoSocket()
    let missing = thrownText { try s.initReport(InitRequest(interfaces: ["eth0"], base: "nosuch-base")) }
    #expect(missing?.contains("nosuch-base") == true, "\(missing ?? "nothing thrown")")
  }

  @Test func pollCPUs2GiveTwoChannelsAndTwoPollCPUs() throws {
    let (_, r) = try report("two-socket-poll-cpus-2")
    let l = r.layout
    #expect(l.poll == CPUSet([16, 17]) && l.app == CPUSet([18]) && l.idle == cpus("48-50"))
    #expect(l.nics[0].channels.map(\.name) == ["combined"] && l.nics[0].channels.map(\.count) == [2])
    #expect(r.profile.contains("channels = { combined = 2 }") && r.profile.contains("poll-cpus = \"16-17\""))
  }

  /// A NIC with rx and tx channels and no combined ones, and a base that asks `combined = 1`
  /// (seed002-host): init's rx and tx replace the base's combined for that NIC, with combined 0
  /// (a site profile's channels merge into the base's field by field), said in the comment; the
  /// profile then plans with nothing unsupported of the channels, and init notes nothing of them.
  @Test func rxAndTxChannelsReplaceTheBasesCombined() throws {
    let (s, r) = try report("rx-tx-channels-base-seed002-host")
    let nic = r.layout.nics[0]
    #expect(r.topology.nics[0].channels.map(\.name) == ["rx", "tx"])
    #expect(nic.channels.map(\.name) == ["rx", "tx"] && nic.channels.map(\.count) == [1, 1])
    #expect(nic.zeroedChannels == ["combined"])
    #expect(r.profile.contains("\nchannels = { rx = 1, tx = 1, combined = 0 }\n"), "\(r.profile)")
    let why = try #require(r.layout.decisions.first { $0.topic == "channels eth0" })
    #expect(why.value == "rx 1, tx 1, combined 0", "\(why)")
    #expect(
      why.why.contains("; combined 0 replaces seed002-host's combined = 1 (a site profile's channels merge into its ")
        && why.why.hasSuffix(": gve has no combined channels, and 0 leaves them as they are"), "\(why)")
    #expect(r.profile.contains("\n# channels eth0 = rx 1, tx 1, combined 0: one queue pair per poll CPU"))
    #expect(!r.layout.warnings.contains { $0.contains("channels") }, "\(r.layout.warnings)")
    // lint: it loads, and its merged channels are init's; diff: one channels setting, no
    // unsupported one.
    let (profile, plan) = try s.plan(r.profile)
    let merged = profile.interfaces.first { $0.name == "eth0" }?.settings.first { $0.key == "channels" }?.value
    #expect(
      merged == .table(["rx": .integer(1), "tx": .integer(1), "combined": .integer(0)]), "\(String(describing: merged))"
    )
    let channels = plan.entries.filter { $0.id.kind == .channels }
    #expect(channels.count == 1 && channels[0].status == .change, "\(TopologyScenario.lines(plan))")
    #expect(Set(channels[0].target.desired.split(separator: " ")) == ["combined=0", "rx=1", "tx=1"])
    #expect(plan.unsupported.allSatisfy { $0.id.kind != .channels }, "\(TopologyScenario.lines(plan))")

    // The other way: a base of the user's that asks rx 1 and tx 1, on a NIC that has combined
    // channels and rx and tx ones too (ice): init's combined 1 replaces them, with rx 0 and tx 0,
    // which would otherwise add an rx and a tx queue that no poll CPU polls.
    let both = TopologyScenario(cpus: 8, nodes: ["0-7"], l3: ["0-7"], netdev: "6.12", hostname: "ice1")
    both.addNIC(
      "eth0", driver: "ice", numaNode: 0, localCPUs: "0-7", channels: ([4, 4, 0, 4], [0, 0, 0, 4]), queues: 4)
    let base = both.work.write(
      "pairs.profile",
      "[variables]\niface = \"eth0\"\n\n[[interface]]\nname = \"${iface}\"\nchannels = { rx = 1, tx = 1 }\n")
    let own = try both.initReport(InitRequest(interfaces: ["eth0"], base: base))
    #expect(
      own.layout.nics[0].channels.map(\.name) == ["combined"] && own.layout.nics[0].zeroedChannels == ["rx", "tx"])
    #expect(own.profile.contains("\nchannels = { combined = 1, rx = 0, tx = 0 }\n"), "\(own.profile)")
    #expect(own.profile.contains("no poll CPU polls"), "\(own.profile)")
    let (_, ownPlan) = try both.plan(own.profile)
    let ownChannels = ownPlan.entries.filter { $0.id.kind == .channels }
    #expect(ownChannels.count == 1, "\(TopologyScenario.lines(ownPlan))")
    #expect(Set(ownChannels.first?.target.desired.split(separator: " ") ?? []) == ["combined=1", "rx=0", "tx=0"])
  }

  /// A base ring the driver caps in one field only: the first NIC's block writes the capped
  /// field (it merges into the base's), a second NIC's own block every field the base asks, the
  /// capped one at the driver's maximum; planned, each NIC gets both.
  @Test func aSecondNICKeepsTheBasesRingFieldsTheDriverDoesNotCap() throws {
    let s = Self.twoNICs()
    let base = s.work.write(
      "rings.profile",
      "[variables]\niface = \"eth0\"\n\n[[interface]]\nname = \"${iface}\"\nring = { rx = 8192, tx = 512 }\n")
    let r = try s.initReport(InitRequest(interfaces: ["eth0", "eth1"], base: base))
    let blocks = r.profile.components(separatedBy: "[[interface]]")
    #expect(blocks.count == 3, "\(r.profile)")
    #expect(blocks[1].contains("\nring = { rx = 4096 }\n"), "\(r.profile)")
    #expect(blocks[2].contains("\nring = { rx = 4096, tx = 512 }\n"), "\(r.profile)")
    let (_, plan) = try s.plan(r.profile)
    let rings = plan.entries.filter { $0.id.kind == .ring }.map { "\($0.id.interface ?? "") \($0.target.desired)" }
    #expect(rings.sorted() == ["eth0 rx=4096 tx=512", "eth1 rx=4096 tx=512"], "\(TopologyScenario.lines(plan))")
  }

  /// With a threaded busy-poll base, each poll CPU's queue gets a busy-poll kthread: queues
  /// [0, 1] for --poll-cpus 2, and a second NIC's kthread on that NIC's poll CPU.
  @Test
  func threadedBusyPollBaseGetsAKthreadPerPollCPU() throws {
    let (s, r) = try report("two-socket-poll-cpus-2")
    #expect(r.layout.base.threadedBusyPoll)
    #expect(r.profile.contains("queues = [0, 1]\nthreaded = \"busy-poll\""), "\(r.profile)")
    let (_, plan) = try s.plan(r.profile)
    let napi = TopologyScenario.lines(plan).filter { $0.hasPrefix("napi eth0 rx-") }
    #expect(napi.count == 2 && napi.allSatisfy { $0.hasSuffix(" busy-poll") }, "\(napi)")
    let kthreads = plan.entries.filter { $0.id.kind == .kthread }
    #expect(kthreads.count == 2, "\(TopologyScenario.lines(plan))")
    let (t, two) = try report("two-nics")
    let (_, plan2) = try t.plan(two.profile)
    let eth1 = plan2.entries.filter { $0.id.kind == .kthread && $0.id.interface == "eth1" }
    let poll1 = two.layout.nics[1].poll.listString
    #expect(
      !eth1.isEmpty && eth1.allSatisfy { $0.target.desired.hasSuffix(" cpus=\(poll1)") },
      "\(TopologyScenario.lines(plan2))")
  }

  @Test func twoNICsOnDifferentNodesEachPollOnTheirOwn() throws {
    let (_, r) = try report("two-nics")
    let l = r.layout
    let t = r.topology
    #expect(l.nics.map(\.name) == ["eth0", "eth1"])
    #expect(l.nics[0].poll.isSubset(of: t.nodes[1]!) && l.nics[1].poll.isSubset(of: t.nodes[0]!), "\(l.nics)")
    #expect(l.nics[0].poll.intersection(l.nics[1].poll).isEmpty)
    #expect(!l.nics[1].poll.contains(0) && !l.nics[1].poll.contains(32), "eth1 stays off housekeeping's core")
    #expect(l.app.isSubset(of: t.nodes[1]!), "the app beside the first NIC")
    // eth1's block: the base's settings written out, its own poll CPU for IRQs and kthread.
    let eth1 = try #require(r.profile.range(of: "name = \"eth1\"")).lowerBound
    let block = String(r.profile[eth1...])
    #expect(block.contains("irq-affinity = \"\(l.nics[1].poll.listString)\""), "\(block)")
    #expect(block.contains("napi-defer-hard-irqs = 100"), "\(block)")
  }

  /// Values read from the host reach the profile only as escaped comments or TOML strings:
  /// it still loads, holds no setting the host's text tried to add, and says what it read.
  @Test func hostileValuesFromTheHostCannotBreakTheProfile() throws {
    let c = Self.named("hostile-host")
    let s = c.make()
    let r = try s.initReport(c.request)
    #expect(r.topology.hostname == Self.hostileHostname)
    #expect(r.topology.nics[0].driver == "ig\"b]\u{1B}[31m")
    for line in r.profile.split(separator: "\n", omittingEmptySubsequences: false) {
      let ok =
        line.isEmpty || line.hasPrefix("# ") || line.hasPrefix("[")
        || line.range(of: #"^[a-z_-]+ = "#, options: .regularExpression) != nil
      #expect(ok, "a line the profile did not mean: \(line)")
      #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "a control character: \(line)")
    }
    #expect(!r.profile.contains("\nnet.core.busy_read") && !r.profile.contains("\nquiet"))
    // A comment says exactly what the host has: its escapes decode to the host name, whose
    // newlines and written backslash-n differ in the comment as they do on the host.
    let header = try #require(r.profile.split(separator: "\n").first)
    let shown = try #require(header.firstRange(of: " on ").map { header[$0.upperBound...] })
    #expect(shown.hasPrefix(#"evil\n[sysctl]\nnet.core.busy_read = 999\n"x\\n\\, written"#), "\(header)")
    #expect(Self.unescaped(String(shown.prefix { $0 != "," })) == Self.hostileHostname, "\(header)")
    let (profile, plan) = try s.plan(r.profile)
    let lines = TopologyScenario.lines(plan)
    #expect(!lines.contains { $0.contains("busy_read") && $0.contains("999") }, "\(lines)")
    #expect(!lines.contains { $0.hasPrefix("cmdline quiet") }, "\(lines)")
    #expect(
      profile.sections["sysctl"]?.contains { $0.key == "net.core.busy_read" && $0.value == .integer(999) } != true)
    // The isolcpus= flag with a backslash is one the kernel refuses, and with it the whole
    // isolcpus=: said, in the comment with its backslash escaped, and kept neither as a flag nor
    // as CPUs already isolated.
    #expect(r.topology.boot.isolcpus == nil && r.topology.boot.refusedIsolcpus == #"do\main,6-7"#)
    #expect(r.profile.contains(#"# NOTE: /proc/cmdline has isolcpus=do\\main,6-7, which the kernel refuses"#))
    #expect(r.profile.contains("\nisolcpus = \"\(r.layout.poll.union(r.layout.app).listString)\"\n"), "\(r.profile)")
  }

  /// A comment's text as the host had it: `\\`, `\n`, `\r`, `\t`, `\xNN` and `\u{N}` decoded
  /// (``ConfigText/comment(_:)``).
  static func unescaped(_ text: String) -> String {
    var out = ""
    var rest = Substring(text)
    while let c = rest.popFirst() {
      guard c == "\\", let e = rest.popFirst() else {
        out.append(c)
        continue
      }
      switch e {
      case "n": out += "\n"
      case "r": out += "\r"
      case "t": out += "\t"
      case "x", "u":
        let digits = e == "x" ? String(rest.prefix(2)) : String(rest.dropFirst().prefix { $0 != "}" })
        rest = rest.dropFirst(e == "x" ? 2 : digits.count + 2)
        out.unicodeScalars.append(Unicode.Scalar(UInt32(digits, radix: 16) ?? 0x3F) ?? "?")
      default: out.append(e)
      }
    }
    return out
  }

  /// An isolcpus= flag with `${` would be a variable in the profile's [cmdline] string: it is a
  /// flag the kernel refuses (and with it the whole isolcpus=), so init does not keep it, and
  /// the profile loads to what init meant. A flag the kernel skips (letters and _) is kept.
  @Test(arguments: ["${poll-cpus}", "${nosuch}", "$x", "a-b", "_x", "nohz,da}"])
  func anIsolcpusTheKernelRefusesIsNotKept(flag: String) throws {
    let s = TopologyScenario.twoSocket(cmdline: "ro isolcpus=managed_irq,\(flag),20-23 nohz_full=20-23 quiet")
    let r = try s.initReport(InitRequest(interfaces: ["eth0"]))
    #expect(r.topology.boot.isolcpus == nil && r.topology.boot.isolcpusFlags.isEmpty)
    #expect(r.topology.boot.refusedIsolcpus == "managed_irq,\(flag),20-23")
    #expect(r.layout.warnings.contains { $0.hasPrefix("/proc/cmdline has isolcpus=managed_irq,\(flag),20-23, which") })
    let isolcpus = try #require(r.layout.cmdline.first { $0.name == "isolcpus" }?.value)
    #expect(!isolcpus.contains("$") && !isolcpus.contains("managed_irq"), "\(isolcpus)")
    let (profile, _) = try s.plan(r.profile)
    #expect(profile.sections["cmdline"]?.first { $0.key == "isolcpus" }?.value == .string(isolcpus))
    // nohz_full=, which the kernel took, is kept.
    #expect(
      r.layout.cmdline.first { $0.name == "nohz_full" }?.value.hasPrefix("16-17,20-23") == true, "\(r.layout.cmdline)")
  }

  @Test func anIsolcpusFlagTheKernelSkipsIsKept() throws {
    let s = TopologyScenario.twoSocket(cmdline: "ro isolcpus=managed_irq,future_flag,20-23 quiet")
    let r = try s.initReport(InitRequest(interfaces: ["eth0"]))
    #expect(
      r.topology.boot.isolcpusFlags == ["managed_irq", "future_flag"] && r.topology.boot.isolcpus == cpus("20-23"))
    #expect(r.layout.cmdline.first?.value == "managed_irq,future_flag,20-23,52-53", "\(r.layout.cmdline)")
    #expect(r.layout.warnings.isEmpty, "\(r.layout.warnings)")
  }

  /// Odd interface names are written as TOML strings (and escaped comments) that load to
  /// exactly those names: the profile lays out and plans those interfaces, no other.
  @Test func oddInterfaceNamesLoadAsThemselves() throws {
    let (s, r) = try report("odd-names")
    #expect(r.profile.contains(#"iface = "e\"{0}\\n""#) && r.profile.contains(#"name = "f\\x1B""#), "\(r.profile)")
    #expect(r.profile.contains(#"# irq-affinity: f\\x1B's queue IRQs on its poll CPUs"#), "\(r.profile)")
    let (profile, plan) = try s.plan(r.profile)
    #expect(profile.interfaces.map(\.name) == Self.oddNames)
    #expect(profile.variables["iface"] == Self.oddNames[0])
    for (name, nic) in zip(Self.oddNames, r.layout.nics) {
      let irqs = plan.entries.filter { $0.id.kind == .irq && $0.id.interface == name }
      #expect(
        irqs.count == 2 && irqs.allSatisfy { $0.target.desired == nic.poll.listString },
        "\(TopologyScenario.lines(plan))")
    }
    #expect(Set(plan.entries.compactMap(\.id.interface)) == Set(Self.oddNames), "\(TopologyScenario.lines(plan))")
  }

  /// A name a profile cannot hold as itself (a control character; `${...}`, a variable; `*?[`, a
  /// glob) is refused naming it (exit 2) when init finds it itself, as `-i` refuses it: never a
  /// profile for another interface, nor "a bug in bpstune init".
  @Test(arguments: ["e${irq-cpus}", "e${nosuch}", "e\u{1b}[31m", "eth*", "e?", "e[0]"])
  func aNameAProfileCannotHoldIsRefused(name: String) throws {
    let s = TopologyScenario(cpus: 8, nodes: ["0-7"], l3: ["0-7"])
    s.addNIC(name, numaNode: 0, localCPUs: "0-7", queues: 2)
    do {
      let r = try s.initReport(InitRequest(interfaces: [name]))
      Issue.record("init wrote a profile for \(name): \(r.profile)")
    } catch let error as BPSTuneError {
      #expect(error.exitCode == 2)
      #expect(error.description.hasPrefix("init: interface \(Printable.escaped(name)): "), "\(error)")
      #expect(error.description.contains("profile") && !error.description.contains("bug"), "\(error)")
    }
  }

  // MARK: JSON

  /// `--format json`: the topology read and the decisions, as data.
  @Test func jsonGivesTheTopologyAndTheDecisions() throws {
    let (_, r) = try report("two-socket-isolcpus")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.json().utf8)) as? [String: Any])
    #expect(doc["schema"] as? Int == 1 && doc["command"] as? String == "init")
    #expect(doc["profile"] as? String == r.profile && doc["output"] == nil)
    let topology = try #require(doc["topology"] as? [String: Any])
    #expect(topology["online_cpus"] as? String == "0-63")
    #expect(topology["nodes"] as? [String: String] == ["0": "0-15,32-47", "1": "16-31,48-63"])
    #expect((topology["cores"] as? [String])?.count == 32 && (topology["cores"] as? [String])?.first == "0,32")
    #expect(topology["l3_groups"] as? [String] == ["0-15,32-47", "16-31,48-63"])
    #expect(topology["isolcpus"] as? String == "managed_irq,domain,20-23")
    #expect(topology["nohz_full"] as? String == "20-23" && topology["rcu_nocbs"] == nil)
    #expect(topology["threaded_busy_poll"] as? Bool == true && topology["smt_control"] as? String == "on")
    let nic = try #require((topology["interfaces"] as? [[String: Any]])?.first)
    #expect(nic["name"] as? String == "eth0" && nic["driver"] as? String == "igb" && nic["numa_node"] as? Int == 1)
    #expect(nic["local_cpus"] as? String == "16-31,48-63" && nic["speed_mbps"] as? Int == 10000)
    #expect((nic["channels"] as? [String: [String: Int]])?["combined"] == ["current": 8, "max": 8])
    #expect((nic["queue_irqs"] as? [Int])?.count == 8)
    let layout = try #require(doc["layout"] as? [String: Any])
    #expect(layout["base"] as? String == "napi-threaded")
    #expect(layout["poll_cpus"] as? String == "20" && layout["app_cpus"] as? String == "21")
    #expect(layout["idle_cpus"] as? String == "52-53" && layout["irq_cpus"] as? String == "20")
    #expect((layout["cmdline"] as? [String: String])?["isolcpus"] == "managed_irq,domain,20-23,52-53")
    let interfaces = try #require(layout["interfaces"] as? [[String: Any]])
    #expect(
      interfaces.first?["numa_node"] as? Int == 1 && interfaces.first?["channels"] as? [String: Int] == ["combined": 1])
    let decisions = try #require(doc["decisions"] as? [[String: String]])
    #expect(
      decisions.map { $0["topic"]! } == [
        "base", "poll-cpus eth0", "app-cpus", "channels eth0", "idle-cpus", "housekeeping-cpus", "cmdline",
      ])
    #expect(decisions.allSatisfy { !($0["value"] ?? "").isEmpty && !($0["why"] ?? "").isEmpty })
    #expect(doc["warnings"] as? [String] == [])
  }

  /// A NIC without NUMA information leaves numa_node out of the topology and the layout.
  @Test func jsonLeavesOutWhatWasNotRead() throws {
    let (_, r) = try report("vm4")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.json().utf8)) as? [String: Any])
    let topology = try #require(doc["topology"] as? [String: Any])
    #expect(topology["virtualization"] as? String == "the hypervisor flag in /proc/cpuinfo")
    #expect(topology["isolcpus"] == nil && topology["smt_control"] as? String == "notsupported")
    let nic = try #require((topology["interfaces"] as? [[String: Any]])?.first)
    #expect(nic["numa_node"] == nil && nic["speed_mbps"] == nil && nic["driver"] as? String == "virtio_net")
    #expect((doc["warnings"] as? [String])?.count == 2)
  }
}
