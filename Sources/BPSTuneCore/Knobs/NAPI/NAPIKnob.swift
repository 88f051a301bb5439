import BPSTuneKernel

/// Per-NAPI settings of [interface.napi] through the `netdev` generic netlink family:
/// napi-set (Linux 6.13+) of `defer-hard-irqs`, `gro-flush-timeout`, `irq-suspend-timeout`, and
/// `threaded` (6.17+: disabled, enabled; 6.19+: busy-poll). A setting is recorded by interface
/// and rx queue ("veth0 rx-0 threaded") and resolved to the NAPI serving that queue on every
/// read and write, because NAPI ids change when queues are re-created.
///
/// Where the kernel lacks per-NAPI support but device sysfs can do the same for every NAPI of
/// the device (threaded 0/1, napi_defer_hard_irqs, gro_flush_timeout) and the profile selects
/// every rx queue, the plan falls back to that sysfs file and says so.
package struct NAPIKnob: Knob {
  package let kind = SettingKind.napi
  /// napi-set is an admin operation (CAP_NET_ADMIN), as are the device sysfs fallbacks.
  package let writePrivileges: Set<Privilege> = [.netAdmin]

  /// A `kthread` in the table is scheduled too, which needs CAP_SYS_NICE.
  package func privileges(for setting: ProfileSetting) -> Set<Privilege> {
    if case .table(let t) = setting.value, t["kthread"] != nil { return [.netAdmin, .sysNice] }
    return writePrivileges
  }
  package let sections: [String] = []
  package let interfaceKeys = ["napi"]

  package init() {}

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    _ = try NAPIRequest(setting)
  }

  /// What a napi-set value needs from the kernel: the capability and the version that has it.
  static func needs(_ key: String, _ value: String, _ caps: NetdevCapabilities) -> String? {
    switch (key, value) {
    case ("threaded", "busy-poll"): caps.busyPoll ? nil : "Linux 6.19+ (threaded busy-poll)"
    case ("threaded", _): caps.threaded ? nil : "Linux 6.17+ (per-NAPI threaded)"
    default: caps.napiSet ? nil : "Linux 6.13+ (netdev netlink napi-set)"
    }
  }

  /// The device sysfs key (of ``NetdevSysfsKnob``) that sets a value for every NAPI, and its value.
  static func deviceFallback(_ key: String, _ value: String) -> (key: String, value: String)? {
    switch (key, value) {
    case ("threaded", "enabled"): ("threaded", "1")
    case ("threaded", "disabled"): ("threaded", "0")
    case ("defer-hard-irqs", _): ("napi-defer-hard-irqs", value)
    case ("gro-flush-timeout", _): ("gro-flush-timeout", value)
    default: nil
    }
  }

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let host = request.host
    var out: [Target] = []
    // The netdev family is asked what it can do only when a profile has NAPI values.
    let blocks = try NAPIRequest.blocks(in: request).filter { !$0.napi.values.isEmpty }
    if blocks.isEmpty { return [] }
    let caps = (try? host.netdev.capabilities()) ?? .none
    for (spec, napi, names) in blocks {
      for interface in names {
        let selection = NAPISelection(napi, interface: interface, host: host)
        for value in napi.values {
          let origin = value.origin.description
          if let needs = Self.needs(value.key, value.value, caps) {
            out += try fallback(
              value, needs: needs, selection: selection, spec: spec, interface: interface, host: host)
            continue
          }
          for (queue, resolved) in selection.napis() {
            var target = Target(
              id: SettingID(kind: kind, interface: interface, queue: queue, key: value.key), desired: value.value,
              semantics: value.key == "threaded" ? .text : .integer, phase: .napi, origin: origin)
            if case .failure(let why) = resolved { target.unsupported = why.reason }
            out.append(target)
          }
        }
      }
    }
    return out
  }

  /// A value this kernel cannot set per NAPI: the device sysfs file when it does the same (every
  /// rx queue selected), otherwise one unsupported target naming the version needed.
  private func fallback(
    _ value: NAPIRequest.Value, needs: String, selection: NAPISelection, spec: InterfaceSpec, interface: String,
    host: KernelHost
  ) throws(BPSTuneError) -> [Target] {
    // One unsupported entry per selected queue, as the per-NAPI settings would have been.
    func unsupported(_ reason: String) -> [Target] {
      let queues = selection.queues.map { Optional($0.name) }
      return (queues.isEmpty ? [nil] : queues).map { queue in
        Target(
          id: SettingID(kind: kind, interface: interface, queue: queue, key: value.key), desired: value.value,
          semantics: value.key == "threaded" ? .text : .integer, phase: .napi, origin: value.origin.description,
          unsupported: reason)
      }
    }
    guard let (sysfsKey, sysfsValue) = Self.deviceFallback(value.key, value.value) else {
      return unsupported(
        "needs \(needs)" + (value.key == "irq-suspend-timeout" ? "; there is no sysfs file for it" : ""))
    }
    let file = NetdevSysfsKnob.Attribute.named(sysfsKey)!.file
    guard selection.all else {
      return unsupported(
        "needs \(needs); device sysfs \(file) would set every NAPI of \(interface) (select every rx queue to use it)")
    }
    if let own = spec.settings.first(where: { $0.key == sysfsKey }),
      case .number(let n, _) = try NetdevSysfsKnob().value(own), String(n) != sysfsValue
    {
      throw .invalidPlan(
        setting: "\(interface) napi \(value.key)",
        message:
          "this kernel sets it through device sysfs \(file), which the profile also sets to \(n) at \(own.origin)")
    }
    return [
      Target(
        id: SettingID(kind: .netdev, interface: interface, key: sysfsKey), desired: sysfsValue, semantics: .integer,
        phase: .device, origin: value.origin.description,
        note: "per-NAPI \(value.key) needs \(needs); falls back to device sysfs \(file), which sets every NAPI",
        unsupported: host.exists(NetdevSysfsKnob.path(interface, queue: nil, file: file))
          ? nil : "needs \(needs), and \(interface) has no sysfs \(file) to fall back to")
    ]
  }

  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, let interface = id.interface, NAPIRequest.valueKeys.contains(id.key) else {
      return "not a NAPI setting"
    }
    do {
      try ProfileLoader.checkInterfaceName(interface, at: Origin(file: "", key: ""))
    } catch {
      return "\"\(interface)\" is not an interface name"
    }
    guard let queue = id.queue, NAPIDevice.index(queue) != nil else {
      return "\"\(id.queue ?? "")\" is not an rx queue"
    }
    return nil
  }

  /// The NAPI behind a recorded setting, resolved now.
  func napi(_ id: SettingID, on host: KernelHost) throws -> NAPIInfo {
    try Self.napi(id, rejection: rejection(of: id), on: host)
  }

  /// The NAPI serving a recorded setting's queue, resolved now; `rejection` is the knob's verdict
  /// on the identity.
  static func napi(_ id: SettingID, rejection: String?, on host: KernelHost) throws -> NAPIInfo {
    if let why = rejection { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    return try NAPIDevice.resolve(id.interface!, on: host).napi(serving: id.queue!)
  }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    guard let value = Self.value(id.key, of: try napi(id, on: host)) else {
      throw Unavailable("napi-get does not report \(id.key) on this kernel")
    }
    return value
  }

  /// A napi-get value in the profile's terms ("busy-poll", "15000"); nil when the kernel leaves
  /// it out.
  static func value(_ key: String, of napi: NAPIInfo) -> String? {
    switch key {
    case "threaded":
      napi.threaded.map { Int($0) < NAPIRequest.threadedModes.count ? NAPIRequest.threadedModes[Int($0)] : String($0) }
    case "defer-hard-irqs": napi.deferHardIRQs.map { String($0) }
    case "gro-flush-timeout": napi.groFlushTimeout.map { String($0) }
    case "irq-suspend-timeout": napi.irqSuspendTimeout.map { String($0) }
    default: nil
    }
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    let napi = try napi(id, on: host)
    var change = NAPIChange()
    switch id.key {
    case "threaded":
      guard let mode = NAPIRequest.threadedModes.firstIndex(of: value) else {
        throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(value)\" is not a threaded mode")
      }
      change.threaded = UInt32(mode)
    case "defer-hard-irqs":
      guard let n = UInt32(value), n <= UInt32(Int32.max) else {
        throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(value)\" is not 0 to \(Int32.max)")
      }
      change.deferHardIRQs = n
    default:
      guard let n = UInt64(value), n <= UInt64(Int64.max) else {
        throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(value)\" is not a time in ns")
      }
      if id.key == "gro-flush-timeout" { change.groFlushTimeout = n } else { change.irqSuspendTimeout = n }
    }
    try host.netdev.set(id.interface!, napi: napi.id, change)
  }

  /// A setting of an rx queue that fewer channels removed is gone with it.
  package func isGone(_ id: SettingID, on host: KernelHost) -> Bool {
    guard rejection(of: id) == nil, let interface = id.interface, let queue = id.queue else { return false }
    return host.queueIsGone(interface, queue)
  }

  /// Each rx queue -> NAPI -> IRQ -> kthread (pid, policy, priority, CPUs) with its settings,
  /// and the NAPIs that serve no rx queue.
  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    var out: [ShownSetting] = []
    for interface in interfaces {
      let device: NAPIDevice
      do {
        device = try NAPIDevice.resolve(interface, on: host)
      } catch {
        out.append(
          ShownSetting(
            id: SettingID(kind: kind, interface: interface, key: "napi"), value: nil, semantics: .text,
            unavailable: error.reason))
        continue
      }
      for napi in device.napis {
        let queues = device.queues(of: napi)
        let chain = Self.chain(napi, on: host) + (device.byOrder && !queues.isEmpty ? " (by queue order)" : "")
        out.append(
          ShownSetting(
            id: SettingID(
              kind: kind, interface: interface, queue: queues.first.map { "rx-\($0)" },
              key: queues.isEmpty ? "napi \(napi.id)" : "napi"), value: chain, semantics: .text))
      }
    }
    return out
  }

  /// "NAPI 459 -> IRQ 25 -> napi/vA-459 pid 1234 fifo 50 CPUs 1; threaded enabled, ...".
  static func chain(_ napi: NAPIInfo, on host: KernelHost) -> String {
    var text = "NAPI \(napi.id) -> " + (napi.irq.map { "IRQ \($0)" } ?? "no IRQ") + " -> "
    if let pid = napi.pid {
      let name = host.scheduler.name(of: Int32(pid)) ?? "kthread"
      if let s = try? host.scheduler.schedule(of: Int32(pid)) {
        text +=
          "\(name) pid \(pid) \(ThreadSchedule.policyName(s.policy)) \(s.priority) CPUs \(s.cpus.description)"
      } else {
        text += "\(name) pid \(pid)"
      }
    } else {
      text += "no kthread"
    }
    let settings = NAPIRequest.valueKeys.compactMap { key in value(key, of: napi).map { "\(key) \($0)" } }
    return settings.isEmpty ? text : text + "; " + settings.joined(separator: ", ")
  }
}

