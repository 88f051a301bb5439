import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct PlannerTests {
  @Test func plansByMeaningWithKernelRounding() throws {
    let s = Scenario()
    s.kernel.set("/proc/sys/net/core/busy_poll", "50")
    s.kernel.set("/sys/class/net/eth0/queues/rx-1/rps_cpus", "00000003")
    let plan = try Planner().plan(try s.profile(), on: KernelHost(root: s.kernel.root))
    let byName = Dictionary(uniqueKeysWithValues: plan.entries.map { ($0.id.description, $0) })
    #expect(byName["net.core.busy_read"]?.status == .change)
    #expect(byName["net.core.busy_poll"]?.status == .ok)
    #expect(byName["net.core.rps_sock_flow_entries"]?.target.desired == "128")
    #expect(byName["net.core.rps_sock_flow_entries"]?.target.note == "the kernel rounds 100 up to 128")
    #expect(byName["devices/virtual/workqueue/cpumask"]?.target.desired == "e")
    #expect(byName["eth0 rx-0 rps-cpus"]?.status == .change)
    #expect(byName["eth0 rx-1 rps-cpus"]?.status == .ok)  // "00000003" means 0-1
    #expect(byName["eth0 gro-flush-timeout"]?.target.desired == "15000")
    // Structure-free plan: system settings first, then device, then queues.
    #expect(plan.entries.map(\.target.phase) == plan.entries.map(\.target.phase).sorted())
  }

  @Test func missingSettingsAreUnsupportedWithAReason() throws {
    let s = Scenario()
    let profile = try s.profile(
      """
      [sysctl]
      net.core.busy_raed = 1
      net.core.busy_poll = 1
      [sysfs]
      "devices/system/cpu/smt/control" = "off"
      """)
    try FileManager.default.removeItem(atPath: s.kernel.root + "/proc/sys/net/core/busy_poll")
    let plan = try Planner().plan(profile, on: KernelHost(root: s.kernel.root))
    let reasons = plan.unsupported.map { "\($0.id): \($0.reason!)" }
    #expect(
      reasons.contains {
        $0.hasPrefix("net.core.busy_raed: no such sysctl") && $0.contains("did you mean net.core.busy_read?")
      })
    #expect(reasons.contains { $0.hasPrefix("net.core.busy_poll:") && $0.contains("initial network namespace") })
    #expect(reasons.contains { $0.hasPrefix("devices/system/cpu/smt/control: no such file") })
  }

  /// Only the net.* sysctls outside the per-namespace ones are missing for want of the initial
  /// network namespace; a missing kernel.* or vm.* sysctl is one this kernel lacks.
  @Test func missingKernelAndVMSysctlsAreNotBlamedOnTheNetworkNamespace() throws {
    let s = Scenario()
    s.kernel.set("/proc/sys/kernel/soft_watchdog", "1")
    s.kernel.set("/proc/sys/vm/swappiness", "60")
    let profile = try s.profile(
      """
      [sysctl]
      kernel.nmi_watchdog = 0
      kernel.numa_balancing = 0
      vm.stat_interval = 10
      net.core.netdev_budget = 600
      """)
    let plan = try Planner().plan(profile, on: KernelHost(root: s.kernel.root))
    #expect(
      plan.unsupported.map { "\($0.id): \($0.reason!)" } == [
        "kernel.nmi_watchdog: no such sysctl on this kernel (did you mean kernel.soft_watchdog?)",
        "kernel.numa_balancing: no such sysctl on this kernel",
        "net.core.netdev_budget: no /proc/sys/net/core/netdev_budget: a global sysctl, present only in the initial network namespace",
        "vm.stat_interval: no such sysctl on this kernel",
      ])
    #expect(SysctlKnob.known.filter(\.value.initialNetnsOnly).keys.allSatisfy { $0.hasPrefix("net.") })
  }

  /// A queue file is read, not stat(2)ed, to see that it is there: only an open that fails with
  /// ENOENT makes it absent; a file that opens but cannot be read is a read failure, named.
  @Test func aQueueFileThatIsAbsentDiffersFromOneThatCannotBeRead() throws {
    let s = Scenario()
    s.kernel.addInterface("eth5", rx: 3, tx: 1)
    try FileManager.default.removeItem(atPath: s.kernel.root + "/sys/class/net/eth5/queues/rx-1/rps_cpus")
    // A directory opens read-only, and is refused before any read: a kernel file is regular.
    try FileManager.default.removeItem(atPath: s.kernel.root + "/sys/class/net/eth5/queues/rx-2/rps_cpus")
    try FileManager.default.createDirectory(
      atPath: s.kernel.root + "/sys/class/net/eth5/queues/rx-2/rps_cpus", withIntermediateDirectories: false)
    let plan = try Planner().plan(
      try s.profile("[[interface]]\nname = \"eth5\"\nrps-cpus = \"1\"\n"), on: KernelHost(root: s.kernel.root))
    let byName = Dictionary(uniqueKeysWithValues: plan.entries.map { ($0.id.description, $0) })
    #expect(byName["eth5 rx-0 rps-cpus"]?.status == .change)
    #expect(byName["eth5 rx-1 rps-cpus"]?.status == .unsupported)
    #expect(byName["eth5 rx-1 rps-cpus"]?.reason == "eth5 has no queues/rx-1/rps_cpus")
    #expect(byName["eth5 rx-2 rps-cpus"]?.status == .unsupported)
    #expect(byName["eth5 rx-2 rps-cpus"]?.reason?.hasPrefix("cannot read: ") == true)
    #expect(byName["eth5 rx-2 rps-cpus"]?.reason?.contains("not a regular file") == true)
  }

  @Test func aMissingInterfaceIsAnErrorAndAGlobMatchingNothingAWarning() throws {
    let s = Scenario()
    #expect(
      s.planError("[[interface]]\nname = \"eht0\"\nthreaded = 1\n")?
        .contains("interface eht0 does not exist on this host (did you mean eth0?)") == true)
    let plan = try Planner().plan(
      try s.profile("[[interface]]\nname = \"ens*\"\nthreaded = 1\n"), on: KernelHost(root: s.kernel.root))
    #expect(plan.warnings.count == 1)
    #expect(plan.entries.isEmpty)
  }

  @Test func nonexistentCPUsAreRefusedBeforeApply() throws {
    let s = Scenario()
    #expect(
      s.planError("[[interface]]\nname = \"eth0\"\nrps-cpus = \"0-9\"\n")?.contains("CPU 4-9 does not exist") == true)
  }

  @Test func sysfsSymlinksOutOfSysAreRefused() throws {
    let s = Scenario()
    let outside = TemporaryDirectory("bpstune-outside")
    outside.write("secret", "x\n")
    try FileManager.default.createDirectory(atPath: s.kernel.root + "/sys/kernel", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: s.kernel.root + "/sys/kernel/evil", withDestinationPath: outside.path + "/secret")
    #expect(s.planError("[sysfs]\n\"kernel/evil\" = \"y\"\n")?.contains("resolves to a file outside /sys") == true)
    #expect(outside.read("secret") == "x\n")
  }
}
