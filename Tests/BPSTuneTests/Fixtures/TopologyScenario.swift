import Foundation
import TestSupport

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// A host's topology as `bpstune init` reads it, in a temporary /sys and /proc tree: online
/// CPUs, SMT siblings (topology/thread_siblings_list), caches (cache/indexN level and
/// shared_cpu_list, level 3 at index3 behind level 2 at index2), NUMA nodes (node/nodeN/cpulist),
/// /proc/cmdline, the kernel's release and host name, the hypervisor flag, irqbalance, and NICs
/// with a driver (device/uevent), NUMA node, local CPUs, speed, channels (a ``FakeNIC``), queue
/// IRQs (device/msi_irqs, /proc/interrupts, /proc/irq/N) and NAPIs (a ``FakeNetdev`` of the
/// kernel version asked for). The sysctls and sysfs files the built-in bases set are there too,
/// so that a profile init writes plans on this tree as on a host (`lint --host` clean).
final class TopologyScenario: @unchecked Sendable {
  let kernel: FakeKernel
  let nic: FakeNIC
  let netdev: FakeNetdev
  let work = TemporaryDirectory("bpstune-init")
  /// /proc/interrupts' lines, in order.
  private var interrupts: [String] = []
  private var nextIRQ = 40
  private var nextVirtio = 2
  private var nextNAPI: UInt32 = 8193
  /// Directories made so far by ``set(_:_:)``.
  private var made: Set<String> = []

  /// The date every golden profile is written with.
  static let date = "2026-01-01"

  /// `cpus` online CPUs; `smt`: CPU N and N + cpus/2 are one core's siblings (as x86 numbers
  /// them), else every CPU its own core; `nodes`: each node's cpulist (none: no node directory,
  /// as on a kernel without NUMA); `l3`: the CPU lists that share a level-3 cache (none: no
  /// level-3 cache); `netdev`: the kernel version FakeNetdev models ("6.1", "6.12", "6.13",
  /// "6.18", or "7.0" for threaded busy polling).
  init(
    cpus: Int, smt: Bool = false, nodes: [String] = [], l3: [String] = [], release: String = "6.12.48+deb13-amd64",
    netdev version: String = "6.12", hostname: String = "host1",
    cmdline: String = "BOOT_IMAGE=/vmlinuz-6.12 root=/dev/sda1 ro quiet", hypervisor: Bool = false
  ) {
    let all = cpus == 1 ? "0" : "0-\(cpus - 1)"
    kernel = FakeKernel(cpus: all)
    nic = FakeNIC(kernel: kernel)
    netdev = FakeNetdev(FakeNetdev.kernel(version))
    let half = cpus / 2
    for cpu in 0..<cpus {
      let base = "/sys/devices/system/cpu/cpu\(cpu)"
      let siblings = smt ? (cpu < half ? "\(cpu),\(cpu + half)" : "\(cpu - half),\(cpu)") : "\(cpu)"
      set("\(base)/topology/thread_siblings_list", siblings)
      // The level-2 cache at index2, before the level-3 one (index0 and index1, level 1, left
      // out: each directory costs this file system about a millisecond).
      set("\(base)/cache/index2/level", "2")
      set("\(base)/cache/index2/shared_cpu_list", siblings)
      if let group = l3.first(where: { (try? CPUSet(list: $0))?.contains(cpu) == true }) {
        set("\(base)/cache/index3/level", "3")
        set("\(base)/cache/index3/shared_cpu_list", group)
      }
    }
    for (n, list) in nodes.enumerated() { set("/sys/devices/system/node/node\(n)/cpulist", list) }
    if !nodes.isEmpty { set("/sys/devices/system/node/online", nodes.count == 1 ? "0" : "0-\(nodes.count - 1)") }
    set("/sys/devices/system/cpu/smt/control", smt ? "on" : "notsupported")
    set("/proc/cmdline", cmdline)
    set("/proc/sys/kernel/osrelease", release)
    set("/proc/sys/kernel/hostname", hostname)
    set(
      "/proc/cpuinfo",
      (0..<cpus).map {
        "processor\t: \($0)\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse tsc msr\(hypervisor ? " hypervisor" : "") sse sse2\n"
      }.joined(separator: "\n"))
    // What the built-in bases set (seed002-host, napi-busy-poll, napi-threaded, hft, hft-host).
    for (name, value) in [
      ("net/core/busy_read", "0"), ("net/core/busy_poll", "0"), ("net/core/rps_sock_flow_entries", "0"),
      ("kernel/timer_migration", "1"), ("kernel/sched_rt_runtime_us", "950000"),
    ] {
      set("/proc/sys/\(name)", value)
    }
    let mask = CPUSet(0..<cpus).maskString
    for wq in ["writeback", "blkcg_punt_bio"] { set("/sys/devices/virtual/workqueue/\(wq)/cpumask", mask) }
    set("/sys/devices/virtual/workqueue/cpumask", mask)
    set("/proc/irq/default_smp_affinity", mask)
    writeInterrupts()
  }

