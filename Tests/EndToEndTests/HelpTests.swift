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
