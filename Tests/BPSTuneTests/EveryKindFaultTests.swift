import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

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
