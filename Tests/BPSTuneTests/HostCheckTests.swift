import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// The host checks of `show` and the plan's warnings about the host, on a fake tree.
struct HostCheckTests {
  @Test func showAndWarningsNameNUMAIOMMUAndIsolation() throws {
    let s = Scenario.cpuHost()
    s.kernel.set("/sys/class/net/eth0/device/numa_node", "0")
    s.kernel.set("/sys/class/net/eth0/device/local_cpulist", "0-1")
    s.kernel.set("/sys/kernel/iommu_groups/0/type", "DMA-FQ")
    s.kernel.set("/sys/kernel/iommu_groups/1/type", "DMA-FQ")
    s.kernel.set("/sys/devices/system/cpu/isolated", "3")
    s.kernel.set("/sys/devices/system/cpu/nohz_full", "(null)")
    let host = KernelHost(root: s.kernel.root)
    let shown = Dictionary(
      uniqueKeysWithValues: HostChecks.show(on: host, interfaces: ["eth0"]).map { ($0.id.description, $0.value ?? "") })
    #expect(shown["host iommu"] == "on (2 groups, DMA-FQ)")
    #expect(shown["host smt"] == "on, no siblings online")
    #expect(shown["host isolcpus"] == "3" && shown["host nohz_full"] == "(none)")
    #expect(shown["eth0 numa-node"] == "0" && shown["eth0 local-cpus"] == "0-1")
    #expect(HostChecks.siblings(of: CPUSet([2]), on: host) == CPUSet([3]))

    let text = """
      [variables]
      app-cpus = "2-3"
      [sysctl]
      net.core.busy_read = 50
      [[interface]]
      name = "eth0"
      rps-cpus = "0"
      """
    let warnings = try Planner().plan(try s.profile(text), on: host).warnings
    #expect(warnings.contains("app-cpus 2-3 are not on eth0's NUMA node 0 (local: 0-1)"))
    #expect(warnings.contains { $0.hasPrefix("the IOMMU is on (2 groups, DMA-FQ): the Intel guide") })
    // Asking for the IOMMU off at boot is the needs-reboot line, not a warning as well.
    let asked = try Planner().plan(try s.profile(text + "\n[cmdline]\nintel_iommu = \"off\""), on: host)
    #expect(!asked.warnings.contains { $0.hasPrefix("the IOMMU is") })
    s.kernel.set("/sys/kernel/iommu_groups/0/type", "identity")
    s.kernel.set("/sys/kernel/iommu_groups/1/type", "identity")
    #expect(HostChecks.iommu(on: KernelHost(root: s.kernel.root)) == "passthrough")
  }

  /// A busy-poll kthread's CPU: not isolated, ticking, and an SMT sibling of an app CPU.
  @Test func theBusyPollKthreadsCPUIsCheckedForIsolation() throws {
    let s = Scenario.cpuHost()
    s.kernel.set("/sys/devices/system/cpu/isolated", "")
    let host = KernelHost(root: s.kernel.root)
    let profile = try s.profile("[variables]\napp-cpus = \"3\"\n[sysctl]\nnet.core.busy_poll = 0")
    func entry(_ kind: SettingKind, _ key: String, _ desired: String) -> PlanEntry {
      PlanEntry(
        target: Target(
          id: SettingID(kind: kind, interface: "eth0", queue: "rx-0", key: key), desired: desired, semantics: .text,
          phase: .thread, origin: "t"), current: nil, status: .change)
    }
    let entries = [
      entry(.napi, "threaded", "busy-poll"), entry(.kthread, "kthread", "policy=fifo priority=50 cpus=2"),
    ]
    let warnings = HostChecks.warnings(
      for: PlanRequest(profile: profile, host: host, interfaces: []), entries: entries)
    #expect(
      warnings.contains {
        $0.hasPrefix(
          "eth0 rx-0 busy-poll kthread's CPU 2 is not in isolcpus= (isolated: (none)) or nohz_full= ((none))")
      })
    #expect(
      warnings.contains("eth0 rx-0 busy-poll kthread's CPU 2 is an SMT sibling of app CPU(s) 3: they share a core"))
    s.kernel.set("/sys/devices/system/cpu/isolated", "2")
    s.kernel.set("/sys/devices/system/cpu/nohz_full", "2")
    s.kernel.set("/sys/devices/system/cpu/cpu2/topology/thread_siblings_list", "2")
    let quiet = HostChecks.warnings(
      for: PlanRequest(profile: profile, host: KernelHost(root: s.kernel.root), interfaces: []), entries: entries)
    #expect(quiet.isEmpty, "\(quiet)")
  }
}
