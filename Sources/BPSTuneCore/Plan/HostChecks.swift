import BPSTuneKernel

/// The host facts the guides ask about, for `bpstune show` and as plan warnings: the NIC's NUMA
/// node against the CPUs the profile gives its IRQs and the application (the Intel guide and
/// the book keep them NUMA-local), the IOMMU (both turn it off), SMT (the guide's host ran
/// without hyperthreading), and whether isolcpus= and nohz_full= cover a busy-poll kthread's CPU
/// (the threaded busy-poll series isolates it).
package enum HostChecks {
  static let cpuRoot = CPUKnob.cpuRoot

  /// /sys/class/net/IF/device/numa_node; nil when the device has none or says -1.
  package static func numaNode(of interface: String, on host: KernelHost) -> Int? {
    guard let text = try? host.read("/sys/class/net/\(interface)/device/numa_node"), let node = Int(text), node >= 0
    else { return nil }
    return node
  }

  /// The IOMMU's state from /sys/kernel/iommu_groups: "off" (no groups), "passthrough" (every
  /// group's type is identity), or "on (N groups, TYPE)".
  package static func iommu(on host: KernelHost) -> String {
    let groups = host.list("/sys/kernel/iommu_groups")
    guard !groups.isEmpty else { return "off" }
    let types = Set(groups.compactMap { try? host.read("/sys/kernel/iommu_groups/\($0)/type") })
    if types == ["identity"] { return "passthrough" }
    return "on (\(groups.count) groups, \(types.sorted().joined(separator: "/")))"
  }

  /// /sys/devices/system/cpu/smt/control and active: "on, active", "off", "notsupported".
  package static func smt(on host: KernelHost) -> String? {
    guard let control = try? host.read("\(cpuRoot)/smt/control") else { return nil }
    let active = (try? host.read("\(cpuRoot)/smt/active")) == "1"
    return control + (control == "on" ? (active ? ", active" : ", no siblings online") : "")
  }

  /// /sys/devices/system/cpu/nohz_full (nohz_full=); empty when absent or "(null)".
  package static func nohzFull(on host: KernelHost) -> CPUSet {
    guard let text = try? host.read("\(cpuRoot)/nohz_full"), text != "(null)" else { return .empty }
    return (try? CPUSet(list: text)) ?? .empty
  }

  /// The SMT siblings of `cpus` (topology/thread_siblings_list), without `cpus` themselves.
  package static func siblings(of cpus: CPUSet, on host: KernelHost) -> CPUSet {
    cpus.sorted.reduce(CPUSet.empty) { $0.union(host.threadSiblings(of: $1)) }.subtracting(cpus)
  }

  /// What `bpstune show` lists under "host".
  package static func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    func fact(_ key: String, _ interface: String? = nil, _ value: String?) -> ShownSetting {
      ShownSetting(
        id: SettingID(kind: .host, interface: interface, key: key), value: value, semantics: .text,
        unavailable: value == nil ? "absent" : nil)
    }
    var out = [
      fact("host iommu", nil, iommu(on: host)),
      fact("host smt", nil, smt(on: host)),
      fact("host isolcpus", nil, host.isolatedCPUs.description),
      fact("host nohz_full", nil, nohzFull(on: host).description),
    ]
    for interface in interfaces where host.exists("/sys/class/net/\(interface)/device") {
      out.append(fact("numa-node", interface, numaNode(of: interface, on: host).map(String.init) ?? "none (-1)"))
      out.append(fact("local-cpus", interface, host.localCPUs(of: interface).description))
    }
    return out
  }

  /// Plan warnings about the host, for the settings this plan makes.
  static func warnings(for request: PlanRequest, entries: [PlanEntry]) -> [String] {
    let host = request.host
    var out: [String] = []
    let app = request.profile.variables["app-cpus"].flatMap { try? CPUSet(list: $0) }
    let planned = entries.filter { $0.status != .unsupported }
    let nohz = nohzFull(on: host)
    // NUMA: the queue IRQs and the application on the NIC's node.
    for name in Set(request.interfaces.flatMap(\.names)).sorted() {
      guard let node = numaNode(of: name, on: host) else { continue }
      let local = host.localCPUs(of: name)
      let irqCPUs = planned.filter { $0.id.kind == .irq && $0.id.interface == name }
        .compactMap { try? CPUSet(list: $0.target.desired) }.reduce(CPUSet.empty) { $0.union($1) }
      let remote = irqCPUs.subtracting(local)
      if !remote.isEmpty {
        out.append(
          "\(name)'s queue IRQs go to CPU(s) \(remote.listString), not on its NUMA node \(node) "
            + "(local: \(local.listString)); the guides keep them NUMA-local")
      }
      if let app, !app.subtracting(local).isEmpty {
        out.append(
          "app-cpus \(app.subtracting(local).listString) are not on \(name)'s NUMA node \(node) (local: \(local.listString))"
        )
      }
    }
    // The busy-poll kthread's CPU: isolated, tick-free, and no application on its sibling.
    for entry in planned where entry.id.kind == .kthread {
      guard let map = FieldMap(parsing: entry.target.desired), let text = map["cpus"],
        let cpus = try? CPUSet(list: text), !cpus.isEmpty,
        entries.contains(where: {
          $0.id.kind == .napi && $0.id.interface == entry.id.interface && $0.id.queue == entry.id.queue
            && $0.id.key == "threaded" && $0.target.desired == "busy-poll"
        })
      else { continue }
      let name = "\(entry.id.interface ?? "") \(entry.id.queue ?? "") busy-poll kthread"
      let notIsolated = cpus.subtracting(host.isolatedCPUs)
      let ticking = cpus.subtracting(nohz)
      if !notIsolated.isEmpty || !ticking.isEmpty {
        let what = [
          notIsolated.isEmpty ? nil : "isolcpus= (isolated: \(host.isolatedCPUs.description))",
          ticking.isEmpty ? nil : "nohz_full= (\(nohz.description))",
        ].compactMap { $0 }
        out.append(
          "\(name)'s CPU \(cpus.listString) is not in \(what.joined(separator: " or ")): other tasks or the tick "
            + "share it; the series isolates it ([cmdline] isolcpus and nohz_full)")
      }
      if let app {
        let shared = siblings(of: cpus, on: host).intersection(app)
        if !shared.isEmpty {
          out.append(
            "\(name)'s CPU \(cpus.listString) is an SMT sibling of app CPU(s) \(shared.listString): they share a core")
        }
      }
    }
    // The IOMMU, where the profile busy-polls and does not already turn it off at boot.
    let busyPolls = planned.contains {
      ($0.id.kind == .sysctl && ["net.core.busy_read", "net.core.busy_poll"].contains($0.id.key)
        && (Int($0.target.desired) ?? 0) > 0) || ($0.id.kind == .napi && $0.target.desired == "busy-poll")
    }
    let asksIOMMU = entries.contains { $0.id.kind == .cmdline && $0.id.key.hasSuffix("iommu") }
    let state = iommu(on: host)
    if busyPolls && !asksIOMMU && state.hasPrefix("on") {
      out.append(
        "the IOMMU is \(state): the Intel guide and the book turn it off for busy polling "
          + "([cmdline] iommu = \"off\" or intel_iommu = \"off\", as hft-host does)")
    }
    return out
  }
}
