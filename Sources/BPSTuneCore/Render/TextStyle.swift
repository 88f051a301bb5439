import BPSTuneKernel
import FoundationEssentials

/// ANSI colour for terminals; plain text otherwise.
package struct TextStyle: Sendable {
  package var color: Bool

  package init(color: Bool) { self.color = color }

  /// Colour when standard output is a terminal, NO_COLOR is unset and --no-color not given.
  package static func forStandardOutput(noColor: Bool) -> TextStyle {
    TextStyle(color: !noColor && Syscalls.environment("NO_COLOR") == nil && Syscalls.standardOutputIsTerminal)
  }

  func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
  package func change(_ t: String) -> String { paint(t, "33") }
  package func ok(_ t: String) -> String { paint(t, "32") }
  package func bad(_ t: String) -> String { paint(t, "31") }
  package func dim(_ t: String) -> String { paint(t, "2") }
  package func bold(_ t: String) -> String { paint(t, "1") }

  /// Pads to a width measured in characters (colour codes excluded by padding first).
  static func pad(_ s: String, _ width: Int) -> String {
    let n = characters(s)
    return n >= width ? s : s + String(repeating: " ", count: width - n)
  }

  /// The number of characters: the byte count for ASCII, which setting names are (counting
  /// Characters walks grapheme breaks, a report's dearest step per row).
  static func characters(_ s: String) -> Int {
    s.utf8.allSatisfy { $0 < 0x80 } ? s.utf8.count : s.count
  }
}

/// JSON encoding shared by every report: sorted keys, pretty printed; each document carries its
/// `schema` number and `command` (contrib/schema/bpstune-output.schema.json).
package enum ReportJSON {
  package static func encode<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}" }
    return Printable.jsonSafe(String(decoding: data, as: UTF8.self))
  }
}

/// Settings listed as users think of them: "system", then "interface IF", each row starting
/// with the setting's name padded to its group's width.
enum Grouping {
  static func lines<T>(
    _ items: [T], id: (T) -> SettingID, style: TextStyle, row: (_ item: T, _ paddedName: String) -> String
  ) -> [String] {
    var order: [String] = []
    var groups: [String: [T]] = [:]
    for item in items {
      let title = id(item).interface.map { "interface \(Printable.escaped($0))" } ?? "system"
      if groups[title] == nil { order.append(title) }
      groups[title, default: []].append(item)
    }
    var lines: [String] = []
    for title in order {
      let members = groups[title]!
      let names = members.map { id($0).localName }
      let width = max(24, names.map(TextStyle.characters).max() ?? 0) + 2
      lines.append(style.bold(title))
      for (member, name) in zip(members, names) { lines.append("  " + row(member, TextStyle.pad(name, width))) }
    }
    return lines
  }
}
