import BPSTuneKernel

/// What `bpstune init` is asked: the NICs, and optionally the base profile and the numbers of
/// CPUs.
package struct InitRequest: Sendable {
  package var interfaces: [String]
  /// --base: a profile name or path; nil lets init choose from what this kernel can do.
  package var base: String?
  /// --poll-cpus: CPUs that poll (and take the queue IRQs) per NIC; nil for the default, 1.
  package var pollCPUs: Int?
  /// --app-cpus: CPUs for the application; nil for the default, 1 where the host has room.
  package var appCPUs: Int?

  package init(interfaces: [String], base: String? = nil, pollCPUs: Int? = nil, appCPUs: Int? = nil) {
    self.interfaces = interfaces
    self.base = base
    self.pollCPUs = pollCPUs
    self.appCPUs = appCPUs
  }
}

/// One decision and why, with the evidence read from the host.
package struct InitDecision: Sendable, Equatable, Encodable {
  package var topic: String
  package var value: String
  package var why: String
}

/// The base profile a site profile includes, and the facts about it the layout needs.
package struct InitBase: Sendable {
  package var name: String
  package var why: String
  /// The variables the base declares (iface, irq-cpus, poll-cpu, app-cpus, ...).
  package var variables: Set<String>
  /// The base turns SMT off (smt/control off or [cpu] smt = false): siblings go offline.
  package var smtOff: Bool
  /// The base runs a busy-poll kthread (per-NAPI threaded = "busy-poll").
  package var threadedBusyPoll: Bool
  /// The base's settings of its ${iface} block, expanded, written out for a further NIC.
  package var interfaceSettings: [ProfileSetting] = []

  package init(name: String, why: String, variables: Set<String>, smtOff: Bool, threadedBusyPoll: Bool) {
    self.name = name
    self.why = why
    self.variables = variables
    self.smtOff = smtOff
    self.threadedBusyPoll = threadedBusyPoll
  }

  /// The strongest of the built-in bases this kernel and NIC can take: threaded busy polling
  /// (per-NAPI threaded busy-poll, Linux 6.19+), else socket busy polling with IRQ deferral
  /// (napi_defer_hard_irqs and gro_flush_timeout, Linux 5.10+), else the Intel guide's hft.
  package static func choose(for topology: HostTopology) -> (name: String, why: String) {
    let nics = topology.nics.map(\.name).joined(separator: ", ")
    if topology.netdev.busyPoll {
      return (
        "napi-threaded",
        "this kernel has threaded busy polling (netdev napi-set takes threaded = busy-poll, Linux 6.19+): "
          + "a kthread polls the NIC on its own CPU and the application's CPUs take no IRQs"
      )
    }
    let why = topology.netdev.napiSet ? "; napi-set per-NAPI deferral is there too (6.13+)" : ""
    if !topology.nics.isEmpty && topology.nics.allSatisfy(\.deferHardIRQs) {
      return (
        "napi-busy-poll",
        "no threaded busy polling here (needs 6.19+); \(nics) has napi_defer_hard_irqs and gro_flush_timeout, "
          + "so socket busy polling with IRQ deferral\(why)"
      )
    }
    return (
      "hft",
      "no threaded busy polling (6.19+) and no IRQ deferral (napi_defer_hard_irqs) for \(nics): the Intel guide's busy polling"
    )
  }
}

