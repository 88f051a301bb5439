import TestSupport

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// eth0 with two rx queues, each served by its own NAPI (8193, 8194), on a modelled kernel.
struct NAPIScenario: ModelledHost {
  let base = Scenario()
  let netdev: FakeNetdev

  init(kernel: String = "7.0", links: Bool = true, napis: [UInt32] = [8193, 8194]) {
    netdev = FakeNetdev(FakeNetdev.kernel(kernel))
    netdev.links = links
    netdev.add("eth0", napiIDs: napis, rx: 2)
    base.kernel.set("/sys/class/net/eth0/ifindex", "2")
    base.kernel.set("/sys/class/net/eth0/flags", "0x1003")
    base.kernel.set("/proc/sys/kernel/sched_rt_runtime_us", "950000")
  }

  func host() -> KernelHost { KernelHost(root: base.kernel.root, netdev: netdev, scheduler: netdev) }

  /// "name: status reason-or-desired" per plan entry.
  func lines(_ plan: Plan) -> [String] {
    plan.entries.map { "\($0.id): \($0.status.rawValue) \($0.reason ?? $0.target.desired)" }
  }

  static let allFour = """
    [[interface]]
    name = "eth0"
    [interface.napi]
    threaded = "enabled"
    defer-hard-irqs = 100
    gro-flush-timeout = "15us"
    irq-suspend-timeout = 20000
    """
}
