/// A TOML 1.0 syntax check, run on profile text before TOMLKit parses it.
///
/// TOMLKit 0.6.0 bundles toml++ 3.4.0, whose parser assumes things of its input that malformed
/// input breaks. Assertions (on in debug and release builds alike) abort the process, and
/// without assertions the result is undefined behaviour. bpstune's fuzzer found two such inputs
/// within minutes:
/// - `[)`, a table header with no key (marzer/tomlplusplus#294, fixed upstream by #301, not
///   in 3.4.0);
/// - `a = 1979-05-27T:`, a date-time with no time.
///
/// So toml++ gets only text that this check has found to be well-formed TOML, with one
/// narrowing: dates and times are refused here, since no profile setting takes one, and so are
/// NUL escapes, which TOMLKit would silently cut the string at. The check
/// is syntax only. Duplicate keys and tables are left to toml++, which reports them properly.
struct TOMLSyntaxCheck {
  struct Failure: Error, Equatable {
    var line: Int
    var column: Int
    var message: String
  }

  private let s: [Unicode.Scalar]
  private var i = 0
  private var line = 1
  private var lineStart = 0
  /// Levels enclosing the current point: the table header's key components (one more for an
  /// array of tables), the components of each enclosing dotted key, each enclosing array and
  /// inline table. `a.b.c = 1` in `[x.y]` is five deep. Every form of nesting counts against
  /// one limit, so that no reader of the parsed table (toml++, TOMLKit's conversion,
  /// bpstune's, each recursive) goes deeper than it: a 4,000-component dotted key made
  /// `bpstune lint` run out of stack.
  private var nesting = 0
  /// The header's share of ``nesting``, for the key/value lines below it.
  private var headerNesting = 0
  /// Far more than a profile needs (a sysctl name is at most 8 components).
  static let nestingLimit = 64

  private mutating func nest(_ levels: Int) throws(Failure) {
    nesting += levels
    if nesting > Self.nestingLimit {
      throw fail("keys, tables and arrays nest deeper than \(Self.nestingLimit) levels")
    }
  }

  private init(_ text: String) { s = Array(text.unicodeScalars) }

  /// The first syntax error in `text`, or nil when toml++ may parse it.
  static func firstError(in text: String) -> Failure? {
    var check = TOMLSyntaxCheck(text)
    do {
      try check.document()
      return nil
    } catch {
      return error
    }
  }

  // MARK: Reading

  private var current: Unicode.Scalar? { i < s.count ? s[i] : nil }
  private func peek(_ n: Int) -> Unicode.Scalar? { i + n < s.count ? s[i + n] : nil }
  private func at(_ text: String) -> Bool {
    for (k, c) in text.unicodeScalars.enumerated() where peek(k) != c { return false }
    return true
  }

  private func fail(_ message: String) -> Failure {
    Failure(line: line, column: i - lineStart + 1, message: message)
  }

  private func saw() -> String {
    guard let c = current else { return "the end of the file" }
    if c == "\n" { return "the end of the line" }
    if c.value < 0x20 || c.value == 0x7f {
      return "the control character U+\(String(c.value, radix: 16, uppercase: true))"
    }
    return "'\(Character(c))'"
  }

  private mutating func newline() throws(Failure) {
    if current == "\r" {
      guard peek(1) == "\n" else { throw fail("a carriage return not followed by a line feed") }
      i += 1
    }
    guard current == "\n" else { throw fail("expected the end of the line, saw \(saw())") }
    i += 1
    line += 1
    lineStart = i
  }

  private var atNewline: Bool { current == "\n" || current == "\r" }

  private mutating func blanks() {
    while current == " " || current == "\t" { i += 1 }
  }

  /// `#` to the end of the line; tab is the only control character a comment may hold.
  private mutating func comment() throws(Failure) {
    guard current == "#" else { return }
    i += 1
    while let c = current, c != "\n" {
      if c == "\r" && peek(1) == "\n" { break }
      if isControl(c) { throw fail("a comment holds \(saw())") }
      i += 1
    }
  }

  private func isControl(_ c: Unicode.Scalar) -> Bool { (c.value < 0x20 && c != "\t") || c.value == 0x7f }

  /// Blanks, comments and line breaks, as arrays allow between their values.
  private mutating func blanksCommentsAndNewlines() throws(Failure) {
    while true {
      blanks()
      try comment()
      guard atNewline else { return }
      try newline()
    }
  }

