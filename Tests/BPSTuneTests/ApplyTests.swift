import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct PlannerTests {
  @Test func plansByMeaningWithKernelRounding() throws {
    let s = Scenario()
    s.kernel.set("/proc/sys/net/core/busy_poll", "50")
    s.kernel.set("/sys/class/net/eth0/queues/rx-1/rps_cpus", "00000003")
    let plan = try Planner().plan(try s.profile(), on: KernelHost(root: s.kernel.root))
    let byName = Dictionary(uniqueKeysWithValues: plan.entries.map { ($0.id.description, $0) })
    #expect(byName["net.core.busy_read"]?.status == .change)
    #expect(byName["net.core.busy_poll"]?.status == .ok)
    #expect(byName["net.core.rps_sock_flow_entries"]?.target.desired == "128")
    #expect(byName["net.core.rps_sock_flow_entries"]?.target.note == "the kernel rounds 100 up to 128")
    #expect(byName["devices/virtual/workqueue/cpumask"]?.target.desired == "e")
    #expect(byName["eth0 rx-0 rps-cpus"]?.status == .change)
    #expect(byName["eth0 rx-1 rps-cpus"]?.status == .ok)  // "00000003" means 0-1
    #expect(byName["eth0 gro-flush-timeout"]?.target.desired == "15000")
    // Structure-free plan: system settings first, then device, then queues.
    #expect(plan.entries.map(\.target.phase) == plan.entries.map(\.target.phase).sorted())
  }

  @Test func missingSettingsAreUnsupportedWithAReason() throws {
    let s = Scenario()
    let profile = try s.profile(
      """
      [sysctl]
      net.core.busy_raed = 1
      net.core.busy_poll = 1
      [sysfs]
      "devices/system/cpu/smt/control" = "off"
      """)
    try FileManager.default.removeItem(atPath: s.kernel.root + "/proc/sys/net/core/busy_poll")
    let plan = try Planner().plan(profile, on: KernelHost(root: s.kernel.root))
    let reasons = plan.unsupported.map { "\($0.id): \($0.reason!)" }
    #expect(
      reasons.contains {
        $0.hasPrefix("net.core.busy_raed: no such sysctl") && $0.contains("did you mean net.core.busy_read?")
      })
    #expect(reasons.contains { $0.hasPrefix("net.core.busy_poll:") && $0.contains("initial network namespace") })
    #expect(reasons.contains { $0.hasPrefix("devices/system/cpu/smt/control: no such file") })
  }

  /// Only the net.* sysctls outside the per-namespace ones are missing for want of the initial
  /// network namespace; a missing kernel.* or vm.* sysctl is one this kernel lacks.
  @Test func missingKernelAndVMSysctlsAreNotBlamedOnTheNetworkNamespace() throws {
    let s = Scenario()
    s.kernel.set("/proc/sys/kernel/soft_watchdog", "1")
    s.kernel.set("/proc/sys/vm/swappiness", "60")
    let profile = try s.profile(
      """
      [sysctl]
      kernel.nmi_watchdog = 0
      kernel.numa_balancing = 0
      vm.stat_interval = 10
      net.core.netdev_budget = 600
      """)
    let plan = try Planner().plan(profile, on: KernelHost(root: s.kernel.root))
    #expect(
      plan.unsupported.map { "\($0.id): \($0.reason!)" } == [
        "kernel.nmi_watchdog: no such sysctl on this kernel (did you mean kernel.soft_watchdog?)",
        "kernel.numa_balancing: no such sysctl on this kernel",
        "net.core.netdev_budget: no /proc/sys/net/core/netdev_budget: a global sysctl, present only in the initial network namespace",
        "vm.stat_interval: no such sysctl on this kernel",
      ])
    #expect(SysctlKnob.known.filter(\.value.initialNetnsOnly).keys.allSatisfy { $0.hasPrefix("net.") })
  }

  /// A queue file is read, not stat(2)ed, to see that it is there: only an open that fails with
  /// ENOENT makes it absent; a file that opens but cannot be read is a read failure, named.
  @Test func aQueueFileThatIsAbsentDiffersFromOneThatCannotBeRead() throws {
    let s = Scenario()
    s.kernel.addInterface("eth5", rx: 3, tx: 1)
    try FileManager.default.removeItem(atPath: s.kernel.root + "/sys/class/net/eth5/queues/rx-1/rps_cpus")
    // A directory opens read-only, and is refused before any read: a kernel file is regular.
    try FileManager.default.removeItem(atPath: s.kernel.root + "/sys/class/net/eth5/queues/rx-2/rps_cpus")
    try FileManager.default.createDirectory(
      atPath: s.kernel.root + "/sys/class/net/eth5/queues/rx-2/rps_cpus", withIntermediateDirectories: false)
    let plan = try Planner().plan(
      try s.profile("[[interface]]\nname = \"eth5\"\nrps-cpus = \"1\"\n"), on: KernelHost(root: s.kernel.root))
    let byName = Dictionary(uniqueKeysWithValues: plan.entries.map { ($0.id.description, $0) })
    #expect(byName["eth5 rx-0 rps-cpus"]?.status == .change)
    #expect(byName["eth5 rx-1 rps-cpus"]?.status == .unsupported)
    #expect(byName["eth5 rx-1 rps-cpus"]?.reason == "eth5 has no queues/rx-1/rps_cpus")
    #expect(byName["eth5 rx-2 rps-cpus"]?.status == .unsupported)
    #expect(byName["eth5 rx-2 rps-cpus"]?.reason?.hasPrefix("cannot read: ") == true)
    #expect(byName["eth5 rx-2 rps-cpus"]?.reason?.contains("not a regular file") == true)
  }

  @Test func aMissingInterfaceIsAnErrorAndAGlobMatchingNothingAWarning() throws {
    let s = Scenario()
    #expect(
      s.planError("[[interface]]\nname = \"eht0\"\nthreaded = 1\n")?
        .contains("interface eht0 does not exist on this host (did you mean eth0?)") == true)
    let plan = try Planner().plan(
      try s.profile("[[interface]]\nname = \"ens*\"\nthreaded = 1\n"), on: KernelHost(root: s.kernel.root))
    #expect(plan.warnings.count == 1)
    #expect(plan.entries.isEmpty)
  }

  @Test func nonexistentCPUsAreRefusedBeforeApply() throws {
    let s = Scenario()
    #expect(
      s.planError("[[interface]]\nname = \"eth0\"\nrps-cpus = \"0-9\"\n")?.contains("CPU 4-9 does not exist") == true)
  }

  @Test func sysfsSymlinksOutOfSysAreRefused() throws {
    let s = Scenario()
    let outside = TemporaryDirectory("bpstune-outside")
    outside.write("secret", "x\n")
    try FileManager.default.createDirectory(atPath: s.kernel.root + "/sys/kernel", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: s.kernel.root + "/sys/kernel/evil", withDestinationPath: outside.path + "/secret")
    #expect(s.planError("[sysfs]\n\"kernel/evil\" = \"y\"\n")?.contains("resolves to a file outside /sys") == true)
    #expect(outside.read("secret") == "x\n")
  }
}