/// The layout `bpstune init` decides from a host's topology: which CPUs keep the operating
/// system, which poll each NIC (and take its queue IRQs), which run the application, which
/// stay idle, how many channels, and the boot parameters that go with it. Pure: the same
/// topology gives the same layout.
package struct SiteLayout: Sendable {
  package struct NICLayout: Sendable, Equatable {
    package var name: String
    package var node: Int?
    package var poll: CPUSet
    /// Channels to write ("combined" = 1), in ethtool's names; empty to leave them.
    package var channels: [(name: String, count: UInt32)]
    /// The base's queue channel fields (rx, tx, combined) that `channels` replaces, written as 0:
    /// a site profile's channels merge into its base's field by field, so a field of the base
    /// that is not written again stays (the base's combined 1 beside rx 1 and tx 1).
    package var zeroedChannels: [String] = []
    /// The NIC has queue IRQs to pin.
    package var hasIRQs: Bool
    /// Rings the base asks more of than the driver allows, at the driver's maximum.
    package var rings: [(name: String, count: UInt32)] = []

    package static func == (a: NICLayout, b: NICLayout) -> Bool {
      a.name == b.name && a.node == b.node && a.poll == b.poll && a.hasIRQs == b.hasIRQs
        && a.channels.map(\.name) == b.channels.map(\.name) && a.channels.map(\.count) == b.channels.map(\.count)
        && a.zeroedChannels == b.zeroedChannels
        && a.rings.map(\.name) == b.rings.map(\.name) && a.rings.map(\.count) == b.rings.map(\.count)
    }
  }

  package var base: InitBase
  package var housekeeping: CPUSet
  package var nics: [NICLayout]
  package var app: CPUSet
  /// SMT siblings of the poll and application CPUs, left without work.
  package var idle: CPUSet
  /// CPUs the running kernel already isolates (isolcpus=, nohz_full=) that the layout does not
  /// use: left isolated, as the admin set them; not housekeeping.
  package var kept: CPUSet = .empty
  /// Boot parameters, in order: name and value.
  package var cmdline: [(name: String, value: String)]
  package var decisions: [InitDecision]
  /// Where init could not decide well, and why.
  package var warnings: [String]

  package var poll: CPUSet { nics.reduce(.empty) { $0.union($1.poll) } }
}

