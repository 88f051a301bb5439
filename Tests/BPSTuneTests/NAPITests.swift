import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct NAPIPlanTests {
  @Test func eachKernelShowsWhatItLacksAndFallsBackToDeviceSysfs() throws {
    let old = NAPIScenario(kernel: "6.1")
    let plan61 = try old.plan(NAPIScenario.allFour)
    #expect(
      old.lines(plan61) == [
        "eth0 threaded: change 1", "eth0 napi-defer-hard-irqs: change 100", "eth0 gro-flush-timeout: change 15000",
        "eth0 rx-0 irq-suspend-timeout: unsupported needs Linux 6.13+ (netdev netlink napi-set); there is no sysfs file for it",
        "eth0 rx-1 irq-suspend-timeout: unsupported needs Linux 6.13+ (netdev netlink napi-set); there is no sysfs file for it",
      ])
    #expect(plan61.entries[0].target.note?.contains("falls back to device sysfs threaded") == true)

    let v613 = NAPIScenario(kernel: "6.13")
    let lines613 = v613.lines(try v613.plan(NAPIScenario.allFour))
    #expect(lines613.contains("eth0 threaded: change 1"))
    #expect(lines613.contains("eth0 rx-1 defer-hard-irqs: change 100"))
    #expect(lines613.contains("eth0 rx-0 irq-suspend-timeout: change 20000"))

    let v618 = NAPIScenario(kernel: "6.18")
    let lines618 = v618.lines(
      try v618.plan(NAPIScenario.allFour.replacingOccurrences(of: "enabled", with: "busy-poll")))
    #expect(lines618.contains("eth0 rx-0 threaded: unsupported needs Linux 6.19+ (threaded busy-poll)"))
    #expect(lines618.contains("eth0 rx-0 defer-hard-irqs: change 100"))
  }

  @Test func aSubsetOfQueuesCannotFallBackToTheDeviceFile() throws {
    let s = NAPIScenario(kernel: "6.12")
    let lines = s.lines(
      try s.plan(
        NAPIScenario.allFour.replacingOccurrences(of: "[interface.napi]", with: "[interface.napi]\nqueues = [0]")))
    #expect(
      lines.contains(
        "eth0 rx-0 defer-hard-irqs: unsupported needs Linux 6.13+ (netdev netlink napi-set); device sysfs napi_defer_hard_irqs would set every NAPI of eth0 (select every rx queue to use it)"
      ), "\(lines)")
    #expect(!lines.contains { $0.hasPrefix("eth0 rx-1") })
  }

  @Test func theFallbackRefusesToContradictTheDeviceKey() {
    let s = NAPIScenario(kernel: "6.12")
    let text = NAPIScenario.allFour.replacingOccurrences(
      of: "name = \"eth0\"", with: "name = \"eth0\"\nnapi-defer-hard-irqs = 5")
    #expect(
      thrownText { try s.plan(text) }?.contains(
        "eth0 napi defer-hard-irqs: this kernel sets it through device sysfs napi_defer_hard_irqs, which the profile also sets to 5"
      ) == true)
  }

  @Test func queuesMapToNAPIsByLinkOrByOrder() throws {
    let linked = NAPIScenario(napis: [9001, 8193])
    // Linked: rx-0 is served by 9001 as queue-get says, not by the lowest id.
    #expect(try NAPIDevice.resolve("eth0", on: linked.host()).napi(serving: "rx-0").id == 9001)
    let ordered = NAPIScenario(links: false, napis: [9001, 8193])
    let device = try NAPIDevice.resolve("eth0", on: ordered.host())
    #expect(device.byOrder)
    #expect(try device.napi(serving: "rx-0").id == 8193)
    let unclear = NAPIScenario(links: false, napis: [1, 2, 3])
    let lines = unclear.lines(try unclear.plan(NAPIScenario.allFour))
    #expect(
      lines.contains(
        "eth0 rx-0 threaded: unsupported cannot tell which NAPI serves which rx queue: the driver does not link them and eth0 has 3 NAPIs for 2 rx queues"
      ), "\(lines)")
  }

  @Test func aKthreadNeedsAThreadedNAPI() throws {
    let s = NAPIScenario()
    let lines = s.lines(
      try s.plan(
        """
        [[interface]]
        name = "eth0"
        napi = { queues = [1], kthread = { cpus = "1" } }
        """))
    #expect(
      lines == [
        "eth0 rx-1 kthread: unsupported eth0 rx-1's NAPI has no kthread: it is not threaded (set threaded in [interface.napi])"
      ])
  }

  @Test func profileMistakesAreNamed() {
    let s = NAPIScenario()
    func error(_ napi: String) -> String? {
      s.base.planError("[[interface]]\nname = \"eth0\"\n[interface.napi]\n" + napi)
    }
    #expect(error("threded = \"enabled\"")?.contains("napi.threded: unknown NAPI key (did you mean threaded?)") == true)
    #expect(
      error("threaded = \"busypoll\"")?.contains("is not one of disabled, enabled, busy-poll (did you mean busy-poll?)")
        == true)
    #expect(error("kthread = { priority = 50 }")?.contains("a priority needs a policy") == true)
    #expect(error("kthread = { policy = \"fifo\" }")?.contains("policy \"fifo\" needs a priority from 1 to 99") == true)
    #expect(error("kthread = { policy = \"fifo\", priority = 100 }")?.contains("100 is out of range") == true)
    #expect(
      error("threaded = \"disabled\"\nkthread = { cpus = \"1\" }")?.contains("has no kthread to schedule") == true)
    #expect(error("queues = [0, 0]\nthreaded = \"enabled\"")?.contains("queue 0 is named twice") == true)
    #expect(error("defer-hard-irqs = -1")?.contains("out of range") == true)
    #expect(error("threaded = \"enabled\"\nkthread = { cpus = \"7\" }")?.contains("CPU 7 is not online") == true)
  }
}