@Suite struct ApplyAndRollbackTests {
  @Test func applyWritesTheSnapshotFirstAndRollbackRestoresEverything() throws {
    let s = Scenario()
    let before = s.everything()
    let host = KernelHost(root: s.kernel.root)
    let executor = s.executor(host)
    try executor.store.prepare()
    var writesBeforeSnapshot = 0
    host.beforeWrite = { _ in
      if (try? executor.store.all())?.isEmpty ?? true { writesBeforeSnapshot += 1 }
    }
    let outcome = try Applier(executor: executor).apply(try s.profile(), skipUnsupported: false)
    #expect(writesBeforeSnapshot == 0)
    #expect(outcome.snapshot?.status == .complete)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "50")
    #expect(s.kernel.get("/proc/sys/net/core/rps_sock_flow_entries") == "128")
    #expect(s.kernel.get("/sys/class/net/eth0/queues/rx-1/rps_cpus") == "3")
    #expect(s.kernel.get("/sys/devices/virtual/workqueue/cpumask") == "e")

    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let source = try #require(try restorer.candidate().snapshot)
    #expect(source.id == outcome.snapshot?.id)
    let rollback = try restorer.restore(restorer.plan(source), force: false)
    #expect(rollback.status == .complete)
    #expect(s.everything() == before)
    #expect(try restorer.candidate().snapshot == nil)
  }

