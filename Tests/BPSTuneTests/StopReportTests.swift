import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// The line a SIGTERM leaves (bpstune.service's start timeout): what the run records as it goes
/// (in process). The built binary stopped while it waits for a held lock is
/// EndToEndTests/StopReportLockTests; the SIGTERM in the middle of a write is the host tier's
/// (strace's signal injection: EndToEndTests/HostTier/StopReportHostTests).
@Suite struct StopReportTests {
  /// One test for the process-wide line: the steps recorded in turn, the last one is the line,
  /// escaped to stay one line, cut at a character boundary when it is too long.
  @Test func theLastRecordedStepIsTheLineEscapedAndBounded() {
    StopReport.doing("taking the lock /run/bpstune/lock")
    StopReport.doing("writing net.core.busy_poll (3 of 12 settings applied)")
    #expect(
      StopReport.current == "bpstune: stopped by SIGTERM while writing net.core.busy_poll (3 of 12 settings applied)\n")
    StopReport.doing("writing eth0\n\u{1b}[31m busy")
    #expect(StopReport.current == "bpstune: stopped by SIGTERM while writing eth0\\n\\x1B[31m busy\n")
    StopReport.doing("writing " + String(repeating: "é", count: 400))
    let long = StopReport.current ?? ""
    #expect(long.utf8.count <= 510 && long.hasSuffix("é...\n") && long.split(separator: "\n").count == 1, "\(long)")
    // Many recordings in a row keep the line whole (two slots, published in turn).
    for i in 0..<1000 { StopReport.doing("writing setting \(i) (\(i) of 1000 settings applied)") }
    #expect(
      StopReport.current == "bpstune: stopped by SIGTERM while writing setting 999 (999 of 1000 settings applied)\n")
  }

  /// The executor says what it starts before it starts it: each write with the count done, then
  /// the snapshot's completion.
  @Test func theExecutorReportsEachWriteBeforeItAndTheCount() throws {
    let s = Scenario()
    var steps: [String] = []
    var executor = s.executor(KernelHost(root: s.kernel.root))
    executor.progress = { steps.append($0) }
    let outcome = try Applier(executor: executor).apply(
      try s.profile("[sysctl]\nnet.core.busy_read = 50\nnet.core.busy_poll = 50\n"), skipUnsupported: false)
    let id = try #require(outcome.snapshot?.id)
    #expect(
      steps == [
        "writing net.core.busy_poll (0 of 2 settings applied)", "writing net.core.busy_read (1 of 2 settings applied)",
        "recording snapshot \(id) as complete (2 of 2 settings applied)",
      ], "\(steps)")
  }
}
