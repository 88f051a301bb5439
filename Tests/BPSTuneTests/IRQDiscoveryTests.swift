import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct IRQDiscoveryTests {
  @Test func igbIxgbeI40eMlx5AndVirtioNamesMapToQueues() {
    let igb = IRQScenario()
    igb.irqs([24: "eth0", 25: "eth0-TxRx-0", 26: "eth0-TxRx-1", 27: "eth0-TxRx-2", 28: "eth0-TxRx-3"])
    #expect(igb.queueIRQs() == ["25 eth0-TxRx-0 q0", "26 eth0-TxRx-1 q1", "27 eth0-TxRx-2 q2", "28 eth0-TxRx-3 q3"])

    let split = IRQScenario()  // igb with separate rx and tx vectors
    split.irqs([40: "eth0-rx-0", 41: "eth0-rx-1", 42: "eth0-tx-0", 43: "eth0-tx-1", 44: "eth0"])
    #expect(split.queueIRQs() == ["40 eth0-rx-0 q0", "42 eth0-tx-0 q0", "41 eth0-rx-1 q1", "43 eth0-tx-1 q1"])

    let i40e = IRQScenario()
    i40e.irqs([60: "i40e-0000:3b:00.0:misc", 61: "i40e-eth0-TxRx-0", 62: "i40e-eth0-TxRx-1"])
    #expect(i40e.queueIRQs() == ["61 i40e-eth0-TxRx-0 q0", "62 i40e-eth0-TxRx-1 q1"])

    let mlx5 = IRQScenario()
    mlx5.irqs([
      80: "mlx5_async0@pci:0000:03:00.0", 81: "mlx5_comp0@pci:0000:03:00.0", 82: "mlx5_comp1@pci:0000:03:00.0",
    ])
    #expect(mlx5.queueIRQs() == ["81 mlx5_comp0@pci:0000:03:00.0 q0", "82 mlx5_comp1@pci:0000:03:00.0 q1"])

    // virtio: the vectors belong to the PCI device above virtioN.
    let virtio = IRQScenario()
    virtio.base.kernel.set("/sys/class/net/eth0/device/uevent", "DRIVER=virtio_net")
    virtio.irqs([37: "virtio2-config", 38: "virtio2-input.0", 39: "virtio2-output.0"], msiDir: "msi_irqs")
    #expect(virtio.queueIRQs() == ["38 virtio2-input.0 q0", "39 virtio2-output.0 q0"])

    let veth = IRQScenario()
    veth.base.kernel.addInterface("veth0")
    #expect(
      veth.queueIRQs("veth0") == ["veth0 has no queue IRQs (no MSI vectors: a virtual device polls without them)"])
  }

  @Test func napiGetsIRQAttributeNamesTheQueueWhereTheNameDoesNot() throws {
    let s = NAPIScenario()
    let irq = IRQScenario(base: s.base)
    irq.irqs([30: "eth0-fast-a", 31: "eth0-fast-b", 32: "eth0"])
    s.netdev.napis["eth0"]![0].irq = 31
    s.netdev.napis["eth0"]![1].irq = 30
    switch QueueIRQs.discover("eth0", on: s.host()) {
    case .success(let irqs): #expect(irqs.map { "\($0.number) q\($0.queue)" } == ["31 q0", "30 q1"])
    case .failure(let why): Issue.record("\(why.reason)")
    }
  }

  @Test func showPrintsTheEffectiveAffinityBesideTheRequestedOne() {
    let s = IRQScenario()
    s.irqs([25: "eth0-TxRx-0", 26: "eth0"])
    let shown = IRQKnob().show(on: s.host(), interfaces: ["eth0"]).map { "\($0.id): \($0.value ?? "-")" }
    #expect(shown == ["eth0 irq eth0-TxRx-0: IRQ 25: 0-3 (effective 0)"])
  }

  @Test func spreadAllExceptAndManagedIRQs() throws {
    let s = IRQScenario()
    s.irqs([24: "eth0", 25: "eth0-TxRx-0", 26: "eth0-TxRx-1", 27: "eth0-TxRx-2"], managed: [27])
    let spread = try s.lines(
      "[[interface]]\nname = \"eth0\"\nirq-affinity = { cpus = \"@online\", except = \"0\", mode = \"spread\" }")
    #expect(
      spread == [
        "eth0 irq eth0-TxRx-0: change 1", "eth0 irq eth0-TxRx-1: change 2",
        "eth0 irq eth0-TxRx-2: unsupported IRQ 27 is managed by the kernel (its affinity file is read-only)",
      ])
    let all = try s.lines("[[interface]]\nname = \"eth0\"\nirq-affinity = \"0-3\"")
    #expect(all.prefix(2) == ["eth0 irq eth0-TxRx-0: ok 0-3", "eth0 irq eth0-TxRx-1: ok 0-3"])
    #expect(
      s.base.planError("[[interface]]\nname = \"eth0\"\nirq-affinity = \"5\"")?.contains(
        "eth0 irq-affinity: CPU 5 is not online (online: 0-3)") == true)
    #expect(
      s.base.planError("[[interface]]\nname = \"eth0\"\nirq-affinity = { cpus = \"1\", except = \"1\" }")?.contains(
        "no CPU is left after except") == true)
    #expect(
      s.base.planError("[[interface]]\nname = \"eth0\"\nirq-affinity = { cpus = \"1\", mode = \"spred\" }")?.contains(
        "did you mean spread?") == true)
  }

  @Test func recordedByNameSoRollbackFindsRenumberedIRQs() throws {
    let s = IRQScenario()
    s.irqs([25: "eth0-TxRx-0", 26: "eth0-TxRx-1"])
    let text =
      "[[interface]]\nname = \"eth0\"\nirq-affinity = { cpus = \"2-3\", mode = \"spread\" }\n[irq]\ndefault-affinity = \"1\""
    s.base.kernel.set("/proc/irq/default_smp_affinity", "f")
    let outcome = try Applier(executor: s.base.executor(s.host())).apply(
      try s.base.profile(text), skipUnsupported: false)
    #expect(
      outcome.snapshot?.entries.map(\.setting.description) == [
        "default-affinity", "eth0 irq eth0-TxRx-0", "eth0 irq eth0-TxRx-1",
      ])
    #expect(s.base.kernel.get("/proc/irq/26/smp_affinity_list") == "3")
    #expect(s.base.kernel.get("/proc/irq/default_smp_affinity") == "2")
    // The driver re-created its vectors with new numbers (as after a change of channels).
    let s2 = s
    s2.irqs([31: "eth0-TxRx-0", 32: "eth0-TxRx-1"])
    s2.base.kernel.set("/proc/irq/31/smp_affinity_list", "2")
    s2.base.kernel.set("/proc/irq/32/smp_affinity_list", "3")
    let restorer = Restorer(executor: s2.base.executor(s2.host()))
    _ = try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: false)
    #expect(s2.base.kernel.get("/proc/irq/31/smp_affinity_list") == "0-3")
    #expect(s2.base.kernel.get("/proc/irq/32/smp_affinity_list") == "0-3")
    #expect(s2.base.kernel.get("/proc/irq/default_smp_affinity") == "f")
  }

  @Test func aRunningIrqbalanceIsWarnedAboutWithItsBannedCPUs() throws {
    let s = IRQScenario()
    s.irqs([25: "eth0-TxRx-0", 26: "eth0-TxRx-1"])
    s.base.kernel.set("/proc/812/comm", "irqbalance")
    s.base.kernel.set("/proc/812/environ", "PATH=/usr/bin\u{0}IRQBALANCE_BANNED_CPULIST=2\u{0}")
    let text = "[[interface]]\nname = \"eth0\"\nirq-affinity = { cpus = \"2-3\", mode = \"spread\" }"
    let warnings = try Planner().plan(try s.base.profile(text), on: s.host()).warnings
    #expect(
      warnings == [
        "irqbalance (pid 812) is running and can move the pinned IRQs again: its banned CPUs (2) do not cover CPU 3"
      ])
    s.base.kernel.set("/proc/812/environ", "IRQBALANCE_BANNED_CPUS=c\u{0}")
    #expect(
      try Planner().plan(try s.base.profile(text), on: s.host()).warnings == [
        "irqbalance (pid 812) is running; its banned CPUs 2-3 cover the pinned CPUs"
      ])
  }
}
