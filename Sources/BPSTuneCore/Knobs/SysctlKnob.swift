import BPSTuneKernel

/// Sysctls: the files below /proc/sys (`[sysctl]` in profiles), on procfs itself (statfs(2):
/// not binfmt_misc, which is mounted at /proc/sys/fs/binfmt_misc). `net.core.busy_read` and
/// `net/core/busy_read` name the same file; the slashed form allows dots inside a component
/// (`net/ipv4/conf/eth0.100/rp_filter`).
package struct SysctlKnob: Knob {
  package let kind = SettingKind.sysctl
  package let sections = ["sysctl"]
  package let interfaceKeys: [String] = []

  package init() {}

  /// Ranges, units and rounding of sysctls bpstune knows; other sysctls take any integer,
  /// boolean, string or list and are compared as integers or as text.
  struct Known {
    var range: ClosedRange<Int64>
    var unit: TimeUnit? = nil
    /// The kernel stores the value rounded up to a power of two.
    var powerOfTwo = false
    /// A net.* sysctl of the initial network namespace only (net/core/sysctl_net_core.c's
    /// net_core_table, not the per-namespace netns_core_table): a network namespace other
    /// than the initial one has no such file. kernel.* and vm.* sysctls are not per-namespace
    /// and are in every network namespace; when one is missing, this kernel lacks it.
    var initialNetnsOnly = false
    var about: String
  }

  static let int32 = Int64(Int32.max)
  static let known: [String: Known] = [
    "net.core.busy_read": Known(
      range: 0...int32, unit: .microseconds, initialNetnsOnly: true,
      about: "µs a blocking read busy-polls the device queue"),
    "net.core.busy_poll": Known(
      range: 0...int32, unit: .microseconds, initialNetnsOnly: true, about: "µs poll() and select() busy-poll"),
    "net.core.rps_sock_flow_entries": Known(
      range: 0...(1 << 29), powerOfTwo: true, initialNetnsOnly: true, about: "global RFS flow table size"),
    "net.core.netdev_budget": Known(range: 0...int32, initialNetnsOnly: true, about: "packets per NET_RX softirq"),
    "net.core.netdev_budget_usecs": Known(
      range: 0...int32, unit: .microseconds, initialNetnsOnly: true, about: "µs per NET_RX softirq"),
    "net.core.dev_weight": Known(range: 0...int32, initialNetnsOnly: true, about: "packets per NAPI poll (backlog)"),
    "net.core.somaxconn": Known(range: 0...int32, about: "listen backlog limit (per netns)"),
    "kernel.timer_migration": Known(range: 0...1, about: "migrate timers to busy CPUs"),
    "kernel.sched_rt_runtime_us": Known(
      range: -1...int32, unit: .microseconds, about: "RT throttling budget; -1 = none"),
    "kernel.sched_rt_period_us": Known(range: 1...int32, unit: .microseconds, about: "RT period"),
    "kernel.numa_balancing": Known(range: 0...3, about: "automatic NUMA balancing"),
    "kernel.nmi_watchdog": Known(range: 0...1, about: "NMI watchdog"),
    "vm.stat_interval": Known(range: 1...int32, about: "seconds between vmstat updates"),
  ]

  /// Sysctls `bpstune show` lists.
  static let shown = [
    "net.core.busy_read", "net.core.busy_poll", "net.core.rps_sock_flow_entries", "net.core.netdev_budget",
    "net.core.netdev_budget_usecs", "kernel.timer_migration", "kernel.sched_rt_runtime_us",
    "kernel.numa_balancing",
  ]

  package func canonicalKey(_ key: String) -> String {
    guard key.contains("/") else { return key }
    let parts = key.split(separator: "/", omittingEmptySubsequences: false)
    return parts.contains { $0.contains(".") } ? key : parts.joined(separator: ".")
  }

  /// /proc/sys path of a sysctl name.
  static func path(_ name: String) -> String {
    "/proc/sys/" + (name.contains("/") ? name : name.replacingOccurrences(of: ".", with: "/"))
  }

  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, id.interface == nil, id.queue == nil else { return "not a sysctl" }
    return Self.nameRejection(id.key)
  }

  /// The characters of a sysctl name, made once (a Set built per name was most of a
  /// snapshot's check).
  private static let allowedInName = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.+@:/")

  static func nameRejection(_ name: String) -> String? {
    let separator: Character = name.contains("/") ? "/" : "."
    let parts = name.split(separator: separator, omittingEmptySubsequences: false)
    if name.isEmpty || name.utf8.count > 512 { return "not a sysctl name" }
    if parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
      return "\"\(name)\" is not a sysctl name (empty, . or .. component)"
    }
    if let bad = name.first(where: { !allowedInName.contains($0) }) {
      return "\"\(name)\" is not a sysctl name (character \"\(bad.unicodeScalars.first!.escaped(asASCII: true))\")"
    }
    return nil
  }

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    _ = try kernelValue(setting)
  }

  /// The text written to /proc/sys, and how it compares.
  func kernelValue(_ setting: ProfileSetting) throws(BPSTuneError) -> (String, ValueSemantics, note: String?) {
    if let why = Self.nameRejection(setting.key) { throw setting.origin.error(why) }
    if let known = Self.known[setting.key] {
      let value = try ValueReader.integer(setting, known.range, unit: known.unit)
      if known.powerOfTwo && value > 0 {
        let rounded = Self.roundUpToPowerOfTwo(value)
        if rounded != value {
          return (String(rounded), .integer, "the kernel rounds \(value) up to \(rounded)")
        }
      }
      return (String(value), .integer, nil)
    }
    switch setting.value {
    case .integer(let i): return (String(i), .integer, nil)
    case .bool(let b): return (b ? "1" : "0", .integer, nil)
    case .string(let s):
      if s.contains(where: { $0 == "\n" || $0 == "\0" }) { throw setting.origin.error("value has a newline or NUL") }
      return (s, Int64(s.trimmingWhitespace) != nil ? .integer : .text, nil)
    case .array(let items):
      var parts: [String] = []
      for item in items {
        switch item {
        case .integer(let i): parts.append(String(i))
        case .string(let s) where !s.contains(where: \.isWhitespace): parts.append(s)
        default: throw setting.origin.error("list items must be integers or words, got \(item.typeName)")
        }
      }
      return (parts.joined(separator: "\t"), .text, nil)
    default:
      throw setting.origin.error("expected an integer, boolean, string or list, got \(setting.value.typeName)")
    }
  }

  static func roundUpToPowerOfTwo(_ v: Int64) -> Int64 {
    var p: Int64 = 1
    while p < v { p <<= 1 }
    return p
  }

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    var out: [Target] = []
    for setting in request.profile.sections["sysctl"] ?? [] {
      let (value, semantics, note) = try kernelValue(setting)
      var target = Target(
        id: SettingID(kind: kind, key: setting.key), desired: value, semantics: semantics, phase: .system,
        origin: setting.origin.description, note: note)
      let path = Self.path(setting.key)
      if !request.host.exists(path) {
        target.unsupported = missingReason(setting.key, host: request.host)
      } else if let foreign = request.host.foreignFileSystem(path, tree: .procfs) {
        // /proc/sys/fs/binfmt_misc is a file system of its own, whose `register` file makes any
        // program an interpreter the kernel runs as root.
        throw .invalidPlan(setting: setting.origin.description, message: foreign)
      }
      out.append(target)
    }
    return out
  }

  private func missingReason(_ name: String, host: KernelHost) -> String {
    if let known = Self.known[name], known.initialNetnsOnly {
      return "no \(Self.path(name)): a global sysctl, present only in the initial network namespace"
        + (name.hasPrefix("net.core.busy") ? " of a kernel with CONFIG_NET_RX_BUSY_POLL" : "")
    }
    let components = Self.path(name).dropFirst("/proc/sys/".count).split(separator: "/").map(String.init)
    guard let near = Suggestion.nearestPath(components, below: "/proc/sys", on: host) else {
      return "no such sysctl on this kernel"
    }
    // Named as the profile names it: dotted unless a component holds a dot itself.
    let dotted = !name.contains("/") && !near.contains { $0.contains(".") }
    return "no such sysctl on this kernel (did you mean \(near.joined(separator: dotted ? "." : "/"))?)"
  }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    try host.read(Self.path(id.key))
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    if let foreign = host.foreignFileSystem(Self.path(id.key), tree: .procfs) {
      throw BPSTuneError.invalidPlan(setting: id.key, message: foreign)
    }
    try host.write(Self.path(id.key), value)
  }

  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    Self.shown.map { name in
      let id = SettingID(kind: kind, key: name)
      do {
        return ShownSetting(id: id, value: try read(id, on: host), semantics: .integer)
      } catch {
        return ShownSetting(id: id, value: nil, semantics: .integer, unavailable: "absent")
      }
    }
  }
}
