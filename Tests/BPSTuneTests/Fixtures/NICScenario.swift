import TestSupport

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// A fake host with an igb-like eth0 (sysfs queues and an ethtool model) and a veth-like veth0.
struct NICScenario: ModelledHost {
  let base = Scenario()
  let nic: FakeNIC

  init() {
    nic = FakeNIC(kernel: base.kernel)
    nic.devices["eth0"] = FakeNIC.igb()
    base.kernel.addInterface("veth0")
    nic.devices["veth0"] = FakeNIC.Device(
      driver: "veth", channels: ([2, 2, 0, 0], [1, 1, 0, 0]),
      features: [Feature(name: "rx-gro", changeable: true, wanted: false)])
  }

  typealias Feature = FakeNIC.Feature

  func host() -> KernelHost { KernelHost(root: base.kernel.root, ethtool: nic) }

  /// The whole state of the fake devices, for before/after comparison.
  func devices() -> String {
    nic.devices.keys.sorted().map { name in
      let d = nic.devices[name]!
      return "\(name) \(d.coalesce ?? []) \(d.rings?.current ?? []) \(d.channels.current) "
        + d.features.map { "\($0.name)=\($0.wanted)" }.joined(separator: ",")
    }.joined(separator: "\n")
  }

  var sets: [String] { nic.log.filter { ["f", "11", "3b", "3d"].contains($0.split(separator: " ").last!) } }
}
