/// Named values of one device structure, as bpstune records an ethtool setting:
/// `"rx=1 tx=1"`, `"rx-usecs=100 adaptive-rx=off"`, `"rx-gro=off rx-lro=off"`.
/// A whole structure is one setting, written with one ioctl, so that a change of channels or
/// rings re-creates the device's queues once and a feature change carries its dependents.
package struct FieldMap: Equatable, Sendable, CustomStringConvertible {
  package struct Field: Equatable, Sendable {
    package var name: String
    package var value: String
  }

  package private(set) var fields: [Field]

  package init(_ fields: [(String, String)] = []) {
    self.fields = []
    for (name, value) in fields { self[name] = value }
  }

  /// Parses `name=value` pairs separated by white space; nil for anything else (a name given
  /// twice too). A device's features are some seventy pairs, so names are checked against a set,
  /// not by walking the fields for each.
  package init?(parsing text: String) {
    fields = []
    var names = Set<Substring>()
    for word in text.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }) {
      guard let eq = word.firstIndex(of: UInt8(ascii: "=")), eq != word.startIndex,
        word.index(after: eq) != word.endIndex
      else { return nil }
      let name = Substring(word[..<eq])
      guard names.insert(name).inserted else { return nil }
      fields.append(Field(name: String(name), value: String(Substring(word[word.index(after: eq)...]))))
    }
  }

  package var names: [String] { fields.map(\.name) }
  package var isEmpty: Bool { fields.isEmpty }

  package subscript(name: String) -> String? {
    get { fields.first { $0.name == name }?.value }
    set {
      if let i = fields.firstIndex(where: { $0.name == name }) {
        if let newValue { fields[i].value = newValue } else { fields.remove(at: i) }
      } else if let newValue {
        fields.append(Field(name: name, value: newValue))
      }
    }
  }

  package var description: String { fields.map { "\($0.name)=\($0.value)" }.joined(separator: " ") }

  /// The fields named in `names`, in this map's order.
  package func restricted(to names: [String]) -> FieldMap {
    var out = FieldMap()
    out.fields = fields.filter { names.contains($0.name) }
    return out
  }

  /// Whether every field of `wanted` has the same meaning here.
  package func satisfies(_ wanted: FieldMap) -> Bool {
    wanted.fields.allSatisfy { field in self[field.name].map { Self.same($0, field.value) } ?? false }
  }

  /// Field values compare as numbers, as on/off flags, or as text.
  static func same(_ a: String, _ b: String) -> Bool {
    if let x = Int64(a), let y = Int64(b) { return x == y }
    if let x = flag(a), let y = flag(b) { return x == y }
    return a == b
  }

  /// "on"/"off" (and 1/0, true/false) as a flag.
  package static func flag(_ text: String) -> Bool? {
    switch text {
    case "on", "1", "true": true
    case "off", "0", "false": false
    default: nil
    }
  }

  /// The names whose values differ between two maps (a field missing on one side differs).
  package static func changed(from a: FieldMap, to b: FieldMap) -> [String] {
    var names: [String] = []
    for name in a.names + b.names where !names.contains(name) {
      guard let x = a[name], let y = b[name], same(x, y) else {
        names.append(name)
        continue
      }
    }
    return names
  }
}
