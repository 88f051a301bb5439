import BPSTuneKernel
import SystemPackage

/// The CPU half of a low-latency host (`[cpu]` in profiles), on the CPUs `cpus` names
/// (default @online):
/// - `governor`: cpufreq's /sys/devices/system/cpu/cpuN/cpufreq/scaling_governor;
/// - `idle-latency`: the per-CPU PM QoS resume-latency limit,
///   /sys/devices/system/cpu/cpuN/power/pm_qos_resume_latency_us, which cpuidle governors obey
///   and which holds without a process keeping /dev/cpu_dma_latency open;
/// - `idle-states`: cpuidle states disabled by name, /sys/devices/system/cpu/cpuN/cpuidle/stateK/disable;
/// - `boost`: /sys/devices/system/cpu/cpufreq/boost, or intel_pstate's no_turbo (inverted);
/// - `smt`: /sys/devices/system/cpu/smt/control, the same setting as that [sysfs] path.
///
/// Settings are per CPU ("cpu2 governor"). A host without cpufreq or cpuidle (many VMs) plans
/// them as unsupported, one line per key with the reason.
package struct CPUKnob: Knob {
  package let kind = SettingKind.cpu
  package let sections = ["cpu"]
  package let interfaceKeys: [String] = []

  package init() {}

  static let keys = ["cpus", "governor", "idle-latency", "idle-states", "boost", "smt"]
  static let cpuRoot = "/sys/devices/system/cpu"

  /// The largest resume-latency limit the kernel takes (S32_MAX - 1: S32_MAX means "no constraint").
  static let latencyLimit: Int64 = 2_147_483_646

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    switch setting.key {
    case "cpus": _ = try ValueReader.cpus(setting, allowLocal: false)
    case "governor": _ = try governor(setting)
    case "idle-latency": _ = try idleLatency(setting)
    case "idle-states": _ = try idleStates(setting)
    case "boost": _ = try ValueReader.bool(setting)
    case "smt": _ = try smt(setting)
    default:
      throw setting.origin.error("unknown [cpu] key" + Suggestion.hint(for: setting.key, in: Self.keys))
    }
  }

  func governor(_ setting: ProfileSetting) throws(BPSTuneError) -> String {
    guard case .string(let s) = setting.value, !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_") })
    else {
      throw setting.origin.error(
        "expected a cpufreq governor name such as \"performance\" or \"schedutil\", got \(setting.value)")
    }
    return s
  }

  /// As ``read(_:on:)`` shows it: "none" (no limit), or the limit in µs ("0": only polling idle).
  func idleLatency(_ setting: ProfileSetting) throws(BPSTuneError) -> String {
    switch setting.value {
    case .bool(false): return "none"
    case .string(let s) where s == "none" || s == "off": return "none"
    default:
      return String(try ValueReader.integer(setting, 0...Self.latencyLimit, unit: .microseconds))
    }
  }

  func idleStates(_ setting: ProfileSetting) throws(BPSTuneError) -> [String] {
    guard case .array(let items) = setting.value else {
      throw setting.origin.error("expected a list of cpuidle state names such as [\"C1E\", \"C6\"]")
    }
    var names: [String] = []
    for (i, item) in items.enumerated() {
      guard case .string(let s) = item, !s.isEmpty, !s.contains(where: { $0 == "\n" || $0 == "\0" }) else {
        throw setting.origin.error("item \(i) must be a cpuidle state name (as cpuidle/stateN/name has it)")
      }
      if names.contains(s) { throw setting.origin.error("\"\(s)\" is listed twice") }
      names.append(s)
    }
    return names
  }

  func smt(_ setting: ProfileSetting) throws(BPSTuneError) -> String {
    if case .bool(let on) = setting.value { return on ? "on" : "off" }
    return try ValueReader.choice(setting, ["on", "off", "forceoff"])
  }

  // MARK: Plan

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let settings = request.profile.sections["cpu"] ?? []
    guard !settings.isEmpty else { return [] }
    let host = request.host
    let byKey = Dictionary(settings.map { ($0.key, $0) }, uniquingKeysWith: { _, b in b })
    var out: [Target] = []
    var scope = host.onlineCPUs
    if let cpus = byKey["cpus"] {
      let wanted = try ValueReader.cpus(cpus, allowLocal: false).resolve(on: host, interface: nil)
      let offline = wanted.subtracting(host.onlineCPUs)
      if !offline.isEmpty {
        throw .invalidPlan(
          setting: cpus.origin.description,
          message: "CPU(s) \(offline.listString) are not online here (online: \(host.onlineCPUs.listString))")
      }
      scope = wanted
    }
    if let setting = byKey["smt"] {
      let target = try SysfsKnob().target(
        ProfileSetting(key: SysfsKnob.smtControl, value: .string(try smt(setting)), origin: setting.origin),
        path: SysfsKnob.smtControl, host: host)
      out.append(target)
      // Turning SMT off takes every CPU but the first of each core offline: their settings
      // would vanish mid-apply, so they are left out.
      if target.unsupported == nil, target.desired != "on",
        (try? host.read("/sys/" + SysfsKnob.smtControl)) == "on"
      {
        scope = scope.subtracting(Self.siblingsGoingOffline(on: host))
      }
    }
    let cpus = scope.sorted
    if let setting = byKey["governor"] {
      let name = try governor(setting)
      out += collapse(
        cpus.map { cpu in
          var t = target(cpu, "governor", name, setting)
          let dir = "\(Self.cpuRoot)/cpu\(cpu)/cpufreq"
          if !host.exists(dir + "/scaling_governor") {
            t.unsupported =
              host.list("\(Self.cpuRoot)/cpufreq").contains(where: { $0.hasPrefix("policy") })
              ? "cpu\(cpu) has no cpufreq policy"
              : "no cpufreq on this host (\(Self.cpuRoot)/cpufreq has no policy: no frequency-scaling driver, usual in VMs)"
          } else if let available = try? host.read(dir + "/scaling_available_governors"),
            !available.split(separator: " ").contains(Substring(name))
          {
            t.unsupported = "governor \(name) is not available on cpu\(cpu) (available: \(available))"
          }
          return t
        }, key: "governor", setting: setting)
    }
    if let setting = byKey["idle-latency"] {
      let value = try idleLatency(setting)
      out += collapse(
        cpus.map { cpu in
          var t = target(cpu, "idle-latency", value, setting)
          t.note = value == "0" ? "µs; 0 allows only polling idle (n/a in the kernel file)" : "µs"
          if !host.exists(Self.latencyFile(cpu)) {
            t.unsupported = "no per-CPU PM QoS here (\(Self.latencyFile(cpu)) absent: kernel without CONFIG_PM)"
          }
          return t
        }, key: "idle-latency", setting: setting)
    }
    if let setting = byKey["idle-states"] {
      for name in try idleStates(setting) {
        out += collapse(
          cpus.map { cpu in
            var t = target(cpu, "idle-state \(name)", "disabled", setting)
            let states = Self.states(cpu, on: host).map(\.name)
            if !states.contains(name) {
              t.unsupported =
                states.isEmpty
                ? "no cpuidle states here (\(Self.cpuRoot)/cpu\(cpu)/cpuidle absent: no cpuidle driver)"
                : "no idle state \(name) (driver \(Self.idleDriver(on: host)) has \(states.joined(separator: ", ")))"
            }
            return t
          }, key: "idle-state \(name)", setting: setting)
      }
    }
    if let setting = byKey["boost"] {
      let on = try ValueReader.bool(setting)
      var t = Target(
        id: SettingID(kind: kind, key: "boost"), desired: on ? "on" : "off", semantics: .text, phase: .system,
        origin: setting.origin.description)
      if Self.boostFile(on: host) == nil {
        t.unsupported = "no boost control here (neither cpufreq/boost nor intel_pstate/no_turbo)"
      }
      out.append(t)
    }
    return out
  }

  private func target(_ cpu: Int, _ key: String, _ value: String, _ setting: ProfileSetting) -> Target {
    Target(
      id: SettingID(kind: kind, key: "cpu\(cpu) \(key)"), desired: value, semantics: .text, phase: .system,
      origin: setting.origin.description)
  }

  /// One line for a key no CPU here can take for the same reason, instead of one per CPU.
  private func collapse(_ targets: [Target], key: String, setting: ProfileSetting) -> [Target] {
    guard targets.count > 1, let reason = targets.first?.unsupported,
      targets.allSatisfy({ $0.unsupported == reason })
    else { return targets }
    var one = targets[0]
    one.id = SettingID(kind: kind, key: key)
    one.note = nil
    return [one]
  }

  package func warnings(for request: PlanRequest, entries: [PlanEntry]) -> [String] {
    guard let smt = entries.first(where: { $0.id.kind == .sysfs && $0.id.key == SysfsKnob.smtControl }),
      smt.status == .change, smt.target.desired != "on", request.profile.sections["cpu"]?.isEmpty == false
    else { return [] }
    let gone = Self.siblingsGoingOffline(on: request.host)
    guard !gone.isEmpty else { return [] }
    return [
      "SMT off takes CPU(s) \(gone.listString) offline: [cpu] settings are planned on the CPUs that stay online"
    ]
  }

  /// Every online CPU that is not the first of its core's thread_siblings_list.
  static func siblingsGoingOffline(on host: KernelHost) -> CPUSet {
    CPUSet(
      host.onlineCPUs.sorted.filter { cpu in host.threadSiblings(of: cpu).sorted.first.map { $0 != cpu } ?? false })
  }

  // MARK: Kernel files

  static func latencyFile(_ cpu: Int) -> String { "\(cpuRoot)/cpu\(cpu)/power/pm_qos_resume_latency_us" }

  static func idleDriver(on host: KernelHost) -> String {
    (try? host.read("\(cpuRoot)/cpuidle/current_driver")) ?? "none"
  }

  /// cpuN's cpuidle states in order: each stateK directory with its name (cpuidle/stateK/name).
  static func states(_ cpu: Int, on host: KernelHost) -> [(directory: String, name: String)] {
    let base = "\(cpuRoot)/cpu\(cpu)/cpuidle"
    return host.list(base).filter { $0.hasPrefix("state") }.sorted(by: KernelHost.naturalOrder).compactMap { state in
      (try? host.read("\(base)/\(state)/name")).map { ("\(base)/\(state)", $0) }
    }
  }

  /// The boost file and whether it is inverted (intel_pstate's no_turbo).
  static func boostFile(on host: KernelHost) -> (path: String, inverted: Bool)? {
    if host.exists("\(cpuRoot)/intel_pstate/no_turbo") { return ("\(cpuRoot)/intel_pstate/no_turbo", true) }
    if host.exists("\(cpuRoot)/cpufreq/boost") { return ("\(cpuRoot)/cpufreq/boost", false) }
    return nil
  }

  /// The file of a per-CPU setting and the rest of its key ("cpu2 governor" -> 2, "governor").
  static func parse(_ key: String) -> (cpu: Int, name: String)? {
    guard key.hasPrefix("cpu"), let space = key.firstIndex(of: " "),
      let cpu = Int(key[key.index(key.startIndex, offsetBy: 3)..<space]), cpu >= 0, cpu <= CPUSet.maxCPU
    else { return nil }
    return (cpu, String(key[key.index(after: space)...]))
  }

  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, id.interface == nil, id.queue == nil else { return "not a cpu setting" }
    if id.key == "boost" { return nil }
    guard let (_, name) = Self.parse(id.key) else { return "\"\(id.key)\" is not cpuN followed by a [cpu] key" }
    if name == "governor" || name == "idle-latency" { return nil }
    if name.hasPrefix("idle-state "), name.count > "idle-state ".count,
      !name.contains(where: { $0 == "/" || $0 == "\n" || $0 == "\0" })
    {
      return nil
    }
    return "\"\(id.key)\" is not cpuN followed by a [cpu] key"
  }

  private func file(_ id: SettingID, on host: KernelHost) throws -> (path: String, name: String) {
    guard let (cpu, name) = Self.parse(id.key) else {
      throw BPSTuneError.invalidPlan(setting: id.description, message: "not a per-CPU setting")
    }
    switch name {
    case "governor": return ("\(Self.cpuRoot)/cpu\(cpu)/cpufreq/scaling_governor", name)
    case "idle-latency": return (Self.latencyFile(cpu), name)
    default:
      let state = String(name.dropFirst("idle-state ".count))
      guard let found = Self.states(cpu, on: host).first(where: { $0.name == state }) else {
        throw SystemError("open", "\(Self.cpuRoot)/cpu\(cpu)/cpuidle (state \(state))", .noSuchFileOrDirectory)
      }
      return (found.directory + "/disable", name)
    }
  }

  /// The value as plans show it: the governor's name; "none" or the limit in µs (the kernel file
  /// says "0" for no limit and "n/a" for a limit of 0); "enabled"/"disabled"; boost "on"/"off".
  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    if id.key == "boost" {
      guard let (path, inverted) = Self.boostFile(on: host) else {
        throw SystemError("open", "\(Self.cpuRoot)/cpufreq/boost", .noSuchFileOrDirectory)
      }
      return (try host.read(path) == "1") != inverted ? "on" : "off"
    }
    let (path, name) = try file(id, on: host)
    let raw = try host.read(path)
    switch name {
    case "governor": return raw
    case "idle-latency": return raw == "0" ? "none" : raw == "n/a" ? "0" : raw
    default: return raw == "0" ? "enabled" : "disabled"
    }
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    if id.key == "boost" {
      guard let (path, inverted) = Self.boostFile(on: host) else {
        throw SystemError("open", "\(Self.cpuRoot)/cpufreq/boost", .noSuchFileOrDirectory)
      }
      try host.write(path, (value == "on") != inverted ? "1" : "0")
      return
    }
    let (path, name) = try file(id, on: host)
    switch name {
    case "governor": try host.write(path, value)
    case "idle-latency": try host.write(path, value == "none" ? "0" : value == "0" ? "n/a" : value)
    default: try host.write(path, value == "disabled" ? "1" : "0")
    }
  }

  /// Each online CPU's governor, idle-latency and disabled idle states, and boost.
  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    var out: [ShownSetting] = []
    for cpu in host.onlineCPUs.sorted {
      for key in ["governor", "idle-latency"] {
        let id = SettingID(kind: kind, key: "cpu\(cpu) \(key)")
        let value = try? read(id, on: host)
        out.append(
          ShownSetting(
            id: id, value: value, semantics: .text,
            unavailable: value == nil ? (key == "governor" ? "no cpufreq" : "no PM QoS") : nil))
      }
      let states = Self.states(cpu, on: host).map { state in
        (try? host.read(state.directory + "/disable")) == "1" ? "\(state.name) (disabled)" : state.name
      }
      out.append(
        ShownSetting(
          id: SettingID(kind: kind, key: "cpu\(cpu) idle-states"),
          value: states.isEmpty ? nil : states.joined(separator: ", "), semantics: .text,
          unavailable: states.isEmpty ? "no cpuidle" : nil))
    }
    let boost = SettingID(kind: kind, key: "boost")
    let value = try? read(boost, on: host)
    out.append(ShownSetting(id: boost, value: value, semantics: .text, unavailable: value == nil ? "absent" : nil))
    return out
  }
}
