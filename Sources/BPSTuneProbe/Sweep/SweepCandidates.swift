import BPSTuneCore
import BPSTuneKernel

/// One `--vary SETTING=V1,V2,...` of `bpstune probe sweep`: a profile variable, or a setting
/// as diff names it, and the values to try.
package struct SweepVary: Sendable, Equatable {
  /// Where the values go in a candidate profile.
  package enum Place: Sendable, Equatable {
    /// `--set NAME=VALUE`: a variable of the profile.
    case variable
    /// `[sysctl] "NAME" = VALUE`.
    case sysctl
    /// `[sysfs] "PATH" = VALUE` (a path relative to /sys).
    case sysfs
    /// A key of the profile's `[[interface]]` block ("napi-defer-hard-irqs", "gro-flush-timeout").
    case interface
    /// A field of an interface table ("coalesce.rx-usecs": table "coalesce", field "rx-usecs").
    case interfaceField(table: String, field: String)
    /// A per-NAPI key of `[interface.napi]` ("napi.defer-hard-irqs", "irq-suspend-timeout").
    case napi(String)
  }

  package var setting: String
  package var values: [String]
  package var place: Place

  /// At most this many values per setting, and candidates in all.
  package static let maxValues = 16
  package static let maxCandidates = 64

  /// Parses "SETTING=V1,V2,..." (values separated by `|` instead where they hold commas:
  /// "app-cpus=2-3|4-5") and finds where SETTING goes in `profile`.
  package init(parsing text: String, profile: Profile) throws(BPSTuneError) {
    guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
      throw .usage("--vary \(text): expected SETTING=V1,V2,...")
    }
    setting = String(text[..<eq])
    let list = text[text.index(after: eq)...]
    values = list.split(separator: list.contains("|") ? "|" : ",", omittingEmptySubsequences: false).map {
      String($0).trimmingWhitespace
    }
    if values.isEmpty || values.contains(where: \.isEmpty) {
      throw .usage("--vary \(setting): an empty value in \"\(list)\"")
    }
    if Set(values).count != values.count { throw .usage("--vary \(setting): a value is given twice") }
    if values.count > Self.maxValues {
      throw .usage("--vary \(setting): \(values.count) values; at most \(Self.maxValues)")
    }
    place = try Self.place(of: setting, in: profile)
  }

  static let napiKeys = ["threaded", "defer-hard-irqs", "gro-flush-timeout", "irq-suspend-timeout"]
  static let tables = ["coalesce", "ring", "channels", "features"]

  static func place(of setting: String, in profile: Profile) throws(BPSTuneError) -> Place {
    if profile.variableNames.contains(setting) { return .variable }
    if setting.hasPrefix("napi.") {
      let key = String(setting.dropFirst(5))
      guard napiKeys.contains(key) else {
        throw .usage("--vary \(setting): not a per-NAPI key" + Suggestion.hint(for: key, in: napiKeys))
      }
      return .napi(key)
    }
    if ["defer-hard-irqs", "irq-suspend-timeout"].contains(setting) { return .napi(setting) }
    let interfaceKeys = KnobRegistry.standard.flatMap(\.interfaceKeys).filter { !tables.contains($0) && $0 != "napi" }
    if interfaceKeys.contains(setting) { return .interface }
    if let dot = setting.firstIndex(of: "."), tables.contains(String(setting[..<dot])) {
      return .interfaceField(table: String(setting[..<dot]), field: String(setting[setting.index(after: dot)...]))
    }
    if setting.contains("/") { return .sysfs }
    if setting.contains(".") { return .sysctl }
    throw .usage(
      "--vary \(setting): not a variable of \(profile.name), a sysctl, a /sys path or an interface setting"
        + Suggestion.hint(for: setting, in: Array(profile.variableNames) + interfaceKeys + napiKeys))
  }

  /// The value as TOML: an integer or boolean as such, anything else a string ("15us").
  static func toml(_ value: String) -> String {
    if Int64(value) != nil || value == "true" || value == "false" { return value }
    return ConfigText.tomlString(value)
  }
}

/// One candidate of a sweep: a value for each varied setting.
package struct SweepCandidate: Sendable, Equatable {
  /// The values, in the order of the --vary options.
  package var values: [String]
  /// The profile's own values, as written (no --vary value changes it).
  package var isBaseline: Bool

  /// "busy_read=50 defer-hard-irqs=100", or "PROFILE as written".
  package func label(_ varies: [SweepVary]) -> String {
    isBaseline && values.isEmpty
      ? "as written" : zip(varies, values).map { "\(Self.short($0.setting))=\($1)" }.joined(separator: " ")
  }

  static func short(_ setting: String) -> String {
    setting.split(separator: ".").last.map(String.init) ?? setting
  }
}

