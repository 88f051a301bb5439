import Foundation
import TestSupport

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// A fake kernel with one interface and a profile touching sysctls, sysfs and the interface.
struct Scenario {
  let kernel = FakeKernel(cpus: "0-3")
  let profiles = TemporaryDirectory("bpstune-profiles")
  let state = TemporaryDirectory("bpstune-state")

  init() {
    kernel.set("/proc/sys/net/core/busy_read", "0")
    kernel.set("/proc/sys/net/core/busy_poll", "0")
    kernel.set("/proc/sys/net/core/rps_sock_flow_entries", "0")
    kernel.set("/sys/devices/virtual/workqueue/cpumask", "f")
    kernel.addInterface("eth0", rx: 2, tx: 2)
  }

  static let profileText = """
    [sysctl]
    net.core.busy_read = 50
    net.core.busy_poll = 50
    net.core.rps_sock_flow_entries = 100
    [sysfs]
    "devices/virtual/workqueue/cpumask" = "1-3"
    [[interface]]
    name = "eth0"
    threaded = true
    gro-flush-timeout = "15us"
    rps-cpus = "0-1"
    """

  func profile(_ text: String = profileText) throws -> Profile {
    profiles.write("p.profile", text)
    return try ProfileLoader(source: ProfileSource(searchPath: [profiles.path])).load("p")
  }

  /// The error planning `text` on this kernel gives.
  func planError(_ text: String) -> String? {
    thrownText { try Planner().plan(try profile(text), on: KernelHost(root: kernel.root)) }
  }

  func executor(_ host: KernelHost) -> Executor {
    Executor(host: host, knobs: KnobRegistry.standard, store: SnapshotStore(stateDirectory: state.path + "/s"))
  }

  /// Every kernel file below the fake root, path -> content.
  func everything() -> [String: String] {
    var out: [String: String] = [:]
    let e = FileManager.default.enumerator(atPath: kernel.root)!
    while let p = e.nextObject() as? String {
      if let s = kernel.dir.read(p) { out[p] = s.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
    return out
  }
}

extension Scenario {
  /// A fake host with workqueues, two CPUs with cpufreq, cpuidle and PM QoS, and intel_pstate.
  static func cpuHost(cpufreq: Bool = true) -> Scenario {
    let s = Scenario()
    for wq in ["writeback", "blkcg_punt_bio"] { s.kernel.set("/sys/devices/virtual/workqueue/\(wq)/cpumask", "f") }
    for cpu in 0..<4 {
      let base = "/sys/devices/system/cpu/cpu\(cpu)"
      if cpufreq {
        s.kernel.set("\(base)/cpufreq/scaling_governor", "powersave")
        s.kernel.set("\(base)/cpufreq/scaling_available_governors", "performance powersave")
      }
      s.kernel.set("\(base)/power/pm_qos_resume_latency_us", "0")
      s.kernel.set(
        "\(base)/topology/thread_siblings_list", "\(cpu % 2 == 0 ? cpu : cpu - 1)-\(cpu % 2 == 0 ? cpu + 1 : cpu)")
      for (i, name) in ["POLL", "C1", "C1E", "C6"].enumerated() {
        s.kernel.set("\(base)/cpuidle/state\(i)/name", name)
        s.kernel.set("\(base)/cpuidle/state\(i)/disable", "0")
      }
    }
    if cpufreq {
      s.kernel.set("/sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "powersave")
      s.kernel.set("/sys/devices/system/cpu/intel_pstate/no_turbo", "1")
    }
    s.kernel.set("/sys/devices/system/cpu/cpuidle/current_driver", "intel_idle")
    s.kernel.set("/sys/devices/system/cpu/smt/control", "on")
    s.kernel.set(
      "/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda isolcpus=domain,2,3 quiet \"dyndbg=file x +p\" -- nohz_full=1"
    )
    return s
  }
}