  // MARK: Document

  private mutating func document() throws(Failure) {
    while current != nil {
      blanks()
      if current == "[" {
        try header()
      } else if let c = current, isBareKey(c) || c == "\"" || c == "'" {
        nesting = headerNesting
        try keyValue()
      } else if let c = current, c != "#", c != "\n", c != "\r" {
        throw fail("expected a key or a [table], saw \(saw())")
      }
      blanks()
      try comment()
      if current != nil { try newline() }
    }
  }

  private mutating func header() throws(Failure) {
    i += 1
    let array = current == "["
    if array { i += 1 }
    blanks()
    nesting = 0
    try nest(try key() + (array ? 1 : 0))
    headerNesting = nesting
    blanks()
    guard current == "]" else { throw fail("expected ']' to end the table name, saw \(saw())") }
    i += 1
    if array {
      guard current == "]" else { throw fail("expected ']]' to end the array-of-tables name, saw \(saw())") }
      i += 1
    }
  }

  private func isBareKey(_ c: Unicode.Scalar) -> Bool {
    switch c {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
    default: false
    }
  }

  /// A dotted key: simple keys (bare, "basic" or 'literal') joined by dots. Returns how many.
  private mutating func key() throws(Failure) -> Int {
    var components = 0
    while true {
      components += 1
      if components > Self.nestingLimit {
        throw fail("a dotted key of more than \(Self.nestingLimit) components")
      }
      guard let c = current else { throw fail("expected a key, saw the end of the file") }
      if c == "\"" || c == "'" {
        if peek(1) == c && peek(2) == c { throw fail("a key cannot be a multi-line string") }
        try singleLineString()
      } else if isBareKey(c) {
        while let b = current, isBareKey(b) { i += 1 }
      } else {
        throw fail("expected a key, saw \(saw())")
      }
      blanks()
      guard current == "." else { return components }
      i += 1
      blanks()
    }
  }

  private mutating func keyValue() throws(Failure) {
    let components = try key()
    try nest(components)
    blanks()
    guard current == "=" else { throw fail("expected '=' after the key, saw \(saw())") }
    i += 1
    blanks()
    try value()
    nesting -= components
  }

  // MARK: Values

  private mutating func value() throws(Failure) {
    guard let c = current else { throw fail("expected a value, saw the end of the file") }
    switch c {
    case "\"", "'":
      if peek(1) == c && peek(2) == c { try multiLineString() } else { try singleLineString() }
    case "[": try array()
    case "{": try inlineTable()
    case "t": try word("true")
    case "f": try word("false")
    case "i", "n": try number()
    case "+", "-", "0"..."9":
      if isDateOrTime() { throw fail("dates and times are not setting values") }
      try number()
    default: throw fail("expected a value, saw \(saw())")
    }
  }

  private mutating func word(_ w: String) throws(Failure) {
    guard at(w) else { throw fail("expected a value, saw \(saw())") }
    i += w.unicodeScalars.count
    try endOfValue()
  }

  /// What may follow a value: blanks, a comment, a line end, ',' ']' '}' or the end.
  private func endOfValue() throws(Failure) {
    guard let c = current else { return }
    switch c {
    case " ", "\t", "\n", "\r", "#", ",", "]", "}": return
    default: throw fail("unexpected \(saw()) after a value")
    }
  }

  /// 1979-05-27 or 07:32:00 at the start of a value (the shapes TOML dates and times have).
  private func isDateOrTime() -> Bool {
    func digit(_ n: Int) -> Bool { peek(n).map { ("0"..."9").contains($0) } ?? false }
    return (digit(0) && digit(1) && digit(2) && digit(3) && peek(4) == "-")
      || (digit(0) && digit(1) && peek(2) == ":")
  }

  private mutating func digits(_ valid: (Unicode.Scalar) -> Bool, _ what: String) throws(Failure) {
    guard let c = current, valid(c) else { throw fail("expected \(what), saw \(saw())") }
    i += 1
    while let c = current {
      if c == "_" {
        guard let n = peek(1), valid(n) else { throw fail("an underscore in a number must sit between digits") }
        i += 1
      } else if !valid(c) {
        break
      }
      i += 1
    }
  }