/// The candidates of a sweep, the profile each stands for, and the order each repeat runs them in.
package struct SweepPlan: Sendable {
  package var profile: Profile
  package var varies: [SweepVary]
  package var candidates: [SweepCandidate]

  /// Every combination of the values (the first --vary varying slowest), and the profile as
  /// written besides when no combination is it; more than ``SweepVary/maxCandidates`` is an
  /// error (exit 2).
  package init(profile: Profile, varies: [SweepVary]) throws(BPSTuneError) {
    guard !varies.isEmpty else { throw .usage("probe sweep: give at least one --vary SETTING=V1,V2,...") }
    var seen: Set<String> = []
    for vary in varies where !seen.insert(vary.setting).inserted {
      throw .usage("--vary \(vary.setting): given twice")
    }
    let count = varies.reduce(1) { $0 * $1.values.count }
    if count > SweepVary.maxCandidates {
      throw .usage(
        "probe sweep: \(varies.map { String($0.values.count) }.joined(separator: " x ")) = \(count) candidates; "
          + "at most \(SweepVary.maxCandidates)")
    }
    var combos: [[String]] = [[]]
    for vary in varies { combos = combos.flatMap { c in vary.values.map { c + [$0] } } }
    let own = varies.map { Self.ownValue(of: $0, in: profile) }
    var candidates = combos.map { values in
      SweepCandidate(
        values: values, isBaseline: zip(values, own).allSatisfy { v, o in o.map { Self.same(v, $0) } ?? false })
    }
    if !candidates.contains(where: \.isBaseline) {
      candidates.insert(SweepCandidate(values: [], isBaseline: true), at: 0)
    }
    self.profile = profile
    self.varies = varies
    self.candidates = candidates
  }

  /// Two values alike by their text alone, integers by value ("15000" and "015000"): what is
  /// known before the candidates are planned (``settle(_:)`` compares them by meaning).
  static func same(_ a: String, _ b: String) -> Bool {
    a == b || (Int64(a) != nil && Int64(a) == Int64(b))
  }

  /// What a candidate asks of this host: its plan (each setting's value as the kernel takes
  /// it) and the application side it is measured with.
  package struct Effect {
    package var plan: Plan
    package var application: ProbeApplication

    package init(plan: Plan, application: ProbeApplication) {
      self.plan = plan
      self.application = application
    }

    /// Whether `other` asks the same: the same settings, each value of the same meaning by the
    /// setting's ``ValueSemantics`` (both ways, for a structure's fields), unsupported alike, and
    /// the same application side.
    func same(as other: Effect) -> Bool {
      guard application == other.application, plan.entries.count == other.plan.entries.count else { return false }
      let theirs = Dictionary(other.plan.entries.map { ($0.id, $0.target) }) { _, later in later }
      return plan.entries.allSatisfy { entry in
        guard let target = theirs[entry.id] else { return false }
        let s = entry.target.semantics
        return s == target.semantics && (entry.target.unsupported == nil) == (target.unsupported == nil)
          && s.equal(entry.target.desired, target.desired) && s.equal(target.desired, entry.target.desired)
      }
    }
  }

  /// Settles the candidates by meaning, once each is planned (`effects`, in the candidates'
  /// order): the text alone misses a value written another way ("15us" and 15000 for a
  /// gro-flush-timeout in ns, "0-1" and "0,1" for CPUs). Two candidates that ask the same of
  /// this host are refused, as a value given twice is; a combination that asks what the
  /// profile as written asks takes its place. Returns the index of the candidate dropped (the
  /// profile as written, added when no combination's text was its own), if any.
  package mutating func settle(_ effects: [Effect]) throws(BPSTuneError) -> Int? {
    precondition(effects.count == candidates.count, "one effect per candidate")
    let combinations = candidates.indices.filter { !candidates[$0].values.isEmpty }
    for (n, i) in combinations.enumerated() {
      for j in combinations.dropFirst(n + 1) where effects[i].same(as: effects[j]) {
        throw duplicate(i, j)
      }
    }
    guard let added = candidates.firstIndex(where: { $0.values.isEmpty }),
      let own = combinations.first(where: { effects[$0].same(as: effects[added]) })
    else { return nil }
    candidates[own].isBaseline = true
    candidates.remove(at: added)
    return added
  }

  /// Two combinations that ask the same of this host, in one line: the --vary whose values
  /// tell them apart, or both candidates when more than one does.
  func duplicate(_ i: Int, _ j: Int) -> BPSTuneError {
    let (a, b) = (candidates[i].values, candidates[j].values)
    let apart = varies.indices.filter { a[$0] != b[$0] }
    if apart.count == 1, let k = apart.first {
      return .usage("--vary \(varies[k].setting): \(a[k]) and \(b[k]) are the same value on this host; give it once")
    }
    return .usage(
      "probe sweep: candidates \(candidates[i].label(varies)) and \(candidates[j].label(varies)) ask the same of this "
        + "host; vary what tells them apart")
  }

  /// The value the profile gives a varied setting (after its variables), if it sets it. An
  /// interface setting's is the swept interface's (``sweptInterface(of:)``): from the last of
  /// the blocks naming it (by name or glob) that sets it, as the planner lets a later block win;
  /// a block for another interface does not count.
  static func ownValue(of vary: SweepVary, in profile: Profile) -> String? {
    func text(_ value: ProfileValue?) -> String? {
      switch value {
      case .integer(let v)?: String(v)
      case .bool(let v)?: String(v)
      case .string(let v)?: v
      case .float(let v)?: String(v)
      default: nil
      }
    }
    let name = sweptInterface(of: profile)
    let blocks = profile.interfaces.filter { spec in
      name.map { spec.name == $0 || (spec.isGlob && Syscalls.globMatches(spec.name, $0)) } ?? false
    }
    /// The value of `key` in the last block that sets it.
    func value(_ key: String) -> ProfileValue? {
      blocks.last { $0.settings.contains { $0.key == key } }?.settings.first { $0.key == key }?.value
    }
    switch vary.place {
    case .variable: return profile.variables[vary.setting]
    case .sysctl: return text(profile.sections["sysctl"]?.first { $0.key == vary.setting }?.value)
    case .sysfs: return text(profile.sections["sysfs"]?.first { $0.key == vary.setting }?.value)
    case .interface: return text(value(vary.setting))
    case .napi(let key):
      // [interface.napi] is the interface key "napi", a table of the per-NAPI values; each
      // value is planned on its own, so the last block with this one gives it.
      for block in blocks.reversed() {
        if case .table(let t)? = block.settings.first(where: { $0.key == "napi" })?.value, let v = t[key] {
          return text(v)
        }
      }
      return nil
    case .interfaceField(let table, let field):
      // A table is planned whole: the last block that sets it gives every field.
      guard case .table(let t)? = value(table) else { return nil }
      return text(t[field])
    }
  }

  /// The interface a sweep's interface settings apply to: ${iface} as loaded (`-i`), or the
  /// name of the profile's only block; nil when neither says.
  static func sweptInterface(of profile: Profile) -> String? {
    if profile.variableNames.contains("iface") { return profile.variables["iface"] }
    return profile.interfaces.count == 1 ? profile.interfaces[0].name : nil
  }

  /// The candidate's profile text: it includes the profile (by its absolute path) and sets the
  /// candidate's values; variables go on as `--set` (``overrides(_:)``).
  package func text(_ candidate: SweepCandidate, interfaceName: String) -> String {
    var sections: [String: [String]] = [:]
    var block: [String] = []
    var tables: [String: [String]] = [:]
    var napi: [String] = []
    for (vary, value) in zip(varies, candidate.values) {
      let v = SweepVary.toml(value)
      switch vary.place {
      case .variable: continue
      case .sysctl, .sysfs:
        sections[vary.place == .sysctl ? "sysctl" : "sysfs", default: []].append(
          "\(ConfigText.tomlString(vary.setting)) = \(v)")
      case .interface: block.append("\(vary.setting) = \(v)")
      // The field as one key, whatever the command line gave (the loader then names an unknown one).
      case .interfaceField(let table, let field):
        tables[table, default: []].append("\(ConfigText.tomlKey(field)) = \(v)")
      case .napi(let key): napi.append("\(key) = \(v)")
      }
    }
    var lines = [
      "[profile]",
      "description = \(ConfigText.tomlString("\(ProbeCompare.title(profile.name)) with \(candidate.label(varies))"))",
      "include = [\(ConfigText.tomlString(profile.path))]",
    ]
    for section in sections.keys.sorted() { lines += ["", "[\(section)]"] + sections[section]! }
    if !block.isEmpty || !tables.isEmpty || !napi.isEmpty {
      lines += ["", "[[interface]]", "name = \(ConfigText.tomlString(interfaceName))"] + block
      for table in tables.keys.sorted() { lines.append("\(table) = { \(tables[table]!.joined(separator: ", ")) }") }
      if !napi.isEmpty { lines += ["", "[interface.napi]"] + napi }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The candidate's variables, over the command line's --set.
  package func overrides(_ candidate: SweepCandidate, base: [String: String]) -> [String: String] {
    var out = base
    for (vary, value) in zip(varies, candidate.values) where vary.place == .variable { out[vary.setting] = value }
    return out
  }

  /// The name of the profile's interface block a candidate's settings merge with: `${iface}`
  /// where the profile has one, else its only block's name.
  package static func interfaceName(of profile: Profile, raw: [String]) throws(BPSTuneError) -> String {
    if profile.variableNames.contains("iface") { return "${iface}" }
    guard raw.count == 1 else {
      throw .usage(
        "probe sweep: \(profile.name) has \(raw.count) interface blocks and no ${iface}: an interface setting "
          + "cannot say which it varies")
    }
    return raw[0]
  }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a small generator whose sequence a seed fixes, so
/// that `--seed N` replays a sweep's order on any machine.
package struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64
  package init(seed: UInt64) { state = seed }
  package mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A Fisher-Yates shuffle of 0..<count with this generator (the standard library's shuffle
  /// may change its algorithm between releases; a replayed seed must not).
  package mutating func order(_ count: Int) -> [Int] {
    var items = Array(0..<count)
    guard count > 1 else { return items }
    for i in stride(from: count - 1, to: 0, by: -1) {
      let j = Int(next() % UInt64(i + 1))
      items.swapAt(i, j)
    }
    return items
  }
}
