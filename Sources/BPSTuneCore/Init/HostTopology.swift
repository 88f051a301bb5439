import BPSTuneKernel

/// What decides a busy-poll layout, as `bpstune init` reads it from the host, read-only and
/// through ``KernelHost`` (so a unit test's temporary /sys and /proc tree stands for a host):
/// the CPUs (/sys/devices/system/cpu: online, topology/thread_siblings_list, the level-3
/// cache's shared_cpu_list), the NUMA nodes (/sys/devices/system/node/nodeN/cpulist), the boot
/// parameters that isolate CPUs (/proc/cmdline), irqbalance (/proc/PID/comm), what this kernel
/// can do for busy polling (the netdev netlink family's ops and napi-set policy, EPIOCSPARAMS,
/// cpufreq and cpuidle), whether it is a virtual machine, and each named NIC's node, local
/// CPUs, driver, speed, channels and queue IRQs.
package struct HostTopology: Sendable {
  /// One physical core: its online SMT siblings, its NUMA node and its level-3 cache's CPUs.
  package struct Core: Sendable, Equatable {
    package var cpus: CPUSet
    package var node: Int?
    /// cache/indexN/shared_cpu_list of the level-3 cache; nil when the CPU reports none.
    package var l3: CPUSet?
    /// The core's first CPU, the one a layout uses (its siblings are left idle).
    package var first: Int { cpus.sorted.first ?? 0 }
  }

  /// A channel count of the NIC's driver (ETHTOOL_GCHANNELS): current and maximum.
  package struct Channel: Sendable, Equatable {
    package var name: String
    package var current: UInt32
    package var max: UInt32
  }

  /// A network interface `init` lays out.
  package struct NIC: Sendable {
    package var name: String
    /// DRIVER= of /sys/class/net/IF/device/uevent; nil for a device-less interface (veth).
    package var driver: String?
    /// /sys/class/net/IF/device/numa_node; nil when absent or -1 (no NUMA information).
    package var numaNode: Int?
    /// /sys/class/net/IF/device/local_cpulist; nil when absent.
    package var localCPUs: CPUSet?
    /// /sys/class/net/IF/speed in Mb/s; nil when unknown (link down, virtual device).
    package var speed: Int?
    /// The driver's channels with a maximum above 0; empty when it reports none.
    package var channels: [Channel]
    /// The driver's rings (ETHTOOL_GRINGPARAM) with a maximum above 0, as channels are.
    package var rings: [Channel] = []
    /// The queue IRQs' numbers, or why there are none.
    package var queueIRQs: [Int]
    package var noIRQs: String?
    /// /sys/class/net/IF/napi_defer_hard_irqs exists (Linux 5.10+: device-wide IRQ deferral).
    package var deferHardIRQs: Bool

    package func channel(_ name: String) -> Channel? { channels.first { $0.name == name } }
  }

  /// The boot parameters that decide which CPUs are the operating system's.
  package struct BootCPUs: Sendable, Equatable {
    /// isolcpus='s CPU list and its flags ("domain", "managed_irq", "nohz").
    package var isolcpus: CPUSet?
    package var isolcpusFlags: [String] = []
    /// The value of an isolcpus= the kernel refuses whole (a flag with a character other than a
    /// letter or _), which isolates nothing; nil when there is none.
    package var refusedIsolcpus: String?
    package var nohzFull: CPUSet?
    package var rcuNocbs: CPUSet?
    /// irqaffinity=: the default affinity of interrupts, the housekeeping CPUs' own.
    package var irqaffinity: CPUSet?
  }

  package var release: String
  package var hostname: String
  package var online: CPUSet
  /// Online CPUs by NUMA node; one node 0 holding every CPU where /sys has no nodes.
  package var nodes: [Int: CPUSet]
  package var cores: [Core]
  package var boot: BootCPUs
  /// /sys/devices/system/cpu/smt/control ("on", "off", "forceoff", "notsupported"); nil when absent.
  package var smtControl: String?
  /// Process ids whose /proc/PID/comm is irqbalance.
  package var irqbalance: [Int]
  package var netdev: NetdevCapabilities
  /// The kernel takes EPIOCSPARAMS (epoll busy-poll parameters, Linux 6.9+).
  package var epollParameters: Bool
  /// /sys/devices/system/cpu/cpu0/cpufreq exists.
  package var cpufreq: Bool
  /// /sys/devices/system/cpu/cpuidle/current_driver, nil when none or absent.
  package var cpuidle: String?
  /// Why this looks like a virtual machine ("hypervisor flag in /proc/cpuinfo"); nil when not.
  package var virtualization: String?
  package var nics: [NIC]

  /// The node `cpu` is on.
  package func node(of cpu: Int) -> Int? { nodes.first { $0.value.contains(cpu) }?.key }

  /// The core holding `cpu`.
  package func core(of cpu: Int) -> Core? { cores.first { $0.cpus.contains(cpu) } }
}