  /// For a plan of N writes, make write k fail for every k: the host ends as before, exit 3.
  @Test func aFailedWriteUndoesEveryEarlierWrite() throws {
    let s = Scenario()
    let before = s.everything()
    let count = try Planner().plan(try s.profile(), on: KernelHost(root: s.kernel.root)).changes.count
    #expect(count == 8)
    for k in 0..<count {
      let host = KernelHost(root: s.kernel.root)
      var writes = 0
      host.beforeWrite = { path in
        defer { writes += 1 }
        if writes == k { throw SystemError("write", path, .invalidArgument) }
      }
      #expect {
        try Applier(executor: s.executor(host)).apply(try s.profile(), skipUnsupported: false)
      } throws: { error in
        (error as! BPSTuneError).exitCode == 3 && "\(error)".contains("Invalid argument (EINVAL)")
      }
      #expect(s.everything() == before, "write \(k) failed and the host was not restored")
    }
    // Every failed apply left its snapshot, marked undone; none is a rollback candidate.
    let snapshots = try SnapshotStore(stateDirectory: s.state.path + "/s").all().compactMap { try? $0.get() }
    #expect(snapshots.count == count && snapshots.allSatisfy { $0.status == .undone })
    #expect(SnapshotHistory(snapshots: snapshots).rollbackCandidate() == nil)
  }

  @Test func aFailureWhileUndoingIsExit4AndNamesWhatIsLeft() throws {
    let s = Scenario()
    let host = KernelHost(root: s.kernel.root)
    var writes = 0
    host.beforeWrite = { path in
      defer { writes += 1 }
      // Write 2 fails; so does the undo of busy_read.
      if writes == 2 || (writes > 2 && path.hasSuffix("busy_read")) { throw SystemError("write", path, .notPermitted) }
    }
    #expect {
      try Applier(executor: s.executor(host)).apply(try s.profile(), skipUnsupported: false)
    } throws: { error in
      let e = error as! BPSTuneError
      return e.exitCode == 4 && e.description.contains("could not undo 1 setting(s): net.core.busy_read")
    }
    #expect(s.kernel.get("/proc/sys/net/core/busy_poll") == "0")
    let snapshot = try #require(try SnapshotStore(stateDirectory: s.state.path + "/s").all().first?.get())
    #expect(snapshot.status == .failed)
    #expect(snapshot.leftChanged?.first?.hasPrefix("net.core.busy_read") == true)
  }

  @Test func aValueTheKernelDoesNotKeepFailsTheApply() throws {
    let s = Scenario()
    // A file that takes every write and reads back empty, like a kernel that ignores the value.
    let host = KernelHost(root: s.kernel.root)
    nonisolated(unsafe) var ignored = false
    host.afterWrite = { path in
      // The first write only: the undo that follows is kept.
      if path.hasSuffix("/busy_poll") && !ignored {
        ignored = true
        s.kernel.set("/proc/sys/net/core/busy_poll", "")
      }
    }
    #expect {
      try Applier(executor: s.executor(host)).apply(
        try s.profile("[sysctl]\nnet.core.busy_read = 50\nnet.core.busy_poll = 50\n"), skipUnsupported: false)
    } throws: { error in
      (error as! BPSTuneError).exitCode == 3
        && "\(error)".contains("net.core.busy_poll: the kernel kept \"\" instead of 50")
    }
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
  }

  @Test func aCompletionThatCannotBeRecordedLeavesARestorableInProgressSnapshot() throws {
    let s = Scenario()
    let host = KernelHost(root: s.kernel.root)
    let executor = s.executor(host)
    // After the snapshot is on disk, put a file where the snapshot directory was, so that the
    // completion record cannot be written; the directory comes back after the apply.
    let directory = executor.store.snapshotDirectory
    host.beforeWrite = { _ in
      guard !FileManager.default.fileExists(atPath: directory + ".away") else { return }
      try FileManager.default.moveItem(atPath: directory, toPath: directory + ".away")
      FileManager.default.createFile(atPath: directory, contents: Data())
    }
    let outcome = try Applier(executor: executor).apply(
      try s.profile("[sysctl]\nnet.core.busy_read = 50\n"), skipUnsupported: false)
    try FileManager.default.removeItem(atPath: directory)
    try FileManager.default.moveItem(atPath: directory + ".away", toPath: directory)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "50")
    #expect(outcome.snapshot?.status == .inProgress)
    let onDisk = try executor.store.load(try #require(outcome.snapshot?.id))
    #expect(onDisk.status == .inProgress)
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    _ = try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: false)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
  }

  @Test func rollbackRefusesValuesChangedSinceUnlessForced() throws {
    let s = Scenario()
    _ = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile(), skipUnsupported: false)
    s.kernel.set("/proc/sys/net/core/busy_read", "7")  // someone else
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let plan = restorer.plan(try #require(try restorer.candidate().snapshot))
    #expect {
      try restorer.restore(plan, force: false)
    } throws: { error in
      (error as! BPSTuneError).exitCode == 2 && "\(error)".contains("net.core.busy_read is 7, bpstune set 50")
    }
    #expect(s.kernel.get("/proc/sys/net/core/busy_poll") == "50")  // nothing changed
    _ = try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: true)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
  }

  /// A rollback killed midway may leave values between the apply's and the original (queues
  /// re-created by restored channels hold the driver's defaults). The next plain rollback of
  /// the same apply restores them, naming the unfinished rollback, instead of refusing them as
  /// someone else's change.
  @Test func aRollbackAfterAnUnfinishedRollbackRestoresValuesLeftBetween() throws {
    let s = Scenario()
    let applied = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile(), skipUnsupported: false)
    let source = try #require(applied.snapshot)
    let executor = s.executor(KernelHost(root: s.kernel.root))
    var killed = executor.newSnapshot(.rollback, profile: source.profile, restores: source.id, entries: [])
    killed.entries = source.entries.map { e in
      Snapshot.Entry(setting: e.setting, semantics: e.semantics, phase: e.phase, before: e.after, after: e.before)
    }
    try executor.store.save(killed)  // in-progress: the rollback died
    s.kernel.set("/proc/sys/net/core/busy_read", "7")  // between 0 and 50
    let restorer = Restorer(executor: executor)
    let plan = restorer.plan(try #require(try restorer.candidate().snapshot))
    let item = try #require(plan.items.first { $0.entry.setting.key == "net.core.busy_read" })
    #expect(item.action == .restore)
    #expect(item.reason == "left between values by the unfinished rollback \(killed.id)")
    _ = try restorer.restore(plan, force: false)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    #expect(s.kernel.get("/proc/sys/net/core/busy_poll") == "0")
  }

  @Test func rollbacksWalkBackThroughAppliesAndCanBeUndone() throws {
    let s = Scenario()
    let first = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile("[sysctl]\nnet.core.busy_read = 10\n"), skipUnsupported: false)
    _ = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile("[sysctl]\nnet.core.busy_read = 20\n"), skipUnsupported: false)
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    _ = try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: false)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "10")
    #expect(try restorer.candidate().snapshot?.id == first.snapshot?.id)
    let undoFirst = try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: false)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    #expect(try restorer.candidate().snapshot == nil)
    // Restoring the rollback's own snapshot re-applies what it undid.
    _ = try restorer.restore(restorer.plan(undoFirst), force: false)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "10")
    #expect(try restorer.candidate().snapshot?.id == first.snapshot?.id)
  }

  @Test func aPlainRollbackConsidersThisBootOnly() throws {
    let s = Scenario()
    s.kernel.set("/proc/sys/kernel/random/boot_id", "11111111-aaaa-4bbb-8ccc-000000000001")
    let first = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile("[sysctl]\nnet.core.busy_read = 10\n"), skipUnsupported: false)
    #expect(first.snapshot?.boot == "11111111-aaaa-4bbb-8ccc-000000000001")
    // A reboot: a new boot id; the value is the kernel's default again.
    s.kernel.set("/proc/sys/kernel/random/boot_id", "22222222-aaaa-4bbb-8ccc-000000000002")
    s.kernel.set("/proc/sys/net/core/busy_read", "0")
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let candidate = try restorer.candidate()
    #expect(candidate.snapshot == nil)
    #expect(candidate.earlierBoots.map(\.id) == [first.snapshot?.id])
    let text = StateReport.nothingToRollBack(json: false, earlierBoots: candidate.earlierBoots)
    #expect(text.contains("nothing to roll back in this boot") && text.contains(first.snapshot!.id))
    // This boot's apply is the candidate; the earlier boot's stays behind it.
    var executor = s.executor(KernelHost(root: s.kernel.root))
    executor.trigger = "boot"
    let second = try Applier(executor: executor).apply(
      try s.profile("[sysctl]\nnet.core.busy_read = 20\n"), skipUnsupported: false)
    #expect(second.snapshot?.trigger == "boot")
    #expect(try restorer.candidate().snapshot?.id == second.snapshot?.id)
    _ = try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: false)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    #expect(try restorer.candidate().snapshot == nil)
    // An earlier boot's snapshot by id: the three-way check still applies (0 is its before).
    let plan = restorer.plan(try #require(first.snapshot))
    #expect(plan.items.map(\.action) == [.alreadyRestored])
    // snapshots list marks the boots.
    let list = StateReport.list(
      try SnapshotStore(stateDirectory: s.state.path + "/s").all(), lockHeld: false,
      boot: "22222222-aaaa-4bbb-8ccc-000000000002", json: false, style: TextStyle(color: false))
    let rows = list.split(separator: "\n").map(String.init)
    #expect(rows[0].contains("BOOT"))
    #expect(rows[1].contains("11111111") && rows[2].contains("this") && rows[3].contains("this"))
  }

  @Test func anInterruptedApplyIsEnoughToRestore() throws {
    let s = Scenario()
    let host = KernelHost(root: s.kernel.root)
    var writes = 0
    struct Crash: Error {}
    // Simulate a crash after 4 writes: the snapshot stays in progress, no undo runs.
    let executor = s.executor(host)
    let plan = try Planner().plan(try s.profile(), on: host)
    var snapshot = executor.newSnapshot(
      .apply, profile: "p", restores: nil,
      entries: plan.changes.map {
        Snapshot.Entry(
          setting: $0.id, semantics: $0.target.semantics, phase: $0.target.phase, before: $0.current!,
          after: $0.target.desired)
      })
    try executor.store.prepare()
    try executor.store.save(snapshot)
    for entry in snapshot.entries where writes < 4 {
      try KnobRegistry.knob(forKind: entry.setting.kind)!.write(entry.setting, entry.after, on: host)
      writes += 1
    }
    snapshot = try executor.store.load(snapshot.id)
    #expect(snapshot.status == .inProgress)
    #expect(StateReport.state(of: snapshot, undone: [], lockHeld: false) == "interrupted")
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    #expect(try restorer.candidate().snapshot?.id == snapshot.id)
    _ = try restorer.restore(restorer.plan(snapshot), force: false)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    #expect(s.kernel.get("/sys/devices/virtual/workqueue/cpumask") == "f")
  }
}

