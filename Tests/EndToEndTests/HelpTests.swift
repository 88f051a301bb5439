import Foundation
import TestSupport
import Testing

/// The root help text as users see it.
@Suite struct HelpTests {
  @Test func exitCodesAreOneToALineAndNoSentenceIsBrokenByHand() {
    let help = Run.command([Run.bpstune, "--help"])
    #expect(help.status == 0)
    let lines = help.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    for code in 0...4 {
      #expect(lines.contains { $0.hasPrefix("\(code)  ") }, "exit code \(code) on a line of its own: \(help.stdout)")
    }
    #expect(!lines.contains { $0.hasSuffix(" and") || $0.hasSuffix(" or") }, "\(help.stdout)")
  }
}

/// `--version` alone is answered before the argument parser is built; elsewhere on a command
/// line the parser answers it. Both print the same line and exit 0.
@Suite struct VersionTests {
  @Test func versionAloneAndAfterACommandPrintTheSameLine() throws {
    let alone = Run.command([Run.bpstune, "--version"])
    #expect(alone.status == 0)
    #expect(alone.stdout.hasPrefix("bpstune ") && alone.stdout.hasSuffix("\n"), "\(alone.stdout)")
    #expect(alone.stdout.split(separator: "\n").count == 1, "\(alone.stdout)")
    #expect(alone.stderr.isEmpty, "\(alone.stderr)")
    let parsed = Run.command([Run.bpstune, "diff", "--version"])
    #expect(parsed.status == 0)
    #expect(parsed.stdout == alone.stdout)
    // The shortcut takes `--version` alone and nothing else: after `--` it is an operand,
    // which the parser refuses; with more words the parser answers as it always has.
    let operand = Run.command([Run.bpstune, "--", "--version"])
    #expect(operand.status == 2 && operand.stdout.isEmpty, "\(operand)")
    #expect(operand.stderr.contains("Unexpected argument '--version'"), "\(operand)")
    let more = Run.command([Run.bpstune, "--version", "extra"])
    #expect(more.status == 0 && more.stdout == alone.stdout, "\(more)")
  }
}