extension SiteLayout {
  /// Decides the layout. Too few CPUs for what was asked is an error naming the shortfall (exit 2).
  package static func decide(_ t: HostTopology, _ request: InitRequest, base: InitBase) throws(BPSTuneError)
    -> SiteLayout
  {
    var decisions = [InitDecision(topic: "base", value: base.name, why: base.why)]
    var warnings: [String] = []
    if let v = t.virtualization {
      warnings.append(
        "a virtual machine (\(v)): its vCPUs, SMT siblings and NUMA nodes are what the hypervisor presents and may "
          + "share physical cores with other guests; measure (bpstune probe) before trusting the layout")
    }
    if let refused = t.boot.refusedIsolcpus {
      warnings.append(
        "/proc/cmdline has isolcpus=\(refused), which the kernel refuses whole (a flag holds only letters and _; "
          + "its log says \"isolcpus: Invalid flag\"): it isolates no CPU, and init keeps neither its CPUs nor its flags"
      )
    }
    if !t.irqbalance.isEmpty {
      warnings.append(
        "irqbalance runs (pid \(t.irqbalance.map(String.init).joined(separator: ", "))) and moves queue IRQs: stop "
          + "and disable it (systemctl disable --now irqbalance) or ban the poll CPUs (IRQBALANCE_BANNED_CPULIST)")
    }

    // Housekeeping: CPU 0's core, and the CPUs irqaffinity= already gives the operating system.
    let first = t.online.sorted.first ?? 0
    let hkCore = t.core(of: first)?.cpus ?? CPUSet([first])
    var taken = hkCore.union(t.boot.irqaffinity ?? .empty)
    let alreadyIsolated = (t.boot.isolcpus ?? .empty)
    let pollCount = request.pollCPUs ?? 1

    // Poll CPUs per NIC, and for the first NIC its application CPUs beside them.
    var nics: [SiteLayout.NICLayout] = []
    var app = CPUSet.empty
    for (index, nic) in t.nics.enumerated() {
      let local: CPUSet
      if let cpus = nic.localCPUs, nic.numaNode != nil {
        local = cpus.intersection(t.online)
      } else if let node = nic.numaNode, let cpus = t.nodes[node] {
        local = cpus
      } else {
        local = t.online
        if t.nodes.count > 1 {
          warnings.append(
            "\(nic.name) has no NUMA information (\(nic.driver == nil ? "no device" : "numa_node -1")): its CPUs were "
              + "chosen from every node; find the NIC's slot's node and give the CPUs with --set")
        }
      }
      let free = t.cores.filter { local.contains($0.first) && $0.cpus.intersection(taken).isEmpty }
      let wantApp = index == 0 ? (request.appCPUs ?? 1) : 0
      let ordered = order(free, need: pollCount + wantApp, isolated: alreadyIsolated)
      let where_ = nic.numaNode.map { "NUMA node \($0)" } ?? (t.nodes.count > 1 ? "any node" : "the only node")
      guard ordered.count >= pollCount + (index == 0 ? (request.appCPUs ?? 0) : 0) else {
        let asked = index == 0 && request.appCPUs != nil ? " and \(request.appCPUs!) application" : ""
        throw .invalidPlan(
          setting: "init",
          message:
            "too few CPUs: \(nic.name) is on \(where_), which has \(ordered.count) free core(s) "
            + "(\(CPUSet(ordered.map(\.first)).description)) besides housekeeping \(taken.description); "
            + "the layout needs \(pollCount) poll\(asked) core(s); ask for fewer with --poll-cpus/--app-cpus")
      }
      let pollCores = Array(ordered.prefix(pollCount))
      let poll = CPUSet(pollCores.map(\.first))
      taken = taken.union(pollCores.reduce(.empty) { $0.union($1.cpus) })
      let l3 = pollCores.first?.l3.map { " in the L3 group \($0.listString)" } ?? ""
      decisions.append(
        InitDecision(
          topic: "poll-cpus \(nic.name)", value: poll.listString,
          why: "\(nic.name) (\(nic.driver ?? "no driver")) is on \(where_) (local CPUs \(local.listString))"
            + "\(alreadyIsolated.isEmpty ? "" : ", preferring CPUs already in isolcpus= \(alreadyIsolated.listString)"): "
            + "the first free core(s)\(l3), outside housekeeping; its queue IRQs go there too"))
      if index == 0 {
        let appCores = Array(ordered.dropFirst(pollCount).prefix(wantApp))
        app = CPUSet(appCores.map(\.first))
        taken = taken.union(appCores.reduce(.empty) { $0.union($1.cpus) })
        if appCores.count < wantApp {
          warnings.append(
            "only \(t.cores.count) core(s): no core is left for the application beside housekeeping and polling; "
              + "it shares the housekeeping CPUs (--app-cpus N on a bigger host)")
        }
        if !app.isEmpty {
          let sameL3 = appCores.allSatisfy { $0.l3 != nil && $0.l3 == pollCores.first?.l3 }
          decisions.append(
            InitDecision(
              topic: "app-cpus", value: app.listString,
              why: "the next free core(s) on \(where_), "
                + (sameL3 ? "sharing the poll CPUs' L3 cache" : "as close to the poll CPUs as the caches allow")
                + ", apart from them (the guides keep the application and the NIC's IRQs on separate cores of its node)"
            ))
        }
      }
      // The base's settings for ${iface} are the first NIC's; a further NIC's block is init's own.
      let (counts, zeroed) = channels(
        nic, count: UInt32(pollCount), base: index == 0 ? base : nil, decisions: &decisions, warnings: &warnings)
      var layout = NICLayout(
        name: nic.name, node: nic.numaNode, poll: poll, channels: counts, hasIRQs: !nic.queueIRQs.isEmpty,
        rings: rings(nic, base: base, decisions: &decisions))
      layout.zeroedChannels = zeroed
      nics.append(layout)
      if nic.queueIRQs.isEmpty {
        decisions.append(
          InitDecision(
            topic: "irq-affinity \(nic.name)", value: "(left)",
            why: "\(nic.noIRQs ?? "\(nic.name) has no queue IRQs"); a base's irq-affinity shows as unsupported"))
      }
    }

    // SMT siblings of the poll and application cores: idle, or offline where the base turns SMT off.
    let used = nics.reduce(app) { $0.union($1.poll) }
    let idle = used.sorted.reduce(CPUSet.empty) { $0.union(t.core(of: $1)?.cpus ?? .empty) }.subtracting(used)
    if !idle.isEmpty {
      decisions.append(
        InitDecision(
          topic: "idle-cpus", value: idle.listString,
          why: base.smtOff
            ? "SMT siblings of the poll and application CPUs; \(base.name) turns SMT off, which takes them offline"
            : "SMT siblings of the poll and application CPUs, left idle (isolated with them) so nothing shares their cores"
        ))
    }
    // CPUs the admin already took from the operating system (isolcpus=, nohz_full=) that the
    // layout does not use stay theirs: neither housekeeping nor the layout's.
    let adminIsolated = alreadyIsolated.union(t.boot.nohzFull ?? .empty).intersection(t.online)
      .subtracting(used).subtracting(idle).subtracting(hkCore)
    let housekeeping = t.online.subtracting(used).subtracting(idle).subtracting(adminIsolated)
    decisions.append(
      InitDecision(
        topic: "housekeeping-cpus", value: housekeeping.listString,
        why:
          "CPU \(first)'s core (\(hkCore.listString))\(t.boot.irqaffinity.map { ", irqaffinity= \($0.listString)" } ?? "") "
          + "and every CPU the layout does not use: the operating system, unbound workqueues and other devices' IRQs"
          + (adminIsolated.isEmpty
            ? "" : "; not \(adminIsolated.listString), which the running kernel already isolates (kept isolated)")))

    let cmdline = bootParameters(t, isolate: used.union(idle), housekeeping: housekeeping, decisions: &decisions)
    return SiteLayout(
      base: base, housekeeping: housekeeping, nics: nics, app: app, idle: idle, kept: adminIsolated, cmdline: cmdline,
      decisions: decisions, warnings: warnings)
  }