  /// A NIC: `driver` in device/uevent, `numaNode` in device/numa_node (-1 as the kernel writes
  /// for a device without NUMA information; nil: no file), `localCPUs` in device/local_cpulist,
  /// `channels` ETHTOOL_GCHANNELS's (max, current) for rx, tx, other and combined, `queues` rx
  /// and tx queues each with a NAPI and (with `irqs`) a queue IRQ named as the driver names it.
  func addNIC(
    _ name: String, driver: String = "igb", numaNode: Int? = nil, localCPUs: String? = nil, speed: Int? = 10000,
    channels: (max: [UInt32], current: [UInt32]) = ([0, 0, 1, 8], [0, 0, 1, 8]), queues: Int = 8, irqs: Bool = true
  ) {
    kernel.addInterface(name, rx: queues, tx: queues)
    let net = "/sys/class/net/\(name)"
    set("\(net)/flags", "0x1003")
    set("\(net)/device/uevent", "DRIVER=\(driver)\nPCI_CLASS=20000\nPCI_SLOT_NAME=0000:\(name.count):00.0")
    if let numaNode { set("\(net)/device/numa_node", "\(numaNode)") }
    if let localCPUs { set("\(net)/device/local_cpulist", localCPUs) }
    if let speed { set("\(net)/speed", "\(speed)") }
    var device = FakeNIC.igb()
    device.driver = driver
    device.channels = channels
    nic.devices[name] = device
    netdev.add(name, napiIDs: (0..<queues).map { nextNAPI + UInt32($0) }, rx: queues)
    nextNAPI += UInt32(queues) + 100
    guard irqs else { return }
    let virtio = driver == "virtio_net" ? "virtio\(nextVirtio)" : nil
    var names: [String]
    if let virtio {
      nextVirtio += 1
      names = ["\(virtio)-config"] + (0..<queues).flatMap { ["\(virtio)-input.\($0)", "\(virtio)-output.\($0)"] }
    } else {
      names = [name] + (0..<queues).map { "\(name)-TxRx-\($0)" }
    }
    for irqName in names {
      let n = nextIRQ
      nextIRQ += 1
      // virtio's vectors belong to the PCI device above virtioN: device/../msi_irqs.
      set("\(net)/\(virtio == nil ? "device/" : "")msi_irqs/\(n)", "msix")
      set("/proc/irq/\(n)/smp_affinity_list", "0-\(onlineCount - 1)")
      set("/proc/irq/\(n)/effective_affinity_list", "0")
      interrupts.append(
        String(repeating: " ", count: 2) + "\(n): " + String(repeating: "0 ", count: onlineCount)
          + "IR-PCI-MSIX-0000:03:00.0 \(n)-edge \(irqName)")
    }
    writeInterrupts()
  }

  /// A veth-like interface: no device, two queues, rx and tx channels.
  func addVeth(_ name: String) {
    kernel.addInterface(name, rx: 2, tx: 2)
    set("/sys/class/net/\(name)/flags", "0x1003")
    nic.devices[name] = FakeNIC.Device(driver: "veth", channels: ([2, 2, 0, 0], [1, 1, 0, 0]))
  }

  /// A running irqbalance (its /proc/PID/comm), beside other processes.
  func runIrqbalance(pid: Int = 812) {
    set("/proc/1/comm", "systemd")
    set("/proc/\(pid)/comm", "irqbalance")
    set("/proc/\(pid + 1)/comm", "irqbalance2")
  }

