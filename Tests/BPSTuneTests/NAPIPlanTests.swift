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