  /// Free cores in the order the layout takes them: the level-3 cache group that can hold
  /// `need` cores (most of them already isolated, then the lowest numbered) first, then the
  /// others; within a group, cores already in isolcpus= first, then by number.
  static func order(_ cores: [HostTopology.Core], need: Int, isolated: CPUSet) -> [HostTopology.Core] {
    var groups: [[HostTopology.Core]] = []
    for core in cores {
      if let i = groups.firstIndex(where: { $0[0].l3 == core.l3 }) {
        groups[i].append(core)
      } else {
        groups.append([core])
      }
    }
    func isolatedCount(_ g: [HostTopology.Core]) -> Int { g.filter { isolated.contains($0.first) }.count }
    groups.sort { a, b in
      (min(a.count, need), isolatedCount(a), -a[0].first) > (min(b.count, need), isolatedCount(b), -b[0].first)
    }
    return groups.flatMap { g in
      g.sorted { (isolated.contains($0.first) ? 0 : 1, $0.first) < (isolated.contains($1.first) ? 0 : 1, $1.first) }
    }
  }

  /// One channel (queue pair) per poll CPU, in the driver's kind of channel, within its maximum;
  /// and the queue channel fields of `base` (whose ${iface} block this NIC's merges into) that
  /// these replace, to be written as 0: the base's `combined = 1` on a driver with rx and tx
  /// channels only, which would otherwise stay in the merged profile as a setting this host
  /// cannot take (or, on a driver with both kinds, add queues that no poll CPU polls).
  static func channels(
    _ nic: HostTopology.NIC, count: UInt32, base: InitBase?, decisions: inout [InitDecision],
    warnings: inout [String]
  ) -> (channels: [(name: String, count: UInt32)], zeroed: [String]) {
    let kinds: [String]
    if let combined = nic.channel("combined") {
      kinds = ["combined"]
      _ = combined
    } else if nic.channel("rx") != nil && nic.channel("tx") != nil {
      kinds = ["rx", "tx"]
    } else {
      decisions.append(
        InitDecision(
          topic: "channels \(nic.name)", value: "(left)",
          why: "\(nic.driver ?? nic.name) reports no combined or rx/tx channels (ETHTOOL_GCHANNELS): left as they are"))
      return ([], [])
    }
    let out = kinds.map { kind -> (name: String, count: UInt32) in
      let channel = nic.channel(kind)!
      return (kind, min(count, channel.max))
    }
    let now = kinds.map { "\($0) \(nic.channel($0)!.current) of at most \(nic.channel($0)!.max)" }.joined(
      separator: ", ")
    var asked: [String: ProfileValue] = [:]
    if case .table(let table)? = base?.interfaceSettings.first(where: { $0.key == "channels" })?.value {
      asked = table
    }
    let zeroed = ["rx", "tx", "combined"].filter { asked[$0] != nil && !kinds.contains($0) }
    var why = "one queue pair per poll CPU, so that every queue is polled where its IRQ goes (now \(now))"
    if let base, !zeroed.isEmpty {
      let theirs = zeroed.map { "\($0) = \(asked[$0]!.inlineTOML)" }.joined(separator: ", ")
      let lacks = zeroed.filter { nic.channel($0) == nil }
      why +=
        "; \(zeroed.map { "\($0) 0" }.joined(separator: ", ")) replaces \(base.name)'s \(theirs) (a site profile's "
        + "channels merge into its base's field by field, so a field not written here would stay): "
        + (lacks.count == zeroed.count
          ? "\(nic.driver ?? nic.name) has no \(lacks.joined(separator: " or ")) channels, and 0 leaves them as they are"
          : "the base's would add queues beside these that no poll CPU polls")
    }
    decisions.append(
      InitDecision(
        topic: "channels \(nic.name)",
        value: (out.map { "\($0.name) \($0.count)" } + zeroed.map { "\($0) 0" }).joined(separator: ", "), why: why))
    if out.contains(where: { $0.count < count }) {
      warnings.append("\(nic.name): \(nic.driver ?? "the driver") allows fewer queues than the \(count) poll CPUs")
    }
    return (out, zeroed)
  }

