import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence

/// The persistence workflows (enable, boot, hot-plug, drift check, status, disable) as library
/// functions on a temporary /proc and /sys tree: no root, no systemd (`true` stands in for
/// systemctl and udevadm), every line they say captured.
@Suite struct WorkflowTests {
  let kernel = FakeKernel()
  let work = TemporaryDirectory("bpstune-workflow")
  let lines = Lines()

  final class Lines: @unchecked Sendable {
    var said: [String] = []
    var warned: [String] = []
  }

  static let profile = """
    [sysctl]
    net.core.busy_read = 50
    [[interface]]
    name = "${iface}"
    napi-defer-hard-irqs = 100
    """

  init() {
    kernel.set("/proc/sys/net/core/busy_read", "0")
    kernel.set("/proc/sys/kernel/random/boot_id", "boot-1")
    kernel.addInterface("eth0")
    kernel.set("/sys/class/net/eth0/napi_defer_hard_irqs", "0")
    work.write("profiles/lab.profile", Self.profile)
  }

  var workflow: Workflow {
    let host = KernelHost(root: kernel.root)
    let store = SnapshotStore(stateDirectory: work.path + "/state")
    let persistence = Persistence(
      configDirectory: work.path + "/etc", udevRulesDirectory: work.path + "/udev", systemctl: "/bin/true",
      udevadm: "/bin/true")
    let lines = self.lines
    return Workflow(
      persistence: persistence, host: host, store: store,
      loader: ProfileLoader(source: ProfileSource(searchPath: [work.path + "/profiles"])),
      executor: { Executor(host: $0, knobs: KnobRegistry.standard, store: store) },
      lock: { timeout in
        try store.prepare()
        try Syscalls.makeDirectories(host.path("/run/bpstune"), mode: 0o755)
        return try store.lock(timeout: timeout, hostLock: host.path("/run/bpstune/lock"))
      },
      say: { lines.said.append($0) }, warn: { lines.warned.append($0) })
  }

  var busyRead: String? { kernel.get("/proc/sys/net/core/busy_read") }
  var defer_: String? { kernel.get("/sys/class/net/eth0/napi_defer_hard_irqs") }

  @Test func enableBootCheckAndDisableRoundTrip() throws {
    let metrics = work.path + "/metrics"
    let enabled = try #require(
      try workflow.enable(
        .init(profile: "lab", interface: "eth0", metricsDirectory: metrics, reason: "test"), privileges: { _ in }))
    #expect(enabled.outcome.snapshot?.entries.count == 2)
    #expect(busyRead == "50" && defer_ == "100")
    #expect(enabled.unitProblems.contains { $0.contains("may write only") })
    #expect(FileManager.default.fileExists(atPath: work.path + "/etc/enabled.toml"))
    #expect(FileManager.default.fileExists(atPath: work.path + "/etc/enabled.profile"))
    #expect(work.read("udev/80-bpstune.rules")?.contains("KERNEL==\"eth0\"") == true)

