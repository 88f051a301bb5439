import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// [sysfs] globs, [cpu] and [cmdline] on temporary /proc and /sys trees (issue 17).
struct HostHalfTests {
  func applyAndRollBack(_ s: Scenario, _ text: String, check: () -> Void) throws {
    let before = s.everything()
    let executor = s.executor(KernelHost(root: s.kernel.root))
    let outcome = try Applier(executor: executor).apply(try s.profile(text), skipUnsupported: false)
    #expect(outcome.snapshot?.status == .complete)
    check()
    let restorer = Restorer(executor: s.executor(KernelHost(root: s.kernel.root)))
    let source = try #require(try restorer.candidate().snapshot)
    #expect(try restorer.restore(restorer.plan(source), force: false).status == .complete)
    #expect(s.everything() == before)
  }

  @Test func sysfsGlobsAreOneSettingPerFileAndNeverTheGlobalMask() throws {
    let s = Scenario.cpuHost()
    let text = """
      [sysfs]
      "devices/virtual/workqueue/*/cpumask" = "1-2"
      "devices/virtual/workqueue/writeback/cpumask" = "3"
      "devices/system/cpu/cpu*/power/pm_qos_resume_latency_us" = 20
      "devices/nothing*/x" = 1
      """
    let plan = try Planner().plan(try s.profile(text), on: KernelHost(root: s.kernel.root))
    // Glob matches first (in natural order), then the file named on its own, which wins.
    #expect(
      plan.entries.map(\.id.key) == (0..<4).map { "devices/system/cpu/cpu\($0)/power/pm_qos_resume_latency_us" } + [
        "devices/virtual/workqueue/blkcg_punt_bio/cpumask", "devices/virtual/workqueue/writeback/cpumask",
      ])
    #expect(plan.entries.last?.target.desired == "8")
    #expect(plan.warnings.contains { $0.contains("\"devices/nothing*/x\" matches no file below /sys") })
    try applyAndRollBack(s, text) {
      #expect(s.kernel.get("/sys/devices/virtual/workqueue/blkcg_punt_bio/cpumask") == "6")
      #expect(s.kernel.get("/sys/devices/virtual/workqueue/writeback/cpumask") == "8")
      #expect(s.kernel.get("/sys/devices/virtual/workqueue/cpumask") == "f")
      #expect(s.kernel.get("/sys/devices/system/cpu/cpu3/power/pm_qos_resume_latency_us") == "20")
    }
    #expect(s.planError("[sysfs]\n\"devices/../x*\" = 1")?.contains(". or .. component") == true)
    #expect(SysfsKnob().rejection(of: SettingID(kind: .sysfs, key: "devices/*/x")) != nil)
  }

  @Test func cpuSettingsApplyPerCPUAndRollBack() throws {
    let s = Scenario.cpuHost()
    let text = """
      [cpu]
      cpus = "1-2"
      governor = "performance"
      idle-latency = "0us"
      idle-states = ["C1E", "C6"]
      boost = true
      """
    let plan = try Planner().plan(try s.profile(text), on: KernelHost(root: s.kernel.root))
    #expect(plan.changes.count == 9)
    #expect(plan.entries.contains { $0.id.key == "cpu2 idle-state C6" && $0.current == "enabled" })
    try applyAndRollBack(s, text) {
      #expect(s.kernel.get("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor") == "performance")
      #expect(s.kernel.get("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") == "powersave")
      // A limit of 0 µs is "n/a" in the kernel file; "0" there means no limit.
      #expect(s.kernel.get("/sys/devices/system/cpu/cpu2/power/pm_qos_resume_latency_us") == "n/a")
      #expect(s.kernel.get("/sys/devices/system/cpu/cpu2/cpuidle/state2/disable") == "1")
      #expect(s.kernel.get("/sys/devices/system/cpu/cpu2/cpuidle/state3/disable") == "1")
      #expect(s.kernel.get("/sys/devices/system/cpu/cpu2/cpuidle/state1/disable") == "0")
      #expect(s.kernel.get("/sys/devices/system/cpu/intel_pstate/no_turbo") == "0")
    }
  }

  @Test func smtOffLeavesTheSiblingsThatGoOfflineOut() throws {
    let s = Scenario.cpuHost()
    let plan = try Planner().plan(
      try s.profile("[cpu]\nsmt = false\ngovernor = \"performance\""), on: KernelHost(root: s.kernel.root))
    #expect(plan.entries.map(\.id.key) == ["devices/system/cpu/smt/control", "cpu0 governor", "cpu2 governor"])
    #expect(plan.warnings.contains { $0.contains("SMT off takes CPU(s) 1,3 offline") })
  }

  @Test func aHostWithoutCpufreqOrTheStatesSaysSoOnce() throws {
    let s = Scenario.cpuHost(cpufreq: false)
    let plan = try Planner().plan(
      try s.profile("[cpu]\ngovernor = \"performance\"\nidle-states = [\"C7s\"]\nboost = true"),
      on: KernelHost(root: s.kernel.root))
    #expect(plan.entries.map(\.id.key) == ["governor", "idle-state C7s", "boost"])
    #expect(plan.unsupported.count == 3)
    #expect(plan.entries[0].reason?.contains("no cpufreq on this host") == true)
    #expect(plan.entries[1].reason == "no idle state C7s (driver intel_idle has POLL, C1, C1E, C6)")
    #expect(s.planError("[cpu]\ngovenor = \"performance\"")?.contains("did you mean governor?") == true)
    #expect(s.planError("[cpu]\ncpus = \"0-9\"\ngovernor = \"performance\"")?.contains("not online") == true)
    #expect(s.planError("[cpu]\nidle-latency = -1")?.contains("out of range") == true)
  }

  @Test func bootParametersAreComparedWithProcCmdlineAndNeverWritten() throws {
    let s = Scenario.cpuHost()
    let text = """
      [cmdline]
      isolcpus = "domain,2-3"
      nohz-full = "1"
      iommu = "off"
      quiet = true
      nosmt = false
      dyndbg = "x"
      """
    let plan = try Planner().plan(try s.profile(text), on: KernelHost(root: s.kernel.root))
    let status = Dictionary(uniqueKeysWithValues: plan.entries.map { ($0.id.key, $0.status) })
    // nohz_full after "--" goes to init, not the kernel; the quoted dyndbg keeps its spaces.
    #expect(
      status == [
        "isolcpus": .ok, "nohz_full": .reboot, "iommu": .reboot, "quiet": .ok, "nosmt": .ok, "dyndbg": .reboot,
      ])
    #expect(plan.differs && plan.changes.isEmpty)
    let before = s.everything()
    let outcome = try Applier(executor: s.executor(KernelHost(root: s.kernel.root))).apply(
      try s.profile(text), skipUnsupported: false)
    #expect(outcome.snapshot == nil)
    #expect(s.everything() == before)
    let report = try CmdlineReport(
      profile: try s.profile(text), host: KernelHost(root: s.kernel.root), all: false)
    #expect(report.add.map(\.desired) == ["dyndbg=x", "iommu=off", "nohz_full=1"])
    #expect(
      report.grub.contains("GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT dyndbg=x iommu=off nohz_full=1\""))
    #expect(CmdlineKnob.words("a \"b=c d\" e -- f") == ["a", "b=c d", "e"])
    #expect(s.planError("[cmdline]\nisolcpus = \"1 2\"")?.contains("no white space") == true)
    #expect(CmdlineKnob().rejection(of: SettingID(kind: .cmdline, key: "isolcpus")) != nil)
  }

  @Test func onlyLinuxIsSupported() {
    #expect(Syscalls.unsupportedSystem("Linux") == nil)
    #expect(
      Syscalls.unsupportedSystem("FreeBSD")?.hasPrefix("bpstune supports Linux only; this system is FreeBSD") == true)
  }
}
