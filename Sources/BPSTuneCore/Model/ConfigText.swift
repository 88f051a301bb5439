import BPSTuneKernel

/// The one writer of text into the files other programs parse at every boot: enable's record
/// (/etc/bpstune/enabled.toml, TOML) and the udev rule (/etc/udev/rules.d/80-bpstune.rules).
/// Whatever a value holds, it cannot end a line, a string or a comment early: a profile path
/// with a newline in it must not become a rule line of its own.
package enum ConfigText {
  /// A TOML basic string: `"` and `\` escaped, and every control character (C0, DEL and C1)
  /// as \uXXXX (tab as \t), so that the string and its line end where the writer meant.
  package static func tomlString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\t": out += "\\t"
      case _ where Printable.isControl(scalar):
        let digits = String(scalar.value, radix: 16, uppercase: true)
        out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// A TOML key: bare where it is one ([A-Za-z0-9_-]+: every key bpstune knows), else quoted
  /// as a basic string, so that whatever a key holds stays one key.
  package static func tomlKey(_ name: String) -> String {
    isBareKey(name) ? name : tomlString(name)
  }

  /// A TOML bare key, [A-Za-z0-9_-]+: what a variable's name must be, and a key written bare.
  package static func isBareKey(_ name: String) -> Bool {
    !name.isEmpty
      && name.utf8.allSatisfy { byte in
        let lower = byte | 0x20
        return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
          || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
          || byte == UInt8(ascii: "_")
      }
  }

  /// A comment line, its text escaped: every `\` doubled, then the control characters as
  /// ``Printable`` writes them. It cannot end early, and each escape in it means one thing: `\n`
  /// is a line feed the text held, `\\n` a backslash and an n (a host name may hold either).
  package static func comment(_ text: String) -> String {
    "# " + Printable.escaped(text.replacing("\\", with: "\\\\"))
  }

  /// A udev match value (KERNEL=="..."), quoted. udev matches with fnmatch(3) and `|`
  /// separating alternatives, and has no escapes: a `"`, `\`, `|` or control character of an
  /// interface name matches as `?`, any one character. The rule may then start the interface
  /// unit for a name that is not the profile's; the unit checks the name against the profile
  /// and does nothing for it.
  package static func udevPattern(_ name: String) -> String {
    var out = "\""
    for scalar in name.unicodeScalars {
      if scalar == "\"" || scalar == "\\" || scalar == "|" || Printable.isControl(scalar) || scalar == " " {
        out += "?"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// XML character data or an attribute value (JUnit reports, the probe's SVG charts): `&`,
  /// `<`, `>` and both quotes as entities, a control character but tab as a character reference.
  package static func xml(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default:
        if c.value < 0x20 && c != "\t" { out += "&#\(c.value);" } else { out.unicodeScalars.append(c) }
      }
    }
    return out
  }
}
