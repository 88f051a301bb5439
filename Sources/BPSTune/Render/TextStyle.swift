import Foundation

/// ANSI colour for terminals; plain text otherwise.
public struct TextStyle: Sendable {
  public var color: Bool

  public init(color: Bool) { self.color = color }

  /// Colour when standard output is a terminal, NO_COLOR is unset and --no-color not given.
  public static func forStandardOutput(noColor: Bool) -> TextStyle {
    TextStyle(color: !noColor && Syscalls.environment("NO_COLOR") == nil && Syscalls.standardOutputIsTerminal)
  }

  func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
  public func change(_ t: String) -> String { paint(t, "33") }
  public func ok(_ t: String) -> String { paint(t, "32") }
  public func bad(_ t: String) -> String { paint(t, "31") }
  public func dim(_ t: String) -> String { paint(t, "2") }
  public func bold(_ t: String) -> String { paint(t, "1") }

  /// Pads to a width measured in characters (colour codes excluded by padding first).
  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
  }
}

/// JSON encoding shared by every report: sorted keys, pretty printed, "schema": 1 inside.
enum ReportJSON {
  static func encode<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
  }
}

/// Lines grouped as users think of them: system-wide settings, then each interface.
enum Grouping {
  static func groups<T>(_ items: [T], id: (T) -> SettingID) -> [(title: String, items: [T])] {
    var order: [String] = []
    var map: [String: [T]] = [:]
    for item in items {
      let title = id(item).interface.map { "interface \($0)" } ?? "system"
      if map[title] == nil { order.append(title) }
      map[title, default: []].append(item)
    }
    return order.map { ($0, map[$0]!) }
  }
}
