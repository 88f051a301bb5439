import Foundation
import TestSupport
import Testing

/// The built binary stopped by SIGTERM (bpstune.service's start timeout) while it waits for a
/// lock. What the run records as it goes is BPSTuneTests/StopReportTests; the SIGTERM in the
/// middle of a write is the host tier's (strace's signal injection: HostTier/StopReportHostTests).
@Suite struct StopReportLockTests {
  /// `bpstune apply` waiting for the host-wide lock another process holds: SIGTERM (sent once it
  /// said it waits, not after a delay) ends it at once with exit 143 and one line naming the lock
  /// and its holder; nothing was written.
  @Test func aRunStoppedWhileItWaitsForTheLockNamesTheLockAndItsHolder() throws {
    let kernel = FakeKernel(cpus: "0-3")
    let profiles = TemporaryDirectory("bpstune-profiles")
    let state = TemporaryDirectory("bpstune-state")
    kernel.set("/proc/sys/net/core/busy_read", "0")
    let lockPath = kernel.root + "/run/bpstune/lock"
    try FileManager.default.createDirectory(atPath: kernel.root + "/run/bpstune", withIntermediateDirectories: true)
    let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    try #require(fd >= 0 && flock(fd, LOCK_EX) == 0)
    defer { close(fd) }
    _ = "\(getpid())\n".withCString { write(fd, $0, strlen($0)) }
    profiles.write("p.profile", "[sysctl]\nnet.core.busy_read = 50\n")

    let run = try Background([
      Run.bpstune, "apply", profiles.path + "/p.profile", "--root", kernel.root, "--state-dir",
      state.path + "/s", "--lock-timeout", "600", "--no-color",
    ])
    // Bounded: a run that never says it waits fails here, not after the 600 s lock timeout.
    try #require(run.wait(seconds: 20) { run.stderr.contains("waiting up to 600s") }, "\(run.stderr)")
    let ended = run.stop()
    let text = ended.stderr
    #expect(ended.status == 143, "\(ended)")
    let lines = text.split(separator: "\n")
    #expect(
      lines.last
        == "bpstune: stopped by SIGTERM while waiting for another bpstune run to finish (\(lockPath) held by pid \(getpid()))",
      "\(text)")
    #expect(lines.count == 2, "\(text)")
    #expect(kernel.get("/proc/sys/net/core/busy_read") == "0")
  }
}