/// The rx queues an [interface.napi] table selects on one interface, and their NAPIs.
struct NAPISelection {
  let interface: String
  /// "rx-0", ... in order, each with whether it exists.
  let queues: [(name: String, exists: Bool)]
  /// Every rx queue of the interface is selected.
  let all: Bool
  let device: Result<NAPIDevice, Unavailable>

  init(_ request: NAPIRequest, interface: String, host: KernelHost) {
    self.interface = interface
    let present = host.queues(of: interface, prefix: "rx")
    if let indexes = request.queues {
      queues = indexes.map { ("rx-\($0)", present.contains("rx-\($0)")) }
      all = Set(present).isSubset(of: Set(indexes.map { "rx-\($0)" }))
    } else {
      queues = present.map { ($0, true) }
      all = true
    }
    device = Result { () throws(Unavailable) in try NAPIDevice.resolve(interface, on: host) }
  }

  /// One entry per selected queue whose NAPI is not already listed for an earlier queue (a
  /// NAPI serving two queues is set once), each with its NAPI or why there is none.
  func napis() -> [(queue: String, napi: Result<NAPIInfo, Unavailable>)] {
    var seen = Set<UInt32>()
    var out: [(String, Result<NAPIInfo, Unavailable>)] = []
    for (queue, exists) in queues {
      guard exists else {
        out.append((queue, .failure(Unavailable("\(interface) has no \(queue)"))))
        continue
      }
      let napi = device.flatMap { device in Result { () throws(Unavailable) in try device.napi(serving: queue) } }
      if case .success(let n) = napi {
        if seen.contains(n.id) { continue }
        seen.insert(n.id)
      }
      out.append((queue, napi))
    }
    return out
  }
}