@Suite struct NAPIApplyTests {
  static let busyPoll = """
    [[interface]]
    name = "eth0"
    [interface.napi]
    queues = [0]
    threaded = "busy-poll"
    defer-hard-irqs = 100
    kthread = { policy = "fifo", priority = 50, cpus = "2" }
    """

  @Test func threadedFirstThenTheNewKthreadIsScheduledAndRollbackUndoesAll() throws {
    let s = NAPIScenario()
    let before = s.netdev.napis
    let outcome = try s.apply(Self.busyPoll)
    #expect(
      outcome.snapshot?.entries.map(\.setting.description) == [
        "eth0 rx-0 threaded", "eth0 rx-0 defer-hard-irqs", "eth0 rx-0 kthread",
      ])
    #expect(s.netdev.kthread("eth0") == ThreadSchedule(policy: 1, priority: 50, cpus: CPUSet([2])))
    #expect(s.netdev.napis["eth0"]![1] == before["eth0"]![1], "rx-1's NAPI is not touched")
    let pid = s.netdev.napis["eth0"]![0].pid!
    #expect(
      s.netdev.log == [
        "eth0 napi-set 8193 \(NAPIChange(threaded: 2))", "eth0 napi-set 8193 \(NAPIChange(deferHardIRQs: 100))",
        "sched \(pid) 1 50", "affinity \(pid) 2",
      ])
    #expect(try s.plan(Self.busyPoll).changes.isEmpty)
    _ = try s.rollback()
    #expect(s.netdev.napis == before)
    #expect(s.netdev.threads.isEmpty)
  }

  @Test func turningThreadedOffRecordsTheKthreadSoRollbackGivesItBack() throws {
    let s = NAPIScenario()
    _ = try s.apply(Self.busyPoll)
    let off = try s.apply("[[interface]]\nname = \"eth0\"\nnapi = { threaded = \"disabled\" }")
    #expect(
      off.snapshot?.entries.map { "\($0.setting) \($0.before) -> \($0.after)" } == [
        "eth0 rx-0 threaded busy-poll -> disabled", "eth0 rx-0 kthread policy=fifo priority=50 cpus=2 -> none",
      ])
    #expect(s.netdev.threads.isEmpty)
    _ = try s.rollback()
    // A new kthread (new pid), scheduled as the first apply left it.
    #expect(s.netdev.kthread("eth0") == ThreadSchedule(policy: 1, priority: 50, cpus: CPUSet([2])))
    _ = try s.rollback()
    #expect(s.netdev.threads.isEmpty && s.netdev.napis["eth0"]![0].threaded == 0)
  }

  @Test func aDeviceThreadedChangeWritesTheKthreadAgain() throws {
    let s = NAPIScenario()
    _ = try s.apply(Self.busyPoll)
    s.base.kernel.set("/sys/class/net/eth0/threaded", "1")
    let plan = try s.plan(
      Self.busyPoll.replacingOccurrences(of: "name = \"eth0\"", with: "name = \"eth0\"\nthreaded = false"))
    let kthread = try #require(plan.entries.first { $0.id.kind == "kthread" })
    #expect(kthread.status == .change && kthread.target.note?.contains("written again") == true)
  }

  @Test func aBusyPollingFIFOKthreadIsWarnedAbout() throws {
    let s = NAPIScenario()
    s.base.kernel.set("/proc/irq/33/smp_affinity_list", "2-3")
    let plan = try s.plan(
      Self.busyPoll + "\n[variables]\napp-cpus = \"2\"\n[sysctl]\nkernel.sched_rt_runtime_us = -1\n")
    let warnings = plan.warnings.joined(separator: "\n")
    #expect(
      warnings.contains("eth0 rx-0 kthread (SCHED_FIFO, busy-poll) shares CPU 2 with eth0's queue IRQ 33"),
      "\(warnings)")
    #expect(warnings.contains("shares CPU 2 with the application CPUs (app-cpus 2)"))
    #expect(warnings.contains("with kernel.sched_rt_runtime_us = -1 never yields CPU 2"))
  }

  @Test func aKernelRefusalIsUndoneAndNamesTheKernelsWords() throws {
    let s = NAPIScenario()
    s.netdev.refuses = true  // the probe said busy-poll; the kernel refuses it anyway
    let before = s.netdev.napis
    let message = thrownText { try s.apply(Self.busyPoll) }
    #expect(
      message
        == "eth0 rx-0 threaded: the kernel refused busy-poll: integer out of range: Numerical result out of range (ERANGE); undid 0 change(s), the host is as before",
      "\(message ?? "")")
    #expect(s.netdev.napis == before)
  }
}

