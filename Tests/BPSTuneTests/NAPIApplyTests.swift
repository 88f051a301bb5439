import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

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
    let kthread = try #require(plan.entries.first { $0.id.kind == .kthread })
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
