import BPSTuneKernel

/// Per-interface sysfs settings below /sys/class/net/IF: `threaded`, `napi_defer_hard_irqs`,
/// `gro_flush_timeout` (device level; since 6.13 a write sets every NAPI of the device), and
/// per queue `queues/rx-N/rps_cpus`, `queues/rx-N/rps_flow_cnt`, `queues/tx-N/xps_cpus`.
package struct NetdevSysfsKnob: Knob {
  package let kind = SettingKind.netdev
  /// The queue and device files' store functions check CAP_NET_ADMIN.
  package let writePrivileges: Set<Privilege> = [.netAdmin]
  package let sections: [String] = []
  package var interfaceKeys: [String] { Attribute.all.map(\.key) }

  package init() {}

  /// One profile key and the sysfs file behind it.
  struct Attribute: Sendable {
    var key: String
    var file: String
    /// "rx" or "tx" for per-queue files; nil for device files.
    var queues: String?
    var semantics: ValueSemantics

    static let all = [
      Attribute(key: "threaded", file: "threaded", queues: nil, semantics: .integer),
      Attribute(key: "napi-defer-hard-irqs", file: "napi_defer_hard_irqs", queues: nil, semantics: .integer),
      Attribute(key: "gro-flush-timeout", file: "gro_flush_timeout", queues: nil, semantics: .integer),
      Attribute(key: "rps-cpus", file: "rps_cpus", queues: "rx", semantics: .cpuMask),
      Attribute(key: "rps-flow-cnt", file: "rps_flow_cnt", queues: "rx", semantics: .integer),
      Attribute(key: "xps-cpus", file: "xps_cpus", queues: "tx", semantics: .cpuMask),
    ]

    static func named(_ key: String) -> Attribute? { all.first { $0.key == key } }
  }

  static func path(_ interface: String, queue: String?, file: String) -> String {
    "/sys/class/net/\(interface)/" + (queue.map { "queues/\($0)/" } ?? "") + file
  }

  func path(_ id: SettingID) throws -> String {
    if let why = rejection(of: id) { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    return Self.path(id.interface!, queue: id.queue, file: Attribute.named(id.key)!.file)
  }

  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, let interface = id.interface, let attribute = Attribute.named(id.key) else {
      return "not an interface setting"
    }
    do {
      try ProfileLoader.checkInterfaceName(interface, at: Origin(file: "", key: ""))
    } catch {
      return "\"\(interface)\" is not an interface name"
    }
    switch (attribute.queues, id.queue) {
    case (nil, nil): return nil
    case (let kind?, let queue?):
      guard queue.hasPrefix(kind + "-"), let n = Int(queue.dropFirst(kind.count + 1)), n >= 0,
        String(n) == queue.dropFirst(kind.count + 1)
      else { return "\"\(queue)\" is not a \(kind) queue" }
      return nil
    default: return "\(attribute.key) \(attribute.queues == nil ? "has no" : "needs a") queue"
    }
  }

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    _ = try value(setting)
  }

  /// A key's value: a number, or a CPU set to be resolved on the host.
  enum Value {
    case number(Int64, note: String?)
    case cpus(CPUSpec)
  }

  func value(_ setting: ProfileSetting) throws(BPSTuneError) -> Value {
    switch setting.key {
    case "threaded": return .number(try ValueReader.bool(setting) ? 1 : 0, note: nil)
    case "napi-defer-hard-irqs": return .number(try ValueReader.integer(setting, 0...Int64(Int32.max)), note: nil)
    case "gro-flush-timeout":
      return .number(try ValueReader.integer(setting, 0...Int64.max, unit: .nanoseconds), note: nil)
    case "rps-flow-cnt":
      let v = try ValueReader.integer(setting, 0...(1 << 30))
      let rounded = v == 0 ? 0 : SysctlKnob.roundUpToPowerOfTwo(v)
      return .number(rounded, note: rounded == v ? nil : "the kernel rounds \(v) up to \(rounded)")
    case "rps-cpus", "xps-cpus": return .cpus(try ValueReader.cpus(setting, allowLocal: true))
    default: throw setting.origin.error("not an interface sysfs key")
    }
  }

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let host = request.host
    var out: [Target] = []
    for (spec, names) in request.interfaces {
      for interface in names {
        for setting in spec.settings {
          guard let attribute = Attribute.named(setting.key) else { continue }
          let v = try value(setting)
          let queues: [String?] =
            attribute.queues.map { host.queues(of: interface, prefix: $0).map { Optional($0) } } ?? [nil]
          // The same for every queue of the interface (and not asked for when there is none).
          let kernelValue =
            try queues.isEmpty
            ? nil : kernelText(v, attribute: attribute, interface: interface, host: host, setting: setting)
          for queue in queues {
            guard let kernelValue else { break }
            var target = Target(
              id: SettingID(kind: kind, interface: interface, queue: queue, key: attribute.key),
              desired: kernelValue.desired, semantics: attribute.semantics,
              phase: attribute.queues == nil ? .device : .queue, origin: setting.origin.description,
              note: kernelValue.note)
            // A CPU list the kernel cuts: warned once per interface, not once per queue.
            if queue == queues.first, let cut = kernelValue.note, attribute.key == "rps-cpus" {
              target.warning = "\(interface) \(attribute.key): \(cut) (offline or isolated CPUs are dropped)"
            }
            let file = Self.path(interface, queue: queue, file: attribute.file)
            if host.isAbsent(file) {
              target.unsupported = "\(interface) has no \(file.dropFirst("/sys/class/net/\(interface)/".count))"
            }
            out.append(target)
          }
          if let kind = attribute.queues, queues.isEmpty {
            out.append(
              Target(
                id: SettingID(kind: self.kind, interface: interface, key: attribute.key), desired: "",
                semantics: attribute.semantics, phase: .queue, origin: setting.origin.description,
                unsupported: "\(interface) has no \(kind) queues in sysfs"))
          }
        }
      }
    }
    return out
  }

  private func kernelText(
    _ v: Value, attribute: Attribute, interface: String, host: KernelHost, setting: ProfileSetting
  ) throws(BPSTuneError) -> (desired: String, note: String?) {
    switch v {
    case .number(let n, let note): return (String(n), note)
    case .cpus(let spec):
      let wanted = spec.resolve(on: host, interface: interface)
      let missing = wanted.subtracting(host.possibleCPUs)
      if !missing.isEmpty {
        throw .invalidPlan(
          setting: "\(interface) \(attribute.key)",
          message: "CPU \(missing.listString) does not exist on this host (possible: \(host.possibleCPUs.listString))")
      }
      // store_rps_map() keeps online, non-isolated CPUs; xps keeps possible ones.
      let stored =
        attribute.key == "rps-cpus" ? wanted.intersection(host.onlineCPUs).subtracting(host.isolatedCPUs) : wanted
      if attribute.key == "rps-cpus" && stored.isEmpty && !wanted.isEmpty {
        throw .invalidPlan(
          setting: "\(interface) \(attribute.key)",
          message: "CPUs \(wanted.listString) are offline or isolated; the kernel refuses such an RPS mask")
      }
      return (
        stored.maskString, stored == wanted ? nil : "the kernel keeps \(stored.description) of \(wanted.description)"
      )
    }
  }

  /// A queue's directory is gone once fewer channels removed the queue.
  package func isGone(_ id: SettingID, on host: KernelHost) -> Bool {
    guard rejection(of: id) == nil, let interface = id.interface, let queue = id.queue else { return false }
    return host.queueIsGone(interface, queue)
  }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    try host.read(try path(id))
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    try host.write(try path(id), value)
  }

  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    var out: [ShownSetting] = []
    for interface in interfaces {
      for attribute in Attribute.all {
        let queues: [String?] = attribute.queues.map { host.queues(of: interface, prefix: $0) } ?? [nil]
        for queue in queues {
          let id = SettingID(kind: kind, interface: interface, queue: queue, key: attribute.key)
          let value = try? read(id, on: host)
          out.append(
            ShownSetting(
              id: id, value: value, semantics: attribute.semantics, unavailable: value == nil ? "absent" : nil))
        }
      }
    }
    return out
  }
}
