import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

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
