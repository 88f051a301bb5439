import BPSTuneKernel

/// How two textual values of a setting are compared: by meaning, not by text.
/// "0-3" equals "0,1,2,3", the mask "f" equals the list "0-3", " 50\n" equals "50".
package enum ValueSemantics: String, Codable, Sendable, CaseIterable {
  /// A decimal integer ("50", "-1").
  case integer
  /// Text compared with runs of white space folded ("4096\t87380" equals "4096 87380").
  case text
  /// A hex CPU bitmap as rps_cpus prints it; shown to users as a CPU list.
  case cpuMask = "cpu-mask"
  /// A CPU list as *_list files print it.
  case cpuList = "cpu-list"
  /// A ``FieldMap`` ("rx=1 tx=1"): a value satisfies another when every field of the other
  /// has the same meaning in it, so a device's whole structure satisfies the fields a profile names.
  case fields
  /// A kernel command-line parameter as /proc/cmdline has it: "" when absent, "nosmt" for a
  /// bare flag, "isolcpus=2-3" with a value. CPU lists compare by meaning ("2,3" is "2-3"),
  /// also after flags ("isolcpus=domain,2-3").
  case bootParameter = "boot-parameter"

  /// Whether the kernel's value `a` and the value `b` mean the same thing. For ``fields`` the
  /// comparison is one way: every field of `b` must be in `a` with the same meaning.
  package func equal(_ a: String, _ b: String) -> Bool {
    switch self {
    case .fields:
      if let x = FieldMap(parsing: a), let y = FieldMap(parsing: b) { return x.satisfies(y) }
      return ValueSemantics.text.equal(a, b)
    case .integer:
      if let x = Int64(a.trimmingWhitespace), let y = Int64(b.trimmingWhitespace) { return x == y }
      return ValueSemantics.text.equal(a, b)
    case .text:
      return a.foldingWhitespace == b.foldingWhitespace
    case .cpuMask:
      if let x = try? CPUSet(mask: a), let y = try? CPUSet(mask: b) { return x == y }
      return ValueSemantics.text.equal(a, b)
    case .cpuList:
      if let x = try? CPUSet(list: a), let y = try? CPUSet(list: b) { return x == y }
      return ValueSemantics.text.equal(a, b)
    case .bootParameter:
      return BootParameter(a) == BootParameter(b)
    }
  }

  /// The value as users read it: CPU masks as lists, white space folded, "" as "(none)".
  /// A value as users read it, escaped (``Printable``): a kernel file or a snapshot may hold
  /// control characters.
  package func display(_ raw: String) -> String {
    Printable.escaped(shown(raw))
  }

  private func shown(_ raw: String) -> String {
    switch self {
    case .integer, .text, .fields:
      let folded = raw.foldingWhitespace
      return folded.isEmpty ? "\"\"" : folded
    case .cpuMask:
      if let set = try? CPUSet(mask: raw) { return set.description }
      return raw.foldingWhitespace
    case .cpuList:
      if let set = try? CPUSet(list: raw) { return set.description }
      return raw.foldingWhitespace
    case .bootParameter:
      return raw.isEmpty ? "absent" : raw
    }
  }
}

/// One kernel command-line parameter, compared by meaning: names with "-" and "_" alike (the
/// kernel's parameq), and a trailing CPU list by the CPUs it names.
struct BootParameter: Equatable {
  var name: String
  /// nil for a bare flag ("nosmt").
  var value: String?
  /// The value's CPU list when it ends in one ("domain,managed_irq,2-3" -> flags and 2-3).
  var flags: [String] = []
  var cpus: CPUSet?

  /// nil for "" (absent).
  init?(_ text: String) {
    guard !text.isEmpty else { return nil }
    guard let eq = text.firstIndex(of: "=") else {
      name = BootParameter.canonical(text)
      return
    }
    name = BootParameter.canonical(String(text[..<eq]))
    let v = String(text[text.index(after: eq)...])
    value = v
    var parts = v.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    var list: [String] = []
    while let last = parts.last, let first = last.first, first.isASCII && first.isNumber {
      list.insert(last, at: 0)
      parts.removeLast()
    }
    if !list.isEmpty, let set = try? CPUSet(list: list.joined(separator: ",")) {
      cpus = set
      flags = parts.sorted()
    }
  }

  static func canonical(_ name: String) -> String { name.replacing("-", with: "_") }

  static func == (a: BootParameter, b: BootParameter) -> Bool {
    guard a.name == b.name else { return false }
    if let x = a.cpus, let y = b.cpus { return x == y && a.flags == b.flags }
    return a.value == b.value
  }
}

/// What was worked out for a pair of values under one semantics (are they equal, how does the
/// change read), kept for a plan or a report: an interface's queues mostly hold the same value
/// and want the same one, so each distinct pair is worked out (CPU masks parsed) once.
struct ValuePairCache<Result> {
  private var results: [ValueSemantics: [String: Result]] = [:]

  mutating func result(
    _ semantics: ValueSemantics, _ current: String, _ wanted: String, _ make: () -> Result
  ) -> Result {
    let key = current + "\u{0}" + wanted
    if let known = results[semantics]?[key] { return known }
    let result = make()
    results[semantics, default: [:]][key] = result
    return result
  }
}

extension ValueSemantics {
  /// `raw` shown beside `reference`: for ``fields``, only the fields `reference` names
  /// (a device's current channels beside the ones a profile asks for).
  package func display(_ raw: String, as reference: String) -> String {
    guard self == .fields, let map = FieldMap(parsing: raw), let names = FieldMap(parsing: reference)?.names else {
      return display(raw)
    }
    return display(map.restricted(to: names).description)
  }

  /// A change as users read it: "0 -> 50", and for ``fields`` just the fields that differ,
  /// grouped by their old and new values ("rx-gro, tx-checksum-sctp: on -> off; rx: 1 -> 2").
  package func change(from current: String, to wanted: String) -> String {
    let plain = "\(display(current, as: wanted)) -> \(display(wanted))"
    guard self == .fields, let a = FieldMap(parsing: current), let b = FieldMap(parsing: wanted) else { return plain }
    var groups: [(old: String, new: String, names: [String])] = []
    for field in b.fields {
      let old = a[field.name] ?? "(none)"
      if let x = a[field.name], FieldMap.same(x, field.value) { continue }
      if let i = groups.firstIndex(where: { $0.old == old && $0.new == field.value }) {
        groups[i].names.append(field.name)
      } else {
        groups.append((old, field.value, [field.name]))
      }
    }
    if groups.isEmpty { return plain }
    return groups.map { "\($0.names.joined(separator: ", ")): \($0.old) -> \($0.new)" }.joined(separator: "; ")
  }

  /// What a snapshot entry records once the kernel has taken a value: for ``fields``, just the
  /// fields the write changed, including those the kernel changed along with it (dependent
  /// features), so a rollback puts back exactly those. Other values are recorded as they are.
  package func recorded(before: String, after: String, result: String) -> (before: String, after: String) {
    guard self == .fields, let old = FieldMap(parsing: before), let new = FieldMap(parsing: result),
      let wanted = FieldMap(parsing: after)
    else { return (before, after) }
    let names = FieldMap.changed(from: old, to: new).filter { old[$0] != nil && new[$0] != nil }
    let keep = names + wanted.names.filter { !names.contains($0) }
    return (old.restricted(to: keep).description, new.restricted(to: keep).description)
  }
}

extension String {
  /// Leading and trailing white space removed, inner runs folded to one space.
  var foldingWhitespace: String {
    split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
  }
}
