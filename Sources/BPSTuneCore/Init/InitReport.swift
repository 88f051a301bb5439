import BPSTuneKernel
import SystemPackage

/// `bpstune init`: the topology read, the layout decided, and the site profile written from
/// them. Read-only on the host: the only thing init ever writes is the profile (--output).
package struct InitReport: Sendable {
  package var topology: HostTopology
  package var layout: SiteLayout
  package var profile: String
  /// Where the profile was written (--output); nil for standard output.
  package var output: String?

  /// Reads the host, chooses the base, decides the layout and writes the profile's text.
  package init(
    host: KernelHost, request: InitRequest, loader: ProfileLoader, workingDirectory: String?, command: String,
    date: String
  ) throws(BPSTuneError) {
    // A name init found itself (the host's only NIC) is checked as -i checks one: it goes into
    // the profile, which must load to that name.
    for name in request.interfaces {
      if let why = SiteProfile.unwritableName(name) { throw .usage("init: interface \(name): \(why)") }
    }
    topology = try HostTopology.read(from: host, interfaces: request.interfaces)
    let (base, include) = try InitBase.load(
      request.base, for: topology, loader: loader, workingDirectory: workingDirectory)
    layout = try SiteLayout.decide(topology, request, base: base)
    profile = SiteProfile.text(layout, topology: topology, include: include, command: command, date: date)
    // What it writes must load and plan here and now, as `bpstune lint` and `diff` will: a
    // profile init cannot load is init's bug, named as such; settings this host cannot take
    // (the base's, which a site profile cannot take away) are said, with their reasons.
    let site: Profile
    do {
      site = try loader.load(text: profile, path: "site.profile")
    } catch {
      throw .invalidPlan(
        setting: "init", message: "the profile written does not load (a bug in bpstune init): \(error)")
    }
    let plan = Planner().survey(site, on: host).plan
    for entry in plan.unsupported {
      layout.warnings.append(
        "this host cannot take \(entry.id.description) (\(entry.reason ?? "unsupported")), which \(base.name) sets: "
          + "apply with --skip-unsupported, or choose another --base")
    }
    if !plan.unsupported.isEmpty {
      profile = SiteProfile.text(layout, topology: topology, include: include, command: command, date: date)
    }
  }

  /// Writes the profile to `path`, mode 0644, durably (``Syscalls/writeDurably``); an existing
  /// file (or symlink, or anything else by that name) is replaced only with `replace` (--force),
  /// and then the name itself is replaced, never a file a symlink points to.
  package mutating func write(to path: String, replace: Bool) throws(BPSTuneError) {
    try ResultFile.write("--output", path, profile, replace: replace, taken: "--force replaces it")
    output = path
  }

  /// What `init --output FILE` prints: the layout in a few lines, what init could not decide
  /// well, and the next steps.
  package func summary() -> [String] {
    var lines = ["wrote \(output ?? "-"): base \(layout.base.name)"]
    for nic in layout.nics {
      lines.append(
        "  \(nic.name): node \(nic.node.map(String.init) ?? "unknown"), poll and IRQ CPUs \(nic.poll.description)"
          + (nic.channels.isEmpty
            ? ""
            : ", "
              + (nic.channels.map { "\($0.name) \($0.count)" } + nic.zeroedChannels.map { "\($0) 0" }).joined(
                separator: " ")))
    }
    lines.append("  application CPUs \(layout.app.description), housekeeping \(layout.housekeeping.description)")
    if !layout.idle.isEmpty { lines.append("  idle SMT siblings \(layout.idle.description)") }
    if let out = output {
      lines.append("next: bpstune diff \(out); bpstune apply \(out); bpstune cmdline \(out) for the boot parameters")
    }
    return lines
  }

  // MARK: JSON

  struct Document: Encodable {
    var schema = 1
    var command = "init"
    var topology: TopologyJSON
    var layout: LayoutJSON
    var decisions: [InitDecision]
    var warnings: [String]
    var profile: String
    var output: String?
  }

  struct TopologyJSON: Encodable {
    var kernel: String
    var hostname: String
    var online_cpus: String
    var nodes: [String: String]
    var cores: [String]
    var l3_groups: [String]
    var smt_control: String?
    var isolcpus: String?
    var nohz_full: String?
    var rcu_nocbs: String?
    var irqaffinity: String?
    var irqbalance_pids: [Int]
    var virtualization: String?
    var netdev_family: Bool
    var napi_get: Bool
    var napi_set: Bool
    var napi_threaded: Bool
    var threaded_busy_poll: Bool
    var irq_suspend_timeout: Bool
    var epoll_busy_poll_params: Bool
    var cpufreq: Bool
    var cpuidle: String?
    var interfaces: [NICJSON]
  }

  struct NICJSON: Encodable {
    var name: String
    var driver: String?
    var numa_node: Int?
    var local_cpus: String?
    var speed_mbps: Int?
    var channels: [String: ChannelJSON]
    var queue_irqs: [Int]
    var no_irqs: String?
    var napi_defer_hard_irqs: Bool
  }

  struct ChannelJSON: Encodable {
    var current: UInt32
    var max: UInt32
  }

  struct LayoutJSON: Encodable {
    var base: String
    var base_reason: String
    var housekeeping_cpus: String
    var poll_cpus: String
    var irq_cpus: String
    var app_cpus: String
    var idle_cpus: String
    var kept_isolated_cpus: String
    var interfaces: [NICLayoutJSON]
    var cmdline: [String: String]
  }

  struct NICLayoutJSON: Encodable {
    var name: String
    var numa_node: Int?
    var poll_cpus: String
    var channels: [String: UInt32]
  }

  package func json() -> String {
    let t = topology
    let nics = t.nics.map { nic in
      NICJSON(
        name: nic.name, driver: nic.driver, numa_node: nic.numaNode, local_cpus: nic.localCPUs?.listString,
        speed_mbps: nic.speed,
        channels: Dictionary(
          uniqueKeysWithValues: nic.channels.map { ($0.name, ChannelJSON(current: $0.current, max: $0.max)) }),
        queue_irqs: nic.queueIRQs, no_irqs: nic.noIRQs, napi_defer_hard_irqs: nic.deferHardIRQs)
    }
    let l3 = Set(t.cores.compactMap(\.l3)).map(\.listString).sorted(by: KernelHost.naturalOrder)
    let topology = TopologyJSON(
      kernel: t.release, hostname: t.hostname, online_cpus: t.online.listString,
      nodes: Dictionary(uniqueKeysWithValues: t.nodes.map { (String($0.key), $0.value.listString) }),
      cores: t.cores.map(\.cpus.listString), l3_groups: l3, smt_control: t.smtControl,
      isolcpus: t.boot.isolcpus.map { (t.boot.isolcpusFlags + [$0.listString]).joined(separator: ",") },
      nohz_full: t.boot.nohzFull?.listString, rcu_nocbs: t.boot.rcuNocbs?.listString,
      irqaffinity: t.boot.irqaffinity?.listString, irqbalance_pids: t.irqbalance, virtualization: t.virtualization,
      netdev_family: t.netdev.family, napi_get: t.netdev.napiGet, napi_set: t.netdev.napiSet,
      napi_threaded: t.netdev.threaded, threaded_busy_poll: t.netdev.busyPoll, irq_suspend_timeout: t.netdev.irqSuspend,
      epoll_busy_poll_params: t.epollParameters, cpufreq: t.cpufreq, cpuidle: t.cpuidle, interfaces: nics)
    let layout = LayoutJSON(
      base: self.layout.base.name, base_reason: self.layout.base.why,
      housekeeping_cpus: self.layout.housekeeping.listString, poll_cpus: self.layout.poll.listString,
      irq_cpus: self.layout.nics.first?.poll.listString ?? "", app_cpus: self.layout.app.listString,
      idle_cpus: self.layout.idle.listString, kept_isolated_cpus: self.layout.kept.listString,
      interfaces: self.layout.nics.map { nic in
        NICLayoutJSON(
          name: nic.name, numa_node: nic.node, poll_cpus: nic.poll.listString,
          channels: Dictionary(uniqueKeysWithValues: nic.channels.map { ($0.name, $0.count) }))
      },
      cmdline: Dictionary(uniqueKeysWithValues: self.layout.cmdline.map { ($0.name, $0.value) }))
    return ReportJSON.encode(
      Document(
        topology: topology, layout: layout, decisions: self.layout.decisions, warnings: self.layout.warnings,
        profile: profile, output: output))
  }
}
