import Foundation
import TestSupport

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// Queue IRQs on recorded /proc/interrupts and sysfs trees of real drivers.
struct IRQScenario {
  var base = Scenario()

  /// Lays out IRQs: number -> action name, the device's msi_irqs, and affinity files
  /// (read-only for managed IRQs).
  func irqs(
    _ names: [Int: String], interface: String = "eth0", msiDir: String = "device/msi_irqs", managed: Set<Int> = []
  ) {
    var lines = ["           CPU0       CPU1       CPU2       CPU3"]
    for (n, name) in names.sorted(by: { $0.key < $1.key }) {
      lines.append(String(format: "%4d: 0 0 0 0 IR-PCI-MSIX-0000:03:00.0 %d-edge %@", n, n, name))
      base.kernel.set("/sys/class/net/\(interface)/\(msiDir)/\(n)", "msix")
      base.kernel.set("/proc/irq/\(n)/smp_affinity_list", "0-3")
      base.kernel.set("/proc/irq/\(n)/effective_affinity_list", "0")
      if managed.contains(n) { chmod(base.kernel.root + "/proc/irq/\(n)/smp_affinity_list", 0o444) }
    }
    lines.append(" NMI: 0 0 0 0 Non-maskable interrupts")
    base.kernel.set("/proc/interrupts", lines.joined(separator: "\n"))
  }

  func host() -> KernelHost { KernelHost(root: base.kernel.root) }

  func queueIRQs(_ interface: String = "eth0") -> [String] {
    switch QueueIRQs.discover(interface, on: host()) {
    case .success(let irqs): irqs.map { "\($0.number) \($0.name) q\($0.queue)" }
    case .failure(let why): [why.reason]
    }
  }

  func lines(_ text: String) throws -> [String] {
    try Planner().plan(try base.profile(text), on: host()).entries.map {
      "\($0.id): \($0.status.rawValue) \($0.reason ?? $0.target.desired)"
    }
  }
}
