import BPSTuneKernel

/// An [interface.napi] table as a profile writes it, checked:
///
///     [interface.napi]
///     queues = [0]                 # NAPIs serving these rx queues; default: all
///     threaded = "busy-poll"       # "disabled" | "enabled" | "busy-poll"
///     defer-hard-irqs = 100
///     gro-flush-timeout = 15000    # ns
///     irq-suspend-timeout = 0      # ns
///     kthread = { policy = "fifo", priority = 50, cpus = "2" }
struct NAPIRequest {
  /// One napi-set value in the kernel's form ("busy-poll", "15000").
  struct Value {
    var key: String
    var value: String
    var origin: Origin
  }

  /// The kthread's scheduling; nil fields are left as they are.
  struct Kthread {
    var policy: String?
    var priority: Int64?
    var cpus: CPUSpec?
    var origin: Origin
  }

  /// Selected rx queue indexes; nil selects every rx queue.
  var queues: [Int]?
  var values: [Value]
  var kthread: Kthread?
  var origin: Origin

  /// napi-set keys in the order they are written.
  static let valueKeys = ["threaded", "defer-hard-irqs", "gro-flush-timeout", "irq-suspend-timeout"]
  static let keys = ["queues"] + valueKeys + ["kthread"]
  static let threadedModes = ["disabled", "enabled", "busy-poll"]
  static let kthreadKeys = ["policy", "priority", "cpus"]
  static let kthreadPolicies = ["other", "fifo", "rr"]

  var threaded: String? { values.first { $0.key == "threaded" }?.value }

  /// Each [[interface]] block of a plan request that has an [interface.napi] table.
  static func blocks(in request: PlanRequest) throws(BPSTuneError) -> [(
    spec: InterfaceSpec, napi: NAPIRequest, names: [String]
  )] {
    var out: [(InterfaceSpec, NAPIRequest, [String])] = []
    for (spec, names) in request.interfaces {
      guard let setting = spec.settings.first(where: { $0.key == "napi" }) else { continue }
      out.append((spec, try NAPIRequest(setting), names))
    }
    return out
  }

  init(_ setting: ProfileSetting) throws(BPSTuneError) {
    let origin = setting.origin
    self.origin = origin
    queues = nil
    values = []
    kthread = nil
    guard case .table(let table) = setting.value else {
      throw setting.origin.error(
        "expected a table such as { queues = [0], threaded = \"enabled\" }, got \(setting.value.typeName)")
    }
    if table.isEmpty { throw setting.origin.error("names no NAPI setting (\(Self.keys.joined(separator: ", ")))") }
    func field(_ key: String) -> ProfileSetting? {
      table[key].map {
        ProfileSetting(key: key, value: $0, origin: Origin(file: origin.file, key: "\(origin.key).\(key)"))
      }
    }
    for key in table.keys.sorted() where !Self.keys.contains(key) {
      throw Origin(file: origin.file, key: "\(origin.key).\(key)").error(
        "unknown NAPI key" + Suggestion.hint(for: key, in: Self.keys))
    }
    if let q = field("queues") {
      guard case .array(let items) = q.value, !items.isEmpty else {
        throw q.origin.error("expected a non-empty array of rx queue indexes such as [0, 1], got \(q.value.typeName)")
      }
      var indexes: [Int] = []
      for item in items {
        guard case .integer(let n) = item, (0...65535).contains(n) else {
          throw q.origin.error("\(item) is not an rx queue index (a whole number from 0 to 65535)")
        }
        if indexes.contains(Int(n)) { throw q.origin.error("queue \(n) is named twice") }
        indexes.append(Int(n))
      }
      queues = indexes
    }
    for key in Self.valueKeys {
      guard let f = field(key) else { continue }
      let text: String
      switch key {
      case "threaded": text = try ValueReader.choice(f, Self.threadedModes)
      case "defer-hard-irqs": text = String(try ValueReader.integer(f, 0...Int64(Int32.max)))
      default: text = String(try ValueReader.integer(f, 0...Int64.max, unit: .nanoseconds))
      }
      values.append(Value(key: key, value: text, origin: f.origin))
    }
    if let k = field("kthread") { kthread = try Self.kthread(k) }
    if values.isEmpty && kthread == nil {
      throw setting.origin.error("selects queues but sets nothing (\(Self.keys.dropFirst().joined(separator: ", ")))")
    }
    if let kthread, threaded == "disabled" {
      throw kthread.origin.error("a NAPI with threaded = \"disabled\" has no kthread to schedule")
    }
  }

  private static func kthread(_ setting: ProfileSetting) throws(BPSTuneError) -> Kthread {
    guard case .table(let table) = setting.value, !table.isEmpty else {
      throw setting.origin.error(
        "expected a table such as { policy = \"fifo\", priority = 50, cpus = \"2\" }, got \(setting.value.typeName)")
    }
    for key in table.keys.sorted() where !kthreadKeys.contains(key) {
      throw Origin(file: setting.origin.file, key: "\(setting.origin.key).\(key)").error(
        "unknown kthread key" + Suggestion.hint(for: key, in: kthreadKeys))
    }
    func field(_ key: String) -> ProfileSetting? {
      table[key].map {
        ProfileSetting(
          key: key, value: $0, origin: Origin(file: setting.origin.file, key: "\(setting.origin.key).\(key)"))
      }
    }
    var out = Kthread(origin: setting.origin)
    if let p = field("policy") { out.policy = try ValueReader.choice(p, kthreadPolicies) }
    if let p = field("priority") {
      let realTime = out.policy == "fifo" || out.policy == "rr"
      guard out.policy != nil else {
        throw p.origin.error("a priority needs a policy (\"fifo\" or \"rr\" take 1 to 99; \"other\" takes 0)")
      }
      out.priority = try ValueReader.integer(p, realTime ? 1...99 : 0...0)
    } else if out.policy == "fifo" || out.policy == "rr" {
      throw setting.origin.error("policy \"\(out.policy!)\" needs a priority from 1 to 99")
    }
    if let c = field("cpus") {
      out.cpus = try ValueReader.cpus(c, allowLocal: true)
      if out.cpus == .set(.empty) { throw c.origin.error("a thread needs at least one CPU") }
    }
    return out
  }
}
