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

  /// The first control character of `text` (C0, DEL or C1) as "U+001B", or nil: what input
  /// checks name when they refuse a name or path.
  public static func controlCharacter(in text: String) -> String? {
    if isPlain(text) { return nil }
    return text.unicodeScalars.first { isControl($0) }.map { "U+" + hex($0.value, width: 4) }
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