extension CPUSet {
  package func contains(_ cpu: Int) -> Bool { cpus.contains(cpu) }
}

extension HostTopology {
  static let cpuRoot = "/sys/devices/system/cpu"

  /// Reads the host's topology and the named interfaces'; an interface that is not there is an
  /// error naming it (exit 2).
  package static func read(from host: KernelHost, interfaces: [String]) throws(BPSTuneError) -> HostTopology {
    for name in interfaces where !host.exists("/sys/class/net/\(name)") {
      throw .usage("-i \(name): no such interface (/sys/class/net/\(name))")
    }
    let online = host.onlineCPUs
    let nodes = readNodes(host, online: online)
    let cores = readCores(host, online: online, nodes: nodes)
    let release = (try? host.read("/proc/sys/kernel/osrelease")) ?? "unknown"
    let netdev = (try? host.netdev.capabilities()) ?? .none
    return HostTopology(
      release: release, hostname: (try? host.read("/proc/sys/kernel/hostname")) ?? "unknown", online: online,
      nodes: nodes, cores: cores, boot: readBoot(host), smtControl: try? host.read("\(cpuRoot)/smt/control"),
      irqbalance: readIrqbalance(host), netdev: netdev,
      epollParameters: host.isRealRoot ? EpollSet.kernelTakesBusyPollParameters() : release.isAtLeast(6, 9),
      cpufreq: host.exists("\(cpuRoot)/cpu0/cpufreq"),
      cpuidle: (try? host.read("\(cpuRoot)/cpuidle/current_driver")).flatMap { $0 == "none" || $0.isEmpty ? nil : $0 },
      virtualization: readVirtualization(host), nics: interfaces.map { readNIC($0, host) })
  }

  static func readNodes(_ host: KernelHost, online: CPUSet) -> [Int: CPUSet] {
    var nodes: [Int: CPUSet] = [:]
    for entry in host.list("/sys/devices/system/node") where entry.hasPrefix("node") {
      guard let n = Int(entry.dropFirst(4)), let text = try? host.read("/sys/devices/system/node/\(entry)/cpulist"),
        let cpus = try? CPUSet(list: text)
      else { continue }
      let here = cpus.intersection(online)
      if !here.isEmpty { nodes[n] = here }
    }
    return nodes.isEmpty ? [0: online] : nodes
  }

  static func readCores(_ host: KernelHost, online: CPUSet, nodes: [Int: CPUSet]) -> [Core] {
    var seen = CPUSet.empty
    var cores: [Core] = []
    for cpu in online.sorted where !seen.contains(cpu) {
      var siblings = host.threadSiblings(of: cpu).intersection(online)
      if !siblings.contains(cpu) { siblings = CPUSet([cpu]) }
      seen = seen.union(siblings)
      cores.append(
        Core(cpus: siblings, node: nodes.first { $0.value.contains(cpu) }?.key, l3: l3(of: cpu, host)))
    }
    return cores
  }

  /// The CPUs sharing `cpu`'s level-3 cache (cache/indexN with level 3).
  static func l3(of cpu: Int, _ host: KernelHost) -> CPUSet? {
    let cache = "\(cpuRoot)/cpu\(cpu)/cache"
    for index in host.list(cache).filter({ $0.hasPrefix("index") }).sorted(by: KernelHost.naturalOrder)
    where (try? host.read("\(cache)/\(index)/level")) == "3" {
      return (try? host.read("\(cache)/\(index)/shared_cpu_list")).flatMap { try? CPUSet(list: $0) }
    }
    return nil
  }

