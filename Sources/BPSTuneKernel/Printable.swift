/// Text from outside bpstune (a name the kernel reports, a path typed on the command line, a
/// value read from a file) made safe to print, and the check that refuses it on input.
///
/// An interface name may hold any byte but "/", ":", white space and NUL (the kernel's
/// dev_valid_name), so ESC and the C1 controls are possible: printed raw, they would move the
/// cursor, recolour or retitle the admin's terminal, or forge a line of bpstune's output.
package enum Printable {
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
  package static func escaped(_ text: String) -> String {
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
  package static func terminalSafe(_ text: String, colour: Bool) -> String {
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
  package static func controlCharacter(in text: String) -> String? {
    if isPlain(text) { return nil }
    return text.unicodeScalars.first { needsEscape($0) }.map { "U+" + hex($0.value, width: 4) }
  }

  /// JSON as JSONEncoder wrote it, with DEL, the C1 controls and U+2028/2029 (which it leaves
  /// raw) written as `\u` escapes: still the same JSON, and plain enough that the terminal
  /// filter (``terminalSafe(_:colour:)``) has nothing to rewrite into invalid escapes. Such
  /// characters can only stand inside JSON strings, so escaping them anywhere is safe.
  package static func jsonSafe(_ json: String) -> String {
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

  package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
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