/// A device that vanishes under bpstune (hot-unplug, a driver reset, `ip link del`; issue 27):
/// named once, its settings gone with it, not counted as left changed.
@Suite struct VanishedDeviceTests {
  @Test func aDeviceDeletedMidApplyIsNamedOnceAndTheRestIsUndone() throws {
    let s = Scenario()
    s.kernel.addInterface("va", rx: 8, tx: 8)
    let host = KernelHost(root: s.kernel.root)
    nonisolated(unsafe) var writes = 0
    host.afterWrite = { path in
      guard path.contains("/class/net/va/") else { return }
      writes += 1
      // The third of va's writes is its last: the device goes away (as `ip link del va`).
      if writes == 3 { try? FileManager.default.removeItem(atPath: s.kernel.root + "/sys/class/net/va") }
    }
    let text = "[sysctl]\nnet.core.busy_read = 50\n[[interface]]\nname = \"va\"\nrps-cpus = \"0-1\"\nxps-cpus = \"2\"\n"
    #expect {
      try Applier(executor: s.executor(host)).apply(try s.profile(text), skipUnsupported: false)
    } throws: { error in
      let e = error as! BPSTuneError
      return e.exitCode == 3 && "\(e)".contains("va disappeared during apply: its 3 setting(s) went with it")
        && "\(e)".contains("undid 1 change(s)") && !"\(e)".contains("could not undo")
    }
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    let snapshot = try #require(try SnapshotStore(stateDirectory: s.state.path + "/s").all().first?.get())
    #expect(snapshot.status == .undone && snapshot.leftChanged == nil)
    // Nothing is left for a plain rollback to do, and nothing blocks it.
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    #expect(try restorer.candidate().snapshot == nil)
  }

  @Test func aRollbackRestoresTheRestWhenADeviceIsGone() throws {
    let s = Scenario()
    s.kernel.addInterface("va", rx: 4, tx: 4)
    let text = "[sysctl]\nnet.core.busy_read = 50\n[[interface]]\nname = \"va\"\nrps-cpus = \"0-1\"\n"
    let outcome = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile(text), skipUnsupported: false)
    #expect(outcome.snapshot?.status == .complete)
    try FileManager.default.removeItem(atPath: s.kernel.root + "/sys/class/net/va")
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let plan = restorer.plan(try #require(try restorer.candidate().snapshot))
    #expect(plan.items.filter { $0.action == .gone }.count == 4)
    #expect(restorer.refusal(of: plan, force: false) == nil)
    let made = try restorer.restore(plan, force: false)
    #expect(made.status == .complete)
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    let text2 = StateReport.rollback(
      plan, snapshot: made, dryRun: false, json: false, style: TextStyle(color: false), quiet: true, passedOver: [])
    #expect(text2.contains("va is gone: its 4 setting(s) went with it"), "\(text2)")
  }

  static let queueProfile = "[sysctl]\nnet.core.busy_read = 50\n[[interface]]\nname = \"va\"\nrps-cpus = \"0-1\"\n"

  /// Applies `queueProfile` to a `va` with 4 queues and ifindex 7; the value it wrote.
  static func applied(_ s: Scenario) throws -> String {
    s.kernel.addInterface("va", rx: 4, tx: 4, ifindex: 7)
    let outcome = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile(queueProfile), skipUnsupported: false)
    #expect(outcome.snapshot?.status == .complete)
    return try #require(s.kernel.get("/sys/class/net/va/queues/rx-0/rps_cpus"))
  }

  static func report(_ plan: Restorer.RestorePlan, _ made: Snapshot?) -> String {
    StateReport.rollback(
      plan, snapshot: made, dryRun: false, json: false, style: TextStyle(color: false), quiet: true, passedOver: [])
  }

  @Test func aRollbackFindsARenamedDeviceByItsIfindex() throws {
    let s = Scenario()
    #expect(try Self.applied(s) != "0")
    // `ip link set va name vb`: the same device, with the values bpstune gave it.
    s.kernel.renameInterface("va", to: "vb")
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let plan = restorer.plan(try #require(try restorer.candidate().snapshot))
    #expect(plan.items.filter { $0.action == .restore && $0.entry.setting.interface == "vb" }.count == 4)
    let made = try restorer.restore(plan, force: false)
    #expect(made.status == .complete)
    for q in 0..<4 { #expect(s.kernel.get("/sys/class/net/vb/queues/rx-\(q)/rps_cpus") == "0") }
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    let text = Self.report(plan, made)
    #expect(
      text.contains(": restored 5 of 5 settings; va was renamed to vb (ifindex 7): its settings are restored there"),
      "\(text)")
  }

  @Test func aNewDeviceGivenTheNameIsNotWrittenTheOldValues() throws {
    let s = Scenario()
    let tuned = try Self.applied(s)
    // `ip link del va` and a new va (another ifindex) that happens to hold what bpstune wrote:
    // by name alone, rollback would "restore" it.
    s.kernel.removeInterface("va")
    s.kernel.addInterface("va", rx: 4, tx: 4, ifindex: 9)
    for q in 0..<4 { s.kernel.set("/sys/class/net/va/queues/rx-\(q)/rps_cpus", tuned) }
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let plan = restorer.plan(try #require(try restorer.candidate().snapshot))
    #expect(plan.items.filter { $0.action == .gone }.count == 4)
    #expect(restorer.refusal(of: plan, force: false) == nil)
    let made = try restorer.restore(plan, force: true)
    #expect(made.status == .complete)
    for q in 0..<4 { #expect(s.kernel.get("/sys/class/net/va/queues/rx-\(q)/rps_cpus") == tuned) }
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    let text = Self.report(plan, made)
    #expect(
      text.contains(
        ": restored 1 of 5 settings; va was replaced by another device of that name (ifindex 7, now ifindex 9): "
          + "its 4 setting(s) went with the old one, and the new va is left as it is"), "\(text)")
  }

  @Test func manyDevicesGoneAreSummarized() throws {
    let s = Scenario()
    for n in 0..<8 { s.kernel.addInterface("v\(n)") }
    let text = "[sysctl]\nnet.core.busy_read = 50\n[[interface]]\nname = \"v*\"\nrps-cpus = \"0-1\"\n"
    _ = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile(text), skipUnsupported: false)
    for n in 0..<8 { s.kernel.removeInterface("v\(n)") }
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let plan = restorer.plan(try #require(try restorer.candidate().snapshot))
    #expect(plan.devices.count == 8)
    let report = Self.report(plan, try restorer.restore(plan, force: false))
    #expect(
      report.contains(
        "restored 1 of 9 settings; v0 is gone: its 1 setting(s) went with it (moved to another network namespace, "
          + "or deleted); v1 is gone"),
      "\(report)")
    #expect(
      report.contains(
        "v4 is gone: its 1 setting(s) went with it (moved to another network namespace, or deleted); and 3 more device(s) renamed or gone"
      ), "\(report)")
  }

  @Test func aDeviceRenamedMidApplyIsUndoneUnderItsNewName() throws {
    let s = Scenario()
    s.kernel.addInterface("va", rx: 8, tx: 8, ifindex: 7)
    let host = KernelHost(root: s.kernel.root)
    nonisolated(unsafe) var writes = 0
    host.afterWrite = { path in
      guard path.contains("/class/net/va/") else { return }
      writes += 1
      if writes == 3 { s.kernel.renameInterface("va", to: "vb") }
    }
    let text = "[sysctl]\nnet.core.busy_read = 50\n[[interface]]\nname = \"va\"\nrps-cpus = \"0-1\"\nxps-cpus = \"2\"\n"
    #expect {
      try Applier(executor: s.executor(host)).apply(try s.profile(text), skipUnsupported: false)
    } throws: { error in
      let e = "\(error)"
      return (error as! BPSTuneError).exitCode == 3
        && e.contains("va was renamed to vb during apply (ifindex 7): its settings were put back there")
        && e.contains("undid 4 change(s), the host is as before") && !e.contains("disappeared")
    }
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
    for q in 0..<8 {
      #expect(s.kernel.get("/sys/class/net/vb/queues/rx-\(q)/rps_cpus") == "0")
      #expect(s.kernel.get("/sys/class/net/vb/queues/tx-\(q)/xps_cpus") == "0")
    }
  }

  @Test func aDeviceReplacedMidApplyIsNotWrittenAnyMore() throws {
    let s = Scenario()
    s.kernel.addInterface("va", rx: 8, tx: 8, ifindex: 7)
    var executor = s.executor(KernelHost(root: s.kernel.root))
    // Between two writes, va is deleted and a new va made (a driver reload).
    executor.progress = { doing in
      guard doing.hasPrefix("writing va rx-3 ") else { return }
      s.kernel.removeInterface("va")
      s.kernel.addInterface("va", rx: 8, tx: 8, ifindex: 9)
    }
    #expect {
      try Applier(executor: executor).apply(try s.profile(Self.queueProfile), skipUnsupported: false)
    } throws: { error in
      let e = "\(error)"
      return (error as! BPSTuneError).exitCode == 3
        && e.contains("va rx-3 rps-cpus: not written: va is another device now (ifindex 7, now 9)")
        && e.contains("va was replaced during apply by another device of that name (ifindex 7, now ifindex 9)")
        && e.contains("undid 1 change(s), the host is as before")
    }
    // The new va has none of the profile's values.
    for q in 0..<8 { #expect(s.kernel.get("/sys/class/net/va/queues/rx-\(q)/rps_cpus") == "0") }
    #expect(s.kernel.get("/proc/sys/net/core/busy_read") == "0")
  }
}