  /// isolcpus=, nohz_full=, rcu_nocbs= and irqaffinity= of /proc/cmdline (the last of each).
  static func readBoot(_ host: KernelHost) -> BootCPUs {
    var boot = BootCPUs()
    for word in CmdlineKnob.words((try? host.read(CmdlineKnob.cmdline)) ?? "") {
      guard let eq = word.firstIndex(of: "=") else { continue }
      let value = String(word[word.index(after: eq)...])
      switch BootParameter.canonical(String(word[..<eq])) {
      case "isolcpus":
        // isolcpus=[flag,...,]LIST: the flags are words, the list starts at the first digit. The
        // kernel takes a flag of letters and _ (nohz, domain, managed_irq; another such word it
        // skips); one with any other character makes it refuse the whole parameter ("isolcpus:
        // Invalid flag", Linux 5.8+), which then isolates nothing: neither its CPUs nor its
        // flags are the running kernel's.
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        let flags = parts.prefix { !($0.first?.isNumber ?? true) }
        let valid = flags.allSatisfy { flag in
          (flag.first?.isASCII ?? false) && (flag.first?.isLetter ?? false)
            && flag.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
        }
        boot.isolcpusFlags = valid ? flags.map(String.init) : []
        boot.isolcpus = valid ? try? CPUSet(list: parts.dropFirst(flags.count).joined(separator: ",")) : nil
        boot.refusedIsolcpus = valid ? nil : value
      case "nohz_full": boot.nohzFull = try? CPUSet(list: value)
      case "rcu_nocbs": boot.rcuNocbs = try? CPUSet(list: value)
      case "irqaffinity": boot.irqaffinity = try? CPUSet(list: value)
      default: break
      }
    }
    return boot
  }

  static func readIrqbalance(_ host: KernelHost) -> [Int] {
    host.list("/proc").compactMap(Int.init).filter { (try? host.read("/proc/\($0)/comm")) == "irqbalance" }.sorted()
  }

  /// Xen's /sys/hypervisor/type, x86's hypervisor CPU flag, or a hypervisor vendor's DMI name.
  static func readVirtualization(_ host: KernelHost) -> String? {
    if let type = try? host.read("/sys/hypervisor/type"), !type.isEmpty {
      return "/sys/hypervisor/type is \(type)"
    }
    if let cpuinfo = try? host.read("/proc/cpuinfo"),
      cpuinfo.split(separator: "\n").contains(where: {
        $0.hasPrefix("flags") && $0.split(separator: " ").contains("hypervisor")
      })
    {
      return "the hypervisor flag in /proc/cpuinfo"
    }
    let vendors = ["QEMU", "KVM", "VMware", "Microsoft Corporation", "Xen", "innotek", "Parallels", "Google"]
    for file in ["sys_vendor", "product_name"] {
      if let name = try? host.read("/sys/class/dmi/id/\(file)"), vendors.contains(where: { name.hasPrefix($0) }) {
        return "/sys/class/dmi/id/\(file) is \(name)"
      }
    }
    return nil
  }

  static func readNIC(_ name: String, _ host: KernelHost) -> NIC {
    let net = "/sys/class/net/\(name)"
    let uevent = (try? host.read("\(net)/device/uevent")) ?? ""
    let driver = uevent.split(separator: "\n").first { $0.hasPrefix("DRIVER=") }.map { String($0.dropFirst(7)) }
    let node = (try? host.read("\(net)/device/numa_node")).flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
    var channels: [Channel] = []
    if let ch: Ethtool.Channels = try? host.ethtool.get(name, .getChannels) {
      for field in Ethtool.channelFields where ch[keyPath: field.max] > 0 {
        channels.append(Channel(name: field.name, current: ch[keyPath: field.field], max: ch[keyPath: field.max]))
      }
    }
    var rings: [Channel] = []
    if let r: Ethtool.Rings = try? host.ethtool.get(name, .getRings) {
      for field in Ethtool.ringFields where r[keyPath: field.max] > 0 {
        rings.append(Channel(name: field.name, current: r[keyPath: field.field], max: r[keyPath: field.max]))
      }
    }
    var irqs: [Int] = []
    var noIRQs: String?
    switch QueueIRQs.discover(name, on: host) {
    case .success(let found): irqs = found.map(\.number)
    case .failure(let why): noIRQs = why.reason
    }
    return NIC(
      name: name, driver: driver, numaNode: node,
      localCPUs: (try? host.read("\(net)/device/local_cpulist")).flatMap { try? CPUSet(list: $0) },
      speed: (try? host.read("\(net)/speed")).flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }, channels: channels,
      rings: rings, queueIRQs: irqs, noIRQs: noIRQs, deferHardIRQs: host.exists("\(net)/napi_defer_hard_irqs"))
  }
}

extension String {
  /// Whether a kernel release ("6.12.48+deb13-amd64") is at least major.minor.
  func isAtLeast(_ major: Int, _ minor: Int) -> Bool {
    let parts = split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    guard parts.count == 2 else { return false }
    return (parts[0], parts[1]) >= (major, minor)
  }
}
