/// A check run on profile text before TOMLKit parses it.
///
/// TOMLKit 0.6.0 bundles toml++ 3.4.0. Its parser does not return an error for a table header
/// whose name starts with a character no key can start with (`[)`, `[&`, `[[=`). It asserts
/// instead, and without assertions that is undefined behaviour. bpstune's fuzzer found this;
/// upstream it is marzer/tomlplusplus#294, fixed by #301, which is not in 3.4.0. This check
/// finds table headers as the parser does: at the start of a statement, outside strings,
/// comments and values. It refuses those headers first, with the error the fix gives.
enum TOMLHeaderCheck {
  /// Where the first such header is, as (line, column, character), both counted from 1.
  static func firstBadHeader(in text: String) -> (line: Int, column: Int, found: Character)? {
    let chars = Array(text.unicodeScalars)
    var i = 0
    var line = 1
    var lineStart = 0
    var depth = 0  // open [ and { inside a value
    var atStatementStart = true

    func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < chars.count ? chars[i + offset] : nil }
    func newline() {
      line += 1
      lineStart = i + 1
    }
    /// Skips a string starting at i (a quote), honouring escapes in basic strings and line
    /// breaks in multi-line ones; i ends on its closing quote (or the end of the text).
    func skipString() {
      let quote = chars[i]
      let multi = peek(1) == quote && peek(2) == quote
      i += multi ? 3 : 1
      while i < chars.count {
        let c = chars[i]
        if c == "\\" && quote == "\"" {
          i += 2
          continue
        }
        if c == "\n" {
          if !multi { return }
          newline()
        }
        if c == quote && (!multi || (peek(1) == quote && peek(2) == quote)) {
          if multi {
            // A multi-line string may end with up to two extra quotes ("""a"""").
            while peek(3) == quote { i += 1 }
            i += 2
          }
          return
        }
        i += 1
      }
    }

    while i < chars.count {
      let c = chars[i]
      switch c {
      case "\n":
        newline()
        if depth == 0 { atStatementStart = true }
      case " ", "\t", "\r":
        break
      case "#":
        while i + 1 < chars.count && chars[i + 1] != "\n" { i += 1 }
      case "\"", "'":
        atStatementStart = false
        skipString()
      case "[" where atStatementStart && depth == 0:
        // A table header, as toml++ reads one: '[', blanks, an optional second '[' (only
        // right after the first), blanks, then the first character of the key.
        i += 1
        var blanks = false
        while let b = peek(), b == " " || b == "\t" {
          blanks = true
          i += 1
        }
        // "[ [" is an error toml++ reports itself.
        if peek() == "[" && !blanks {
          i += 1
          while let b = peek(), b == " " || b == "\t" { i += 1 }
          if let first = peek(), first != "]", !isKeyStart(first) {
            return (line, i - lineStart + 1, Character(first))
          }
        } else if let first = peek(), first != "]", first != "[", !isKeyStart(first) {
          return (line, i - lineStart + 1, Character(first))
        }
        // The rest of the header up to its closing bracket(s) is no value.
        while let h = peek(), h != "]", h != "\n" {
          if h == "\"" || h == "'" { skipString() }
          i += 1
        }
        while peek() == "]" { i += 1 }
        i -= 1
        atStatementStart = false
      case "[", "{":
        atStatementStart = false
        depth += 1
      case "]", "}":
        depth = max(0, depth - 1)
      default:
        atStatementStart = false
      }
      i += 1
    }
    return nil
  }

  /// The characters toml++ 3.4.0 lets a key start with: a bare key character or a quote.
  static func isKeyStart(_ c: Unicode.Scalar) -> Bool {
    switch c {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-", "\"", "'": true
    default: false
    }
  }
}