  /// A kernel file's value, as ``FakeKernel/set(_:_:)`` writes it, with plain system calls:
  /// FileManager's took most of a second for the 64-CPU host's thousand files.
  func set(_ kernelPath: String, _ value: String) {
    let path = kernel.root + kernelPath
    var directory = ""
    for component in path.split(separator: "/").dropLast() {
      directory += "/" + component
      if made.insert(directory).inserted { mkdir(directory, 0o755) }
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot write \(path)")
    let bytes = Array((value + "\n").utf8)
    precondition(write(fd, bytes, bytes.count) == bytes.count, "cannot write \(path)")
    close(fd)
  }

  private var onlineCount: Int { KernelHost(root: kernel.root).onlineCPUs.sorted.count }

  private func writeInterrupts() {
    let header = "       " + (0..<onlineCount).map { "CPU\($0)" }.joined(separator: " ")
    set(
      "/proc/interrupts",
      ([header] + interrupts + [" NMI: " + String(repeating: "0 ", count: onlineCount) + "Non-maskable interrupts"])
        .joined(separator: "\n"))
  }

  func host() -> KernelHost { KernelHost(root: kernel.root, ethtool: nic, netdev: netdev, scheduler: netdev) }

  /// The built-in profiles of this checkout, and nothing of this host's (/etc/bpstune/profiles).
  var loader: ProfileLoader { ProfileLoader(source: ProfileSource(searchPath: [Run.profiles])) }

  /// The command line init records in the profile's header, as InitCommand writes it.
  static func command(_ request: InitRequest) -> String {
    var words = ["bpstune", "init"] + request.interfaces.flatMap { ["-i", $0] }
    if let base = request.base { words += ["--base", base] }
    if let n = request.pollCPUs { words += ["--poll-cpus", String(n)] }
    if let n = request.appCPUs { words += ["--app-cpus", String(n)] }
    return words.joined(separator: " ")
  }

  /// What `bpstune init` makes of this host: the topology, the layout and the profile.
  func initReport(_ request: InitRequest) throws -> InitReport {
    try InitReport(
      host: host(), request: request, loader: loader, workingDirectory: work.path, command: Self.command(request),
      date: Self.date)
  }

  /// `text` (a site profile) loaded as bpstune loads a profile file, and planned on this host.
  func plan(_ text: String, name: String = "site.profile") throws -> (Profile, Plan) {
    let path = work.write(name, text)
    let profile = try loader.load(path, workingDirectory: work.path)
    return (profile, try Planner().plan(profile, on: host()))
  }

  /// "kind interface queue key: status desired-or-reason" per plan entry.
  static func lines(_ plan: Plan) -> [String] {
    plan.entries.map { "\($0.id.kind.rawValue) \($0.id): \($0.status.rawValue) \($0.reason ?? $0.target.desired)" }
  }
}

extension TopologyScenario {
  /// A 4-vCPU virtual machine: the hypervisor flag, one NUMA node, no SMT, one L3; a
  /// virtio_net eth0 with 4 combined channels, its queue IRQs on the virtio device's parent,
  /// and numa_node -1.
  static func vm4(irqbalance: Bool = false) -> TopologyScenario {
    let s = TopologyScenario(
      cpus: 4, nodes: ["0-3"], l3: ["0-3"], release: "6.12.48+deb13-cloud-amd64", netdev: "6.12", hostname: "vm4",
      hypervisor: true)
    s.kernel.set("/sys/class/dmi/id/sys_vendor", "QEMU")
    s.kernel.set("/sys/class/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)")
    s.addNIC(
      "eth0", driver: "virtio_net", numaNode: -1, localCPUs: "0-3", speed: nil,
      channels: ([0, 0, 0, 4], [0, 0, 0, 4]),
      queues: 4)
    if irqbalance { s.runIrqbalance() }
    return s
  }

  /// Two sockets of 16 cores with SMT: 64 CPUs, node 0 = 0-15,32-47 and node 1 = 16-31,48-63,
  /// CPU N's sibling N+32, one L3 per socket; a kernel with threaded busy polling (7.0); an
  /// igb-like eth0 on node 1 (local CPUs 16-31,48-63), 8 combined channels with a queue IRQ
  /// each. `cmdline`: /proc/cmdline; `nicNode` -1 for a NIC without NUMA information.
  static func twoSocket(
    cmdline: String = "BOOT_IMAGE=/vmlinuz-7.0 root=/dev/sda1 ro quiet", nicNode: Int = 1, netdev: String = "7.0",
    hostname: String = "db7"
  ) -> TopologyScenario {
    let s = TopologyScenario(
      cpus: 64, smt: true, nodes: ["0-15,32-47", "16-31,48-63"], l3: ["0-15,32-47", "16-31,48-63"],
      release: netdev == "7.0" ? "7.0.3-amd64" : "6.12.48+deb13-amd64", netdev: netdev, hostname: hostname,
      cmdline: cmdline)
    s.addNIC("eth0", driver: "igb", numaNode: nicNode, localCPUs: nicNode < 0 ? "0-63" : "16-31,48-63")
    return s
  }

  /// A host whose NIC has separate rx and tx channels and no combined ones, as gve reports
  /// them (ETHTOOL_GCHANNELS: max_rx and max_tx 4, max_combined 0), like the NIC of the threaded
  /// busy-poll series (`ethtool -L eth0 rx 1 tx 1`): 8 CPUs on one node, no SMT, one L3, Linux 6.12.
  static func rxTxChannels() -> TopologyScenario {
    let s = TopologyScenario(cpus: 8, nodes: ["0-7"], l3: ["0-7"], netdev: "6.12", hostname: "gve1")
    s.addNIC("eth0", driver: "gve", numaNode: 0, localCPUs: "0-7", channels: ([4, 4, 0, 0], [4, 4, 0, 0]), queues: 4)
    return s
  }
}

extension CPUSet {
  func isSubset(of other: CPUSet) -> Bool { cpus.isSubset(of: other.cpus) }
}

/// A CPU list a test writes out ("16-31,48-63").
func cpus(_ list: String) -> CPUSet {
  guard let set = try? CPUSet(list: list) else { preconditionFailure("not a CPU list: \(list)") }
  return set
}