    // The drift check: matches, then drifted (reported, not re-applied), with metrics.
    #expect(try workflow.driftCheck(lockTimeout: 5) == .matches)
    kernel.set("/proc/sys/net/core/busy_read", "7")
    #expect(try workflow.driftCheck(lockTimeout: 5) == .drifted(count: 1, reapplied: false))
    #expect(
      lines.said.contains { $0.hasPrefix("drift: net.core.busy_read is 7, profile lab sets 50") }, "\(lines.said)")
    let prom = try #require(work.read("metrics/bpstune.prom"))
    #expect(prom.contains("bpstune_verify_drift{profile=\"lab\"} 1"), "\(prom)")

    // The boot unit puts it back; status then shows no drift, and this boot's applies.
    try workflow.boot(lockTimeout: 5)
    #expect(busyRead == "50")
    #expect(lines.said.contains { $0.hasPrefix("boot: applied lab: 1 change(s), snapshot ") }, "\(lines.said)")
    guard case .enabled(let report) = try workflow.status() else {
      Issue.record("status says nothing is enabled")
      return
    }
    #expect(!report.plan.differs)
    #expect(report.applies?.map(\.trigger) == ["enable", "boot"])

    // Disable rolls back both applies of this boot, newest first, and removes everything.
    let done = try workflow.disable(keepSettings: false, lockTimeout: 5)
    #expect(done.rolledBack.count == 2 && done.record?.profile == "lab")
    #expect(busyRead == "0" && defer_ == "0")
    for file in ["etc/enabled.toml", "etc/enabled.profile", "udev/80-bpstune.rules", "metrics/bpstune.prom"] {
      #expect(!FileManager.default.fileExists(atPath: work.path + "/" + file), "\(file)")
    }
    guard case .notEnabled = try workflow.status() else {
      Issue.record("still enabled after disable")
      return
    }
  }

  @Test func disableRefusesToRollBackFromUnderAnApplyMadeByHand() throws {
    _ = try workflow.enable(.init(profile: "lab", interface: "eth0"), privileges: { _ in })
    work.write("profiles/hand.profile", "[sysctl]\nnet.core.busy_read = 70\n")
    let executor = Executor(
      host: KernelHost(root: kernel.root), knobs: KnobRegistry.standard,
      store: SnapshotStore(stateDirectory: work.path + "/state"))
    let hand = try ProfileLoader(source: ProfileSource(searchPath: [work.path + "/profiles"])).load("hand")
    _ = try Applier(executor: executor).apply(hand, skipUnsupported: false)
    #expect(busyRead == "70")
    #expect { try workflow.disable(keepSettings: false, lockTimeout: 5) } throws: {
      "\($0)".contains("made by hand after the enabled profile's) is still in effect")
    }
    #expect(busyRead == "70" && FileManager.default.fileExists(atPath: work.path + "/etc/enabled.toml"))
  }

  @Test func theHotPlugUnitTunesOnlyTheInterfaceItWasStartedFor() throws {
    _ = try workflow.enable(.init(profile: "lab", interface: "eth0"), privileges: { _ in })
    kernel.set("/sys/class/net/eth0/napi_defer_hard_irqs", "0")
    try workflow.interface(instance: "eth1", waitUp: 0, lockTimeout: 5)
    #expect(lines.said.last == "eth1: not named by the enabled profile lab; nothing to do", "\(lines.said)")
    #expect(defer_ == "0")
    kernel.set("/sys/class/net/eth0/operstate", "up")
    kernel.set("/sys/class/net/eth0/flags", "0x1003")
    try workflow.interface(instance: "eth0", waitUp: 0, lockTimeout: 5)
    #expect(defer_ == "100", "\(lines.said)")
    // Only the interface's blocks: the sysctl drifted by hand stays as it is.
    kernel.set("/proc/sys/net/core/busy_read", "7")
    try workflow.interface(instance: "eth0", waitUp: 0, lockTimeout: 5)
    #expect(busyRead == "7")
  }

  /// What a workflow read before taking the lock is read again under it: another run may
  /// have changed the host while this one waited (before, the boot apply planned from values
  /// cached by an earlier read and found "already in place").
  @Test func underTheLockTheHostIsReadAfresh() throws {
    let w = workflow
    _ = try w.enable(.init(profile: "lab", interface: "eth0"), privileges: { _ in })
    guard case .enabled(let report) = try w.status() else {
      Issue.record("not enabled")
      return
    }
    #expect(!report.plan.differs)
    // Changed while this run is between its read and its apply (as by a run holding the lock).
    kernel.set("/proc/sys/net/core/busy_read", "7")
    try w.boot(lockTimeout: 5)
    #expect(busyRead == "50", "\(lines.said)")
  }

  @Test func refreshWithNothingEnabledIsAUsageError() {
    #expect { try workflow.enable(.init(profile: "", refresh: true), privileges: { _ in }) } throws: {
      "\($0)".contains("enable --refresh: nothing is enabled")
    }
  }
}
