/// Text from outside bpstune (a name the kernel reports, a path typed on the command line, a
/// value read from a file) made safe to print, and the check that refuses it on input.
///
/// An interface name may hold any byte but "/", ":", white space and NUL (the kernel's
/// dev_valid_name), so ESC and the C1 controls are possible: printed raw, they would move the
/// cursor, recolour or retitle the admin's terminal, or forge a line of bpstune's output.
public enum Printable {
  /// Whether `text` is plain printable ASCII, which is almost every name and value: the fast
  /// path, one pass over the bytes.
  @inline(__always)
  static func isPlain(_ text: String) -> Bool {
    text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
  }

  /// `text` with every control character written as an escape: C0 controls and DEL as `\xNN`
  /// (newline, carriage return and tab as `\n`, `\r`, `\t`), the C1 controls and the Unicode
  /// line and paragraph separators as `\u{NN}`. The result is one line, and prints as the
  /// text it stands for.
  public static func escaped(_ text: String) -> String {
    if isPlain(text) { return text }
    guard text.unicodeScalars.contains(where: needsEscape) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += "\\x" + hex(scalar.value, width: 2)
      case _ where needsEscape(scalar): out += "\\u{" + hex(scalar.value, width: 2) + "}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// A report for standard output: as ``escaped(_:)``, but keeping its line breaks and tabs,
  /// and, when `colour`, the colour codes ``TextStyle`` makes (ESC [ 0, 1, 2, 31, 32 or 33 m),
  /// which can only colour text. Any other escape sequence (moving the cursor, clearing the
  /// screen, setting the window title) prints as text.
  public static func terminalSafe(_ text: String, colour: Bool) -> String {
    if text.utf8.allSatisfy({ ($0 >= 0x20 && $0 < 0x7f) || $0 == 0x0a || $0 == 0x09 }) { return text }
    let scalars = Array(text.unicodeScalars)
    var out = ""
    var i = 0
    while i < scalars.count {
      let scalar = scalars[i]
      if scalar == "\n" || scalar == "\t" {
        out.unicodeScalars.append(scalar)
      } else if scalar == "\u{1B}", colour, let length = colourCode(scalars, at: i) {
        out.unicodeScalars.append(contentsOf: scalars[i..<i + length])
        i += length
        continue
      } else if needsEscape(scalar) {
        out += escaped(String(scalar))
      } else {
        out.unicodeScalars.append(scalar)
      }
      i += 1
    }
    return out
  }

  /// The length of one of TextStyle's colour codes at `i` (ESC [ N m), or nil.
  private static func colourCode(_ s: [Unicode.Scalar], at i: Int) -> Int? {
    for code in ["0", "1", "2", "31", "32", "33"] {
      let sequence = Array("\u{1B}[\(code)m".unicodeScalars)
      if i + sequence.count <= s.count && Array(s[i..<i + sequence.count]) == sequence { return sequence.count }
    }
    return nil
  }

  /// The first control character of `text` (C0, DEL or C1, or the Unicode line and paragraph
  /// separators, which end a line as well) as "U+001B", or nil: what input checks name when
  /// they refuse a name or path.
  public static func controlCharacter(in text: String) -> String? {
    if isPlain(text) { return nil }
    return text.unicodeScalars.first { needsEscape($0) }.map { "U+" + hex($0.value, width: 4) }
  }

  /// One item of a list in a message: the setting it is about, when it is about one, and what
  /// is said of it. A long list groups its items by the setting's interface (by its kind for a
  /// system setting) and key; see ``summary(_:limit:separator:more:)``.
  public struct Item: Sendable, Equatable {
    /// The setting, or nil for an item that is not one (a snapshot id).
    public var setting: SettingID?
    /// What follows the setting's name, with its leading punctuation (" is 0, bpstune set 50",
    /// ": no such sysctl"); the whole item when there is no setting.
    public var detail: String
    /// What the item belongs to beyond the host, before its name ("napi-busy-poll", the
    /// profile a compare planned it for).
    public var scope: String?

    public init(_ setting: SettingID, _ detail: String = "", scope: String? = nil) {
      self.setting = setting
      self.detail = detail
      self.scope = scope
    }

    public init(_ text: String) {
      setting = nil
      detail = text
    }

    /// The item as a full list gives it: "va rx-0 rps-cpus is 0, bpstune set 3".
    public var text: String { (scope.map { $0 + ": " } ?? "") + (setting?.description ?? "") + detail }
  }

  /// What every message says of a list: the whole list when it has at most `limit` + 1 items
  /// ("and 1 more" would save nothing); otherwise a summary, with `more` after it when it leaves
  /// anything out. Items without a setting give the first `limit` and "and N more". Settings
  /// are grouped by interface (by kind for system settings), and within a group by key, each
  /// key that several queues share counted with its first queues named, its detail given once
  /// when every queue has the same: "va: 64 rps-cpus (rx-0, rx-1, rx-2 and 61 more) is 0,
  /// bpstune set 3; gro-flush-timeout is 0, bpstune set 15000; sysctl: net.core.busy_read is
  /// 0, bpstune set 50". At most `limit` such parts are given, then "and N more in" the groups
  /// left out.
  public static func summary(_ items: [Item], limit: Int, separator: String = "; ", more: String = "") -> String {
    guard items.count > limit + 1 else { return items.map(\.text).joined(separator: separator) }
    let and = separator == "; " ? "; and" : " and"
    guard items.contains(where: { $0.setting != nil }) else {
      return items.prefix(limit).map(\.text).joined(separator: separator) + "\(and) \(items.count - limit) more" + more
    }
    // Groups in order of first appearance: an interface (or a kind), and in it a key's items.
    var groups: [(label: String, keys: [[Item]])] = []
    var groupIndex: [String: Int] = [:]
    var keyIndex: [String: (Int, Int)] = [:]
    for item in items {
      guard let s = item.setting else {
        groups.append((label: "", keys: [[item]]))
        continue
      }
      let scope = item.scope.map { escaped($0) + ": " } ?? ""
      let label = scope + (s.interface.map(escaped) ?? s.kind)
      let group = (item.scope ?? "") + "\u{0}" + (s.interface.map { "i" + $0 } ?? "k" + s.kind)
      let key = group + "\u{0}" + s.kind + "\u{0}" + s.key
      if let (g, k) = keyIndex[key] {
        groups[g].keys[k].append(item)
      } else if let g = groupIndex[group] {
        groups[g].keys.append([item])
        keyIndex[key] = (g, groups[g].keys.count - 1)
      } else {
        groups.append((label: label, keys: [[item]]))
        groupIndex[group] = groups.count - 1
        keyIndex[key] = (groups.count - 1, 0)
      }
    }
    // One part per key: a single setting by its name, a key of several queues counted. In a
    // group, keys and queues in the settings' order (rx-2 before rx-10), whatever the list's.
    var parts: [(label: String, text: String, count: Int)] = []
    var elided = false
    for group in groups {
      func precedes(_ a: Item, _ b: Item) -> Bool {
        guard let x = a.setting, let y = b.setting else { return false }
        return x < y
      }
      let keys = group.keys.map { $0.sorted(by: precedes) }.sorted { precedes($0[0], $1[0]) }
      for members in keys {
        guard let s = members[0].setting, members.count > 1 else {
          let item = members[0]
          parts.append((group.label, item.setting.map { $0.localName + item.detail } ?? item.text, 1))
          continue
        }
        let names = members.map { $0.setting?.queue.map(escaped) ?? $0.setting?.localName ?? "" }
        let details = members.map(\.detail)
        let queues: String
        if Set(details).count == 1 {
          queues = "(" + summary(names.map { Item($0) }, limit: 3, separator: ", ") + ")" + details[0]
        } else {
          queues = "(" + summary(zip(names, details).map { Item($0 + $1) }, limit: 3) + ")"
        }
        elided = elided || members.count > 4
        parts.append((group.label, "\(members.count) \(escaped(s.key)) " + queues, members.count))
      }
    }
    let shown = parts.count > limit + 1 ? limit : parts.count
    var text = ""
    var previous: String?
    for (n, part) in parts.prefix(shown).enumerated() {
      if n > 0 { text += separator }
      if !part.label.isEmpty && part.label != previous { text += part.label + ": " }
      text += part.text
      previous = part.label
    }
    if shown < parts.count {
      let rest = parts[shown...]
      var labels: [String] = []
      for part in rest where !part.label.isEmpty && !labels.contains(part.label) { labels.append(part.label) }
      text += "\(and) \(rest.map(\.count).reduce(0, +)) more"
      if !labels.isEmpty { text += " in " + summary(labels.map { Item($0) }, limit: 3, separator: ", ") }
      elided = true
    }
    return elided ? text + more : text
  }

  /// JSON as JSONEncoder wrote it, with DEL, the C1 controls and U+2028/2029 (which it leaves
  /// raw) written as `\u` escapes: still the same JSON, and plain enough that the terminal
  /// filter (``terminalSafe(_:colour:)``) has nothing to rewrite into invalid escapes. Such
  /// characters can only stand inside JSON strings, so escaping them anywhere is safe.
  public static func jsonSafe(_ json: String) -> String {
    guard !json.utf8.allSatisfy({ $0 < 0x7f }) else { return json }
    var out = ""
    for scalar in json.unicodeScalars {
      if scalar.value >= 0x7f && needsEscape(scalar) {
        out += "\\u" + hex(scalar.value, width: 4)
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (scalar.value >= 0x7f && scalar.value < 0xa0)
  }

  private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    isControl(scalar) || scalar.value == 0x2028 || scalar.value == 0x2029
  }

  private static func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }
}
