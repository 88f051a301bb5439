import BPSTuneKernel

/// Queue IRQ affinity (`irq-affinity` in [[interface]]): /proc/irq/N/smp_affinity_list of each
/// queue IRQ of the interface, recorded by the IRQ's action name ("eth0 irq eth0-TxRx-0") and
/// resolved to its number on every read and write, because channels re-create IRQs with new
/// numbers. Also /proc/irq/default_smp_affinity (`[irq] default-affinity`), the mask IRQs
/// created later start with.
///
///     irq-affinity = "2"                                          # every queue IRQ on CPU 2
///     irq-affinity = { cpus = "@local", except = "${app-cpus}", mode = "spread" }
///
/// `all` (the default) puts every IRQ on the whole set; `spread` one IRQ per CPU, round robin
/// in queue order. Managed IRQs (read-only affinity files) are unsupported with the reason.
package struct IRQKnob: Knob {
  package let kind = SettingKind.irq
  package let sections = ["irq"]
  package let interfaceKeys = ["irq-affinity"]

  package init() {}

  static let defaultKey = "default-affinity"
  static let defaultPath = "/proc/irq/default_smp_affinity"
  static let prefix = "irq "

  /// A checked affinity request.
  struct Request {
    var cpus: CPUSpec
    var except: CPUSpec?
    var spread: Bool
  }

  /// `allowLocal`: @local is for `irq-affinity` of an [[interface]] block; `[irq]
  /// default-affinity` has no interface whose local CPUs it could mean.
  static func request(_ setting: ProfileSetting, allowLocal: Bool) throws(BPSTuneError) -> Request {
    guard case .table(let table) = setting.value else {
      return Request(cpus: try ValueReader.cpus(setting, allowLocal: allowLocal), except: nil, spread: false)
    }
    let keys = ["cpus", "except", "mode"]
    func field(_ key: String) -> ProfileSetting? {
      table[key].map {
        ProfileSetting(
          key: key, value: $0, origin: Origin(file: setting.origin.file, key: "\(setting.origin.key).\(key)"))
      }
    }
    for key in table.keys.sorted() where !keys.contains(key) {
      throw Origin(file: setting.origin.file, key: "\(setting.origin.key).\(key)").error(
        "unknown irq-affinity key" + Suggestion.hint(for: key, in: keys))
    }
    guard let cpus = field("cpus") else {
      throw setting.origin.error("names no cpus (a table such as { cpus = \"@local\", mode = \"spread\" })")
    }
    return Request(
      cpus: try ValueReader.cpus(cpus, allowLocal: allowLocal),
      except: try field("except").map { (f) throws(BPSTuneError) in try ValueReader.cpus(f, allowLocal: allowLocal) },
      spread: try field("mode").map { (f) throws(BPSTuneError) in try ValueReader.choice(f, ["all", "spread"]) }
        == "spread")
  }

  /// `[irq]` has one key, default-affinity (without @local); `irq-affinity` is a key of
  /// [[interface]] blocks, not of `[irq]`, whose settings all land on the default affinity.
  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    let inSection = setting.origin.key == "irq.\(setting.key)"
    if setting.key == Self.defaultKey {
      _ = try Self.request(setting, allowLocal: false)
    } else if setting.key == "irq-affinity" && !inSection {
      _ = try Self.request(setting, allowLocal: true)
    } else if setting.key == "irq-affinity" {
      throw setting.origin.error("unknown [irq] key: irq-affinity is a key of [[interface]] blocks")
    } else {
      throw setting.origin.error("unknown [irq] key" + Suggestion.hint(for: setting.key, in: [Self.defaultKey]))
    }
  }

  /// The CPUs a request names on this host; offline or missing CPUs and an empty result are errors.
  static func cpus(_ r: Request, interface: String?, host: KernelHost, setting: String) throws(BPSTuneError) -> CPUSet {
    let asked = r.cpus.resolve(on: host, interface: interface)
    let offline = asked.subtracting(host.onlineCPUs)
    if !offline.isEmpty {
      throw .invalidPlan(
        setting: setting, message: "CPU \(offline.listString) is not online (online: \(host.onlineCPUs.listString))")
    }
    let set = asked.subtracting(r.except?.resolve(on: host, interface: interface) ?? .empty)
    if set.isEmpty { throw .invalidPlan(setting: setting, message: "no CPU is left after except") }
    return set
  }

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let host = request.host
    var out: [Target] = []
    for setting in request.profile.sections["irq"] ?? [] {
      let set = try Self.cpus(
        Self.request(setting, allowLocal: false), interface: nil, host: host, setting: setting.origin.description)
      out.append(
        Target(
          id: SettingID(kind: kind, key: Self.defaultKey), desired: set.maskString, semantics: .cpuMask, phase: .system,
          origin: setting.origin.description))
    }
    for (spec, names) in request.interfaces {
      guard let setting = spec.settings.first(where: { $0.key == "irq-affinity" }) else { continue }
      let r = try Self.request(setting, allowLocal: true)
      for interface in names {
        let set = try Self.cpus(r, interface: interface, host: host, setting: "\(interface) irq-affinity")
        let ordered = set.cpus.sorted()
        switch QueueIRQs.discover(interface, on: host) {
        case .failure(let why):
          out.append(
            Target(
              id: SettingID(kind: kind, interface: interface, key: "irq-affinity"), desired: set.listString,
              semantics: .cpuList, phase: .queue, origin: setting.origin.description, unsupported: why.reason))
        case .success(let irqs):
          for (i, irq) in irqs.enumerated() {
            let cpus = r.spread ? CPUSet([ordered[i % ordered.count]]) : set
            var target = Target(
              id: SettingID(kind: kind, interface: interface, key: Self.prefix + irq.name), desired: cpus.listString,
              semantics: .cpuList, phase: .queue, origin: setting.origin.description,
              note: r.spread ? "IRQ \(irq.number), queue \(irq.queue)" : nil)
            if !host.isWritable("/proc/irq/\(irq.number)/smp_affinity_list") {
              target.unsupported = "IRQ \(irq.number) is managed by the kernel (its affinity file is read-only)"
            }
            out.append(target)
          }
        }
      }
    }
    return out
  }

  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, id.queue == nil else { return "not an IRQ setting" }
    if id.interface == nil { return id.key == Self.defaultKey ? nil : "not an IRQ setting" }
    let name = id.key.dropFirst(Self.prefix.count)
    guard id.key.hasPrefix(Self.prefix), !name.isEmpty, !name.contains("/"), !name.contains(where: \.isWhitespace)
    else { return "\"\(id.key)\" is not an IRQ name" }
    return nil
  }

  /// The affinity file behind a recorded setting, the IRQ found by name now.
  func path(_ id: SettingID, on host: KernelHost) throws -> String {
    if let why = rejection(of: id) { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    guard id.interface != nil else { return Self.defaultPath }
    let name = String(id.key.dropFirst(Self.prefix.count))
    guard let number = QueueIRQs.names(on: host).first(where: { $0.value == name })?.key else {
      throw Unavailable("no IRQ named \(name) in /proc/interrupts")
    }
    return "/proc/irq/\(number)/smp_affinity_list"
  }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String { try host.read(try path(id, on: host)) }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    try host.write(try path(id, on: host), value)
  }

  /// An IRQ whose name is gone while its interface remains went with fewer channels.
  package func isGone(_ id: SettingID, on host: KernelHost) -> Bool {
    guard rejection(of: id) == nil, let interface = id.interface, host.exists("/sys/class/net/\(interface)") else {
      return false
    }
    return !QueueIRQs.names(on: host).values.contains(String(id.key.dropFirst(Self.prefix.count)))
  }

  /// Each queue IRQ with its requested and effective affinity.
  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    var out: [ShownSetting] = []
    for interface in interfaces {
      guard case .success(let irqs) = QueueIRQs.discover(interface, on: host) else { continue }
      for irq in irqs {
        let base = "/proc/irq/\(irq.number)/"
        let list = try? host.read(base + "smp_affinity_list")
        let effective = try? host.read(base + "effective_affinity_list")
        out.append(
          ShownSetting(
            id: SettingID(kind: kind, interface: interface, key: Self.prefix + irq.name),
            value: list.map { "IRQ \(irq.number): \($0)" + (effective.map { " (effective \($0))" } ?? "") },
            semantics: .text, unavailable: list == nil ? "unreadable" : nil))
      }
    }
    return out
  }

  /// irqbalance moves IRQs on its own: say so, with whether its banned CPUs cover the planned sets.
  package func warnings(for request: PlanRequest, entries: [PlanEntry]) -> [String] {
    let planned = entries.filter { $0.id.kind == kind && $0.status == .change }
    guard !planned.isEmpty else { return [] }
    let host = request.host
    for pid in host.list("/proc").compactMap(Int.init) {
      guard (try? host.read("/proc/\(pid)/comm")) == "irqbalance" else { continue }
      let environment = ((try? host.read("/proc/\(pid)/environ")) ?? "").split(separator: "\0")
      var banned = CPUSet.empty
      for entry in environment {
        if entry.hasPrefix("IRQBALANCE_BANNED_CPULIST="), let s = try? CPUSet(list: String(entry.dropFirst(26))) {
          banned = s
        }
        if entry.hasPrefix("IRQBALANCE_BANNED_CPUS="), let s = try? CPUSet(mask: String(entry.dropFirst(23))) {
          banned = s
        }
      }
      let ours = planned.reduce(CPUSet.empty) { acc, e in acc.union((try? CPUSet(list: e.target.desired)) ?? .empty) }
      let uncovered = ours.subtracting(banned)
      return [
        uncovered.isEmpty
          ? "irqbalance (pid \(pid)) is running; its banned CPUs \(banned.listString) cover the pinned CPUs"
          : "irqbalance (pid \(pid)) is running and can move the pinned IRQs again: its banned CPUs ("
            + (banned.isEmpty ? "none" : banned.listString) + ") do not cover CPU \(uncovered.listString)"
      ]
    }
    return []
  }
}
