import Foundation
import TestSupport
import Testing

/// SIGTERM in the middle of an apply, as systemd sends it when bpstune.service's start timeout
/// runs out: strace delivers it on the write(2) of one chosen setting (signal injection, the way
/// CrashTests kills: deterministic, no timing), and bpstune's one line names that setting and
/// how many were applied before it.
@Suite(.enabled(if: geteuid() == 0, "strace's injection traces a process: root here"))
struct StopReportHostTests {
  @Test(arguments: [("net.core.busy_poll", 0), ("net.core.busy_read", 1), ("net.core.somaxconn", 2)])
  func aRunStoppedInAWriteNamesTheSettingAndTheCount(_ setting: String, _ applied: Int) throws {
    let kernel = FakeKernel()
    for name in ["busy_poll", "busy_read", "somaxconn"] { kernel.set("/proc/sys/net/core/\(name)", "0") }
    let work = TemporaryDirectory("bpstune-stop")
    let profile = work.write(
      "p.profile", "[sysctl]\nnet.core.busy_read = 50\nnet.core.busy_poll = 50\nnet.core.somaxconn = 4096\n")
    let file = kernel.root + "/proc/sys/" + setting.replacingOccurrences(of: ".", with: "/")
    let run = Run.command([
      "strace", "-f", "-qq", "-o", "/dev/null", "-P", file, "-e", "trace=write", "-e", "inject=write:signal=SIGTERM",
      Run.bpstune, "apply", profile, "--root", kernel.root, "--state-dir", work.path + "/state", "--no-color",
    ])
    #expect(run.status == 143, "\(run)")
    #expect(
      run.stderr == "bpstune: stopped by SIGTERM while writing \(setting) (\(applied) of 3 settings applied)\n",
      "\(run)")
  }
}