  private mutating func number() throws(Failure) {
    let decimal: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }
    if current == "0", let base = peek(1), base == "x" || base == "o" || base == "b" {
      i += 2
      switch base {
      case "x":
        try digits({ ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) }, "a hex digit")
      case "o": try digits({ ("0"..."7").contains($0) }, "an octal digit")
      default: try digits({ $0 == "0" || $0 == "1" }, "a binary digit")
      }
      return try endOfValue()
    }
    if current == "+" || current == "-" { i += 1 }
    if at("inf") || at("nan") {
      i += 3
      return try endOfValue()
    }
    if current == "0", let n = peek(1), decimal(n) || n == "_" {
      throw fail("a number cannot start with a leading zero")
    }
    try digits(decimal, "a digit")
    if current == "." {
      i += 1
      try digits(decimal, "a digit after the decimal point")
    }
    if current == "e" || current == "E" {
      i += 1
      if current == "+" || current == "-" { i += 1 }
      try digits(decimal, "a digit in the exponent")
    }
    try endOfValue()
  }

  private mutating func array() throws(Failure) {
    try nest(1)
    i += 1
    try blanksCommentsAndNewlines()
    while current != "]" {
      try value()
      try blanksCommentsAndNewlines()
      if current == "," {
        i += 1
        try blanksCommentsAndNewlines()
      } else if current != "]" {
        throw fail("expected ',' or ']' in an array, saw \(saw())")
      }
    }
    i += 1
    nesting -= 1
    try endOfValue()
  }

  /// { key = value, ... } on one line, without a trailing comma (TOML 1.0).
  private mutating func inlineTable() throws(Failure) {
    try nest(1)
    i += 1
    blanks()
    if current != "}" {
      while true {
        try keyValue()
        blanks()
        if current == "}" { break }
        guard current == "," else { throw fail("expected ',' or '}' in an inline table, saw \(saw())") }
        i += 1
        blanks()
        if current == "}" { throw fail("an inline table cannot end with a comma") }
      }
    }
    i += 1
    nesting -= 1
    try endOfValue()
  }

  // MARK: Strings

  private mutating func singleLineString() throws(Failure) {
    let quote = current!
    i += 1
    while true {
      guard let c = current, c != "\n", c != "\r" else { throw fail("a string is not closed on its line") }
      if c == quote {
        i += 1
        return
      }
      if c == "\\" && quote == "\"" {
        try escape()
        continue
      }
      if isControl(c) { throw fail("a string holds \(saw())") }
      i += 1
    }
  }

  private mutating func multiLineString() throws(Failure) {
    let quote = current!
    i += 3
    if atNewline { try newline() }
    while true {
      guard let c = current else { throw fail("a multi-line string is not closed") }
      if c == quote && peek(1) == quote && peek(2) == quote {
        i += 3
        // Up to two more quotes belong to the content ("""a"""").
        for _ in 0..<2 where current == quote { i += 1 }
        if current == quote { throw fail("too many quotes at the end of a multi-line string") }
        return
      }
      if c == "\n" || c == "\r" {
        try newline()
        continue
      }
      if c == "\\" && quote == "\"" {
        // A line-ending backslash: blanks, then a line break.
        var k = 1
        while peek(k) == " " || peek(k) == "\t" { k += 1 }
        if peek(k) == "\n" || (peek(k) == "\r" && peek(k + 1) == "\n") {
          i += k
          continue
        }
        try escape()
        continue
      }
      if isControl(c) { throw fail("a string holds \(saw())") }
      i += 1
    }
  }

  /// \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX, the last two naming a Unicode scalar value.
  private mutating func escape() throws(Failure) {
    i += 1
    guard let e = current else { throw fail("a string ends in a backslash") }
    switch e {
    case "b", "t", "n", "f", "r", "\"", "\\":
      i += 1
    case "u", "U":
      let count = e == "u" ? 4 : 8
      var value: UInt32 = 0
      for k in 1...count {
        guard let h = peek(k), let d = UInt32(String(h), radix: 16) else {
          throw fail("\\\(e) takes \(count) hex digits")
        }
        value = value &* 16 &+ d
      }
      guard Unicode.Scalar(value) != nil else { throw fail("\\\(e) names no Unicode scalar value") }
      // TOMLKit hands strings over as C strings, so "50\u0000x" would arrive as "50".
      if value == 0 { throw fail("a NUL escape (\\u0000) is not allowed") }
      i += count + 1
    default:
      throw fail("unknown escape \\\(Character(e)) in a string")
    }
  }
}
