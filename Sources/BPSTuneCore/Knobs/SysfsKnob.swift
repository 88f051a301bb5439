import BPSTuneKernel

/// System-level sysfs files (`[sysfs]` in profiles), named by their path below /sys.
/// A path may not leave /sys, by `..` or by a symlink, and must name a file on sysfs itself
/// (statfs(2)), not on debugfs, tracefs, securityfs, configfs, efivarfs or bpffs mounted below it.
package struct SysfsKnob: Knob {
  package let kind = SettingKind.sysfs
  package let sections = ["sysfs"]
  package let interfaceKeys: [String] = []

  package init() {}

  static let smtControl = "devices/system/cpu/smt/control"
  static let workqueueMask = "devices/virtual/workqueue/cpumask"

  /// Whether a path is a CPU bitmap the kernel ANDs with the possible CPUs.
  static func isWorkqueueMask(_ path: String) -> Bool {
    path == workqueueMask
      || (path.hasPrefix("devices/virtual/workqueue/") && path.hasSuffix("/cpumask")
        && path.split(separator: "/").count == 5)
  }

  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, id.interface == nil, id.queue == nil else { return "not a sysfs setting" }
    return Self.pathRejection(id.key, allowGlob: false)
  }

  /// Why `path` cannot name files below /sys. Profile keys may be globs; a setting's identity
  /// (in plans and snapshots) is always one concrete file.
  static func pathRejection(_ path: String, allowGlob: Bool = true) -> String? {
    if path.hasPrefix("/") { return "\"\(path)\" must be relative to /sys, not absolute" }
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    if path.isEmpty || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
      return "\"\(path)\" is not a path inside /sys (empty, . or .. component)"
    }
    if path.contains(where: { $0.isWhitespace || $0 == "\0" }) {
      return "\"\(path)\" has white space or NUL"
    }
    if !allowGlob && KernelHost.isGlob(path) { return "\"\(path)\" has glob characters" }
    return nil
  }

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    if let why = Self.pathRejection(setting.key) { throw setting.origin.error(why) }
    _ = try kernelValue(setting, path: setting.key, host: nil)
  }

  /// The value to write to the file at `path` (the setting's key, or one file its glob matched).
  func kernelValue(_ setting: ProfileSetting, path: String, host: KernelHost?) throws(BPSTuneError) -> (
    String, ValueSemantics, String?
  ) {
    if path == Self.smtControl {
      if case .bool(let b) = setting.value { return (b ? "on" : "off", .text, nil) }
      return (try ValueReader.choice(setting, ["on", "off", "forceoff"]), .text, nil)
    }
    if Self.isWorkqueueMask(path) {
      let spec = try ValueReader.cpus(setting, allowLocal: false)
      guard let host else { return ("", .cpuMask, nil) }
      let wanted = spec.resolve(on: host, interface: nil)
      let stored = wanted.intersection(host.possibleCPUs)
      if stored.isEmpty {
        throw .invalidPlan(
          setting: setting.origin.description,
          message: "no CPU of \"\(wanted.listString)\" exists here (possible: \(host.possibleCPUs.listString))")
      }
      let note = stored == wanted ? nil : "the kernel keeps only possible CPUs: \(stored.listString)"
      return (stored.maskString, .cpuMask, note)
    }
    switch setting.value {
    case .integer(let i): return (String(i), .integer, nil)
    case .bool(let b): return (b ? "1" : "0", .integer, nil)
    case .string(let s):
      if s.contains(where: { $0 == "\n" || $0 == "\0" }) { throw setting.origin.error("value has a newline or NUL") }
      return (s, Int64(s) != nil ? .integer : .text, nil)
    default:
      throw setting.origin.error("expected an integer, boolean or string, got \(setting.value.typeName)")
    }
  }

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let settings = request.profile.sections["sysfs"] ?? []
    // Glob matches first: a file the profile also names on its own takes that value.
    let ordered = settings.filter { KernelHost.isGlob($0.key) } + settings.filter { !KernelHost.isGlob($0.key) }
    var out: [Target] = []
    for setting in ordered {
      let paths = KernelHost.isGlob(setting.key) ? request.host.expand(setting.key, below: "/sys") : [setting.key]
      for path in paths { out.append(try target(setting, path: path, host: request.host)) }
    }
    return out
  }

  /// One file's target: `path` is the setting's key or a file its glob matched.
  func target(_ setting: ProfileSetting, path: String, host: KernelHost) throws(BPSTuneError) -> Target {
    let (value, semantics, note) = try kernelValue(setting, path: path, host: host)
    let full = "/sys/" + path
    var target = Target(
      id: SettingID(kind: kind, key: path), desired: value, semantics: semantics, phase: .system,
      origin: setting.origin.description, note: note)
    if Self.isWorkqueueMask(path) {
      let wanted = try ValueReader.cpus(setting, allowLocal: false).resolve(on: host, interface: nil)
      let cut = wanted.subtracting(host.possibleCPUs)
      if !cut.isEmpty {
        target.warning =
          "CPU list \(wanted.listString) cut to \(wanted.intersection(host.possibleCPUs).listString): "
          + "CPU(s) \(cut.listString) do not exist here"
      }
    }
    if !host.exists(full) {
      let near = Suggestion.nearestPath(path.split(separator: "/").map(String.init), below: "/sys", on: host)
      target.unsupported =
        "no such file \(full) on this host" + (near.map { " (did you mean \($0.joined(separator: "/"))?)" } ?? "")
    } else if !host.staysInside(full, tree: "/sys") {
      throw .invalidPlan(setting: setting.origin.description, message: "\(full) resolves to a file outside /sys")
    } else if let foreign = host.foreignFileSystem(full, tree: .sysfs) {
      throw .invalidPlan(setting: setting.origin.description, message: foreign)
    } else if path == Self.smtControl, let now = try? host.read(full), ["notsupported", "notimplemented"].contains(now)
    {
      target.unsupported = "SMT control is \(now) on this machine"
    }
    return target
  }

  /// A glob that matched no file has no entry of its own in the plan.
  package func warnings(for request: PlanRequest, entries: [PlanEntry]) -> [String] {
    let planned = Set(entries.filter { $0.id.kind == kind }.map(\.target.origin))
    return (request.profile.sections["sysfs"] ?? []).filter {
      KernelHost.isGlob($0.key) && !planned.contains($0.origin.description)
    }.map { "\($0.origin): \"\($0.key)\" matches no file below /sys" }
  }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    try host.read("/sys/" + id.key)
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    guard host.staysInside("/sys/" + id.key, tree: "/sys") else {
      throw BPSTuneError.invalidPlan(setting: id.key, message: "resolves to a file outside /sys")
    }
    if let foreign = host.foreignFileSystem("/sys/" + id.key, tree: .sysfs) {
      throw BPSTuneError.invalidPlan(setting: id.key, message: foreign)
    }
    try host.write("/sys/" + id.key, value)
  }

  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    [(Self.smtControl, ValueSemantics.text), (Self.workqueueMask, .cpuMask)].map { key, semantics in
      let id = SettingID(kind: kind, key: key)
      do {
        return ShownSetting(id: id, value: try read(id, on: host), semantics: semantics)
      } catch {
        return ShownSetting(id: id, value: nil, semantics: semantics, unavailable: "absent")
      }
    }
  }
}