/// A long list in a message: grouped by interface (by kind for system settings) and key, the
/// first few queues of a key named, then how many more; every one with -v (issue 27).
@Suite struct ListSummaryTests {
  static func queues(_ interface: String, _ prefix: String, _ key: String, _ count: Int, detail: (Int) -> String)
    -> [Printable.Item]
  {
    (0..<count).map {
      Printable.Item(SettingID(kind: "netdev", interface: interface, queue: "\(prefix)-\($0)", key: key), detail($0))
    }
  }

  @Test func aLongListIsGroupedByInterfaceKindAndKey() {
    let items =
      Self.queues("va", "rx", "rps-cpus", 64) { _ in " is 0, bpstune set 3" }
      + Self.queues("va", "tx", "xps-cpus", 64) { _ in " is 0, bpstune set 3" }
      + [
        Printable.Item(
          SettingID(kind: "netdev", interface: "va", key: "gro-flush-timeout"), " is 0, bpstune set 15000"),
        Printable.Item(SettingID(kind: "sysctl", key: "net.core.busy_read"), " is 0, bpstune set 50"),
      ]
    let e = BPSTuneError.conflicts(items)
    #expect(
      e.description.contains(
        "not overwritten without --force: va: gro-flush-timeout is 0, bpstune set 15000; "
          + "64 rps-cpus (rx-0, rx-1, rx-2 and 61 more) is 0, bpstune set 3; "
          + "64 xps-cpus (tx-0, tx-1, tx-2 and 61 more) is 0, bpstune set 3; sysctl: net.core.busy_read is 0, bpstune set 50 (-v lists every one); nothing was changed"
      ),
      "\(e.description)")
    // -v and JSON: every one.
    #expect(e.fullDescription.contains("va rx-63 rps-cpus is 0, bpstune set 3; va tx-0 xps-cpus"))
    #expect(StateReport.error(e, command: "rollback").contains("\"va tx-63 xps-cpus is 0, bpstune set 3\""))
  }

  @Test func queuesWithDifferentDetailsGiveEachOfTheFirstFew() {
    let items = Self.queues("va", "rx", "irq-cpus", 10) { " is 0, bpstune set \($0)" }
    let text = Printable.summary(items, limit: 5)
    #expect(
      text
        == "va: 10 irq-cpus (rx-0 is 0, bpstune set 0; rx-1 is 0, bpstune set 1; rx-2 is 0, bpstune set 2; and 7 more)",
      "\(text)")
  }

  @Test func manyInterfacesGiveTheFirstFewThenTheRestByName() {
    let items = (0..<20).map {
      Printable.Item(SettingID(kind: "netdev", interface: "v\($0)", key: "threaded"), ": no such file")
    }
    let text = Printable.summary(items, limit: 5, more: " (-v lists every one)")
    #expect(
      text
        == "v0: threaded: no such file; v1: threaded: no such file; v2: threaded: no such file; "
        + "v3: threaded: no such file; v4: threaded: no such file; and 15 more in v5, v6, v7 and 12 more (-v lists every one)",
      "\(text)")
  }

  @Test func aShortListIsGivenWhole() {
    let items = Self.queues("va", "rx", "rps-cpus", 6) { _ in " is 0, bpstune set 3" }
    #expect(Printable.summary(items, limit: 5) == items.map(\.text).joined(separator: "; "))
    // Items that are no settings (snapshot ids): the first few and how many more.
    #expect(
      Printable.summary((1...9).map { Printable.Item("id\($0)") }, limit: 3, separator: ", ")
        == "id1, id2, id3 and 6 more")
  }

  @Test func theUnsupportedSettingsOfAComparedProfileKeepItsName() {
    let items = Self.queues("va", "rx", "threaded", 8) { _ in ": needs Linux 6.13+" }.map {
      var item = $0
      item.scope = "napi-threaded"
      return item
    }
    let e = BPSTuneError.unsupportedSettings(items)
    #expect(
      e.description.contains("napi-threaded: va: 8 threaded (rx-0, rx-1, rx-2 and 5 more): needs Linux 6.13+"),
      "\(e.description)")
    #expect(e.fullDescription.contains("napi-threaded: va rx-7 threaded: needs Linux 6.13+"))
  }
}
