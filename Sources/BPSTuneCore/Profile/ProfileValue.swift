import TOMLKit

/// A value as written in a profile, independent of the TOML library.
package indirect enum ProfileValue: Equatable, Sendable, CustomStringConvertible {
  case integer(Int64)
  case bool(Bool)
  case string(String)
  case float(Double)
  case array([ProfileValue])
  case table([String: ProfileValue])

  /// The TOML type name used in error messages.
  package var typeName: String {
    switch self {
    case .integer: "an integer"
    case .bool: "a boolean"
    case .string: "a string"
    case .float: "a float"
    case .array: "an array"
    case .table: "a table"
    }
  }

  package var description: String {
    switch self {
    case .integer(let v): String(v)
    case .bool(let v): String(v)
    case .string(let v): "\"\(v)\""
    case .float(let v): String(v)
    case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
    case .table(let t): "{ " + t.keys.sorted().map { "\($0) = \(t[$0]!)" }.joined(separator: ", ") + " }"
    }
  }

  /// The value as inline TOML, which loads back to the same value: strings as basic strings,
  /// tables inline with their keys in order, each one key (``ConfigText``).
  package var inlineTOML: String {
    switch self {
    case .integer(let v): String(v)
    case .bool(let v): v ? "true" : "false"
    case .float(let v): String(v)
    case .string(let v): ConfigText.tomlString(v)
    case .array(let items): "[" + items.map(\.inlineTOML).joined(separator: ", ") + "]"
    case .table(let t):
      "{ " + t.keys.sorted().map { "\(ConfigText.tomlKey($0)) = \(t[$0]!.inlineTOML)" }.joined(separator: ", ") + " }"
    }
  }

  /// The first C0 control character or DEL in `text`, written as U+XXXX.
  static func firstControl(in text: String, allowingTab: Bool) -> String? {
    text.unicodeScalars.first { ($0.value < 0x20 && !(allowingTab && $0 == "\t")) || $0.value == 0x7f }
      .map {
        "U+" + String(repeating: "0", count: max(0, 4 - String($0.value, radix: 16).count))
          + String($0.value, radix: 16, uppercase: true)
      }
  }

  /// A TOML key holding a control character is refused, named by its path.
  static func checkKey(_ key: String, path: String, file: String) throws(BPSTuneError) {
    if let c = firstControl(in: key, allowingTab: false) {
      throw .profile(file: file, key: path, message: "the key holds the control character \(c)")
    }
  }

  /// Converts a parsed TOML value; dates and times have no meaning in a profile.
  package static func from(_ value: TOMLValueConvertible, key: String, file: String) throws(BPSTuneError)
    -> ProfileValue
  {
    switch value.type {
    case .bool: return .bool(value.bool ?? false)
    case .int: return .integer(Int64(value.int ?? 0))
    case .double: return .float(value.double ?? 0)
    case .string:
      let text = value.string ?? ""
      if let c = firstControl(in: text, allowingTab: true) {
        throw .profile(
          file: file, key: key, message: "the string holds the control character \(c); no setting takes one")
      }
      return .string(text)
    case .array:
      var items: [ProfileValue] = []
      for (index, item) in (value.array ?? TOMLArray()).enumerated() {
        items.append(try from(item, key: "\(key)[\(index)]", file: file))
      }
      return .array(items)
    case .table:
      var table: [String: ProfileValue] = [:]
      for (k, v) in value.table ?? TOMLTable() {
        let path = key.isEmpty ? k : "\(key).\(k)"
        try checkKey(k, path: path, file: file)
        table[k] = try from(v, key: path, file: file)
      }
      return .table(table)
    default:
      throw .profile(file: file, key: key, message: "dates and times are not setting values")
    }
  }
}