/// Fault injection over a plan that writes every kind: sysctl, sysfs, channels (re-creating
/// queues), coalescing, features, per-NAPI values and the NAPI kthread. Write k fails, for
/// every k: the host ends exactly as before and the apply exits 3.
@Suite struct EveryKindFaultTests {
  @Test func aFailureAtAnyWriteUndoesEveryKindOfSetting() throws {
    let base = NICScenario()
    let netdev = FakeNetdev()
    netdev.add("eth0", napiIDs: [8193, 8194], rx: 2)
    base.base.kernel.set("/sys/class/net/eth0/ifindex", "2")
    base.base.kernel.set("/sys/class/net/eth0/flags", "0x1003")
    base.nic.devices["eth0"]?.channels.current = [0, 0, 1, 2]
    func host() -> KernelHost {
      KernelHost(root: base.base.kernel.root, ethtool: base.nic, netdev: netdev, scheduler: netdev)
    }
    func everything() -> String {
      "\(base.base.everything().sorted { $0.key < $1.key })\n\(base.devices())\n\(netdev.napis)\n\(netdev.threads)"
    }
    let text = """
      [sysctl]
      net.core.busy_read = 50
      [[interface]]
      name = "eth0"
      channels = { combined = 2 }
      coalesce = { rx-usecs = 100 }
      features = { rx-gro = false }
      rps-cpus = "1"
      [interface.napi]
      queues = [0]
      threaded = "enabled"
      defer-hard-irqs = 100
      kthread = { policy = "fifo", priority = 50, cpus = "2" }
      """
    let profile = try base.base.profile(text)
    let before = everything()
    // Count the writes of a whole apply, then undo it.
    let counting = host()
    var total = 0
    counting.beforeWrite = { _ in total += 1 }
    _ = try Applier(executor: base.base.executor(counting)).apply(profile, skipUnsupported: false)
    let restorer = Restorer(executor: base.base.executor(host()))
    _ = try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: false)
    #expect(everything() == before)
    #expect(total >= 9, "sysctl, channels, coalesce, features, 2 rps, 2 napi-set, 2 sched calls: \(total)")
    for k in 0..<total {
      let h = host()
      var writes = 0
      h.beforeWrite = { what in
        defer { writes += 1 }
        if writes == k { throw SystemError("write", what, .invalidArgument) }
      }
      let message = thrownText { try Applier(executor: base.base.executor(h)).apply(profile, skipUnsupported: false) }
      #expect(message?.contains("the host is as before") == true, "write \(k): \(message ?? "no error")")
      #expect(everything() == before, "write \(k) failed and the host was not restored")
    }

    // The same failures with every undo write failing too: exit 4, naming each setting left
    // changed, in the message and in the snapshot; a later rollback of that snapshot, with
    // the kernel accepting writes again, still restores everything.
    for k in 1..<total {
      let h = host()
      var writes = 0
      h.beforeWrite = { what in
        defer { writes += 1 }
        if writes >= k { throw SystemError("write", what, .resourceBusy) }
      }
      let executor = base.base.executor(h)
      var left: [String] = []
      do {
        _ = try Applier(executor: executor).apply(profile, skipUnsupported: false)
      } catch .failedPartially(_, _, let names) {
        left = names.map(\.text)
      } catch {
        Issue.record("write \(k): expected exit 4, got \(error)")
      }
      #expect(!left.isEmpty, "write \(k): settings left changed are named")
      let failed = try #require(try executor.store.all().compactMap { try? $0.get() }.last)
      #expect(failed.status == .failed && failed.leftChanged == left, "write \(k): \(failed.leftChanged ?? [])")
      #expect(everything() != before, "write \(k): the host really is left changed")
      let restorer = Restorer(executor: base.base.executor(host()))
      _ = try restorer.restore(restorer.plan(failed), force: false)
      #expect(everything() == before, "write \(k): rollback of the failed apply restores the host")
    }
  }
}
