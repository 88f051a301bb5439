import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// The syntax check that keeps toml++ 3.4.0 from asserting on malformed input.
@Suite struct TOMLSyntaxCheckTests {
  /// Inputs toml++ 3.4.0 aborts on (the first two found by the fuzzer), and other malformed text.
  @Test(arguments: [
    "[)", "[&", "[[=", "[[[1]]]", "[[ )", "[\n", "x = 1\n[)", "a = \"\"\"\n\"\"\"\n[%]", "\"\"=1979-05-27T:",
    "a = 07:32:00", "a = 1979-05-27", "a = 01", "a = 1__0", "a = 1_", "a = 1.", "a = .5", "a = 0x", "a = +0x10",
    "a = [1,,2]", "a = {b = 1,}", "a = {b = 1\n}", "a = \"x", "a = \"\\q\"", "a = \"\\uD800\"", "a = tru",
    "a = 1 2", "a = \"\"\"\"\"\"\"\"\"", "= 1", "a. = 1", "a = 'x\u{7f}'", "a = 1\rb = 2", "a \"b\" = 1",
    "[a]]", "[[a]", "a = [\n1\n2]", "b = \"50\\u0000\"", "b = \"\"\"\\U00000000\"\"\"",
  ])
  func malformedTextIsFound(_ text: String) {
    #expect(TOMLSyntaxCheck.firstError(in: text) != nil)
  }

  /// Well-formed TOML passes, whatever brackets sit inside strings, comments and arrays.
  @Test(arguments: [
    "[a]\nx = 1", "[[a]]\n[ \"b\" ]\n[ 'c'.d ]", "a = \"\"\"\n[)\n\"\"\"", "a = '''\n[&\n'''",
    "a = [\n[1],\n[2], # c\n]", "x = 1 # [)\n[b.\"c]d\"]", "a = \"\\\"[)\"\n[b]", "a = { b = [1], c.d = 'x' }\n[c]",
    "a = [ ]", "a = {}",
    "a = -0\nb = +1_000\nc = 0xdead_BEEF\nd = 0o17\ne = 0b1\nf = 6.02e+23\ng = -inf\nh = nan\ni = 1E06",
    "a = true\nb = false", "a = \"\"\"x\\\n   y\"\"\"\"\"", "a = \"\\u00e9\\U0001F600\"", "\"quoted key\" = 1\r\n",
    "a = \"tab\there\"", "b = \"\\\\u0000\"", "b = '\\u0000' # \\u0000", "", "# only a comment", "  [ a . b ]  # x\n",
  ])
  func wellFormedTextPasses(_ text: String) {
    #expect(
      TOMLSyntaxCheck.firstError(in: text) == nil, "\(TOMLSyntaxCheck.firstError(in: text).map { "\($0)" } ?? "")")
  }

  /// Every profile shipped, and every profile in the corpus that toml++ itself accepts, passes.
  @Test func shippedProfilesPass() throws {
    for entry in try FileManager.default.contentsOfDirectory(atPath: Run.profiles) {
      let text = try String(contentsOfFile: Run.profiles + "/" + entry, encoding: .utf8)
      #expect(TOMLSyntaxCheck.firstError(in: text) == nil, "\(entry)")
    }
  }
}
