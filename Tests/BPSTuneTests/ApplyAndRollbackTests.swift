import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

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
      try #require(KnobRegistry.knob(for: entry.setting.kind)).write(entry.setting, entry.after, on: host)
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