  /// The base's ring sizes (ring = { rx = 1024 }) that this driver cannot take, at its maximum.
  static func rings(_ nic: HostTopology.NIC, base: InitBase, decisions: inout [InitDecision]) -> [(
    name: String, count: UInt32
  )] {
    guard case .table(let asked)? = base.interfaceSettings.first(where: { $0.key == "ring" })?.value else { return [] }
    var out: [(name: String, count: UInt32)] = []
    for name in asked.keys.sorted() {
      guard case .integer(let want)? = asked[name], let ring = nic.rings.first(where: { $0.name == name }),
        want > Int64(ring.max)
      else { continue }
      out.append((name, ring.max))
      decisions.append(
        InitDecision(
          topic: "ring \(nic.name)", value: "\(name) \(ring.max)",
          why:
            "\(base.name) asks \(name) \(want), above \(nic.driver ?? nic.name)'s maximum \(ring.max) (ETHTOOL_GRINGPARAM)"
        ))
    }
    return out
  }

  /// isolcpus, nohz_full and rcu_nocbs for the poll and application CPUs (and their idle
  /// siblings), keeping CPUs the running kernel already has in them, and irqaffinity= for the
  /// housekeeping CPUs.
  static func bootParameters(
    _ t: HostTopology, isolate: CPUSet, housekeeping: CPUSet, decisions: inout [InitDecision]
  ) -> [(name: String, value: String)] {
    guard !isolate.isEmpty else { return [] }
    let isolcpus = isolate.union(t.boot.isolcpus ?? .empty)
    let flags = t.boot.isolcpusFlags.map { $0 + "," }.joined()
    let out: [(name: String, value: String)] = [
      ("isolcpus", flags + isolcpus.listString),
      ("nohz_full", isolate.union(t.boot.nohzFull ?? .empty).listString),
      ("rcu_nocbs", isolate.union(t.boot.rcuNocbs ?? .empty).union(t.boot.nohzFull ?? .empty).listString),
      ("irqaffinity", (t.boot.irqaffinity ?? housekeeping).listString),
    ]
    let kept = [t.boot.isolcpus, t.boot.nohzFull, t.boot.rcuNocbs].contains { $0 != nil }
    decisions.append(
      InitDecision(
        topic: "cmdline", value: out.map { "\($0.name)=\($0.value)" }.joined(separator: " "),
        why: "the poll and application CPUs out of the scheduler's general use, without the periodic tick and RCU "
          + "callbacks; other IRQs on the housekeeping CPUs"
          + (kept ? "; the CPUs the running kernel already has in them are kept" : "")
          + ". Boot parameters are never written: `bpstune cmdline` prints them and a GRUB drop-in; reboot"))
    return out
  }
}
