import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct EthtoolPlanTests {
  static let tooMuch = """
    [[interface]]
    name = "eth0"
    ring = { rx = 8192, rx-mini = 64, tx = 1024 }
    channels = { combined = 16 }
    features = { lro = true, gro = false, rx-gor = false }
    [[interface]]
    name = "veth0"
    coalesce = { rx-usecs = 100 }
    """

  /// What the driver cannot do is in the plan, with the reason, before anything is written.
  @Test func whatTheDriverCannotDoIsUnsupportedWithTheReason() throws {
    let s = NICScenario()
    let plan = try s.plan(Self.tooMuch)
    let reasons = Dictionary(uniqueKeysWithValues: plan.unsupported.map { ($0.id.description, $0.reason ?? "") })
    #expect(reasons["eth0 ring.rx"] == "rx ring max is 4096")
    #expect(reasons["eth0 ring.rx-mini"] == "igb has no rx-mini ring")
    #expect(reasons["eth0 channels.combined"] == "combined channels max is 8")
    #expect(reasons["eth0 features.lro"] == "rx-lro is fixed (off)")
    #expect(reasons["eth0 features.rx-gor"]?.contains("did you mean rx-gro?") == true)
    #expect(reasons["veth0 coalesce"]?.hasPrefix("veth does not support coalescing (ETHTOOL_GCOALESCE") == true)
    #expect(plan.changes.map(\.id.description).sorted() == ["eth0 features", "eth0 ring"])
    #expect(plan.changes.first { $0.id.key == "ring" }?.target.desired == "tx=1024")
  }

  /// apply refuses such a plan without writing anything; --skip-unsupported applies the rest.
  @Test func applyRefusesUnsupportedSettingsUnlessSkipped() throws {
    let s = NICScenario()
    let before = s.devices()
    #expect {
      try s.apply(Self.tooMuch)
    } throws: { error in
      let e = error as! BPSTuneError
      return e.exitCode == 2 && e.description.contains("rx ring max is 4096")
    }
    #expect(s.devices() == before && s.sets.isEmpty)
    let outcome = try s.apply(Self.tooMuch, skip: true)
    #expect(outcome.skipped.count == 6)
    #expect(s.nic.devices["eth0"]?.rings?.current == [256, 0, 0, 1024])
    #expect(s.nic.devices["eth0"]?.features.first { $0.name == "rx-gro" }?.wanted == false)
    _ = try s.rollback()
    #expect(s.devices() == before)
  }

  /// A fixed feature already as asked is satisfied; verify sees it as ok, not drift.
  @Test func aFixedFeatureAlreadyAsAskedIsSatisfied() throws {
    let s = NICScenario()
    let plan = try s.plan("[[interface]]\nname = \"eth0\"\nfeatures = { lro = false, highdma = true }\n")
    #expect(plan.entries.count == 1 && plan.satisfied.count == 1)
  }

  /// Turning off tx checksumming turns off TSO too: the snapshot records it, rollback restores it.
  @Test func dependentFeaturesAreRecordedAndRestored() throws {
    let s = NICScenario()
    let before = s.devices()
    let outcome = try s.apply("[[interface]]\nname = \"eth0\"\nfeatures = { tx = false }\n")
    let entry = try #require(outcome.snapshot?.entries.first)
    #expect(entry.before == "tx-checksum-ip-generic=on tx-tcp-segmentation=on tx-tcp6-segmentation=on")
    #expect(entry.after == "tx-checksum-ip-generic=off tx-tcp-segmentation=off tx-tcp6-segmentation=off")
    let saved = try SnapshotStore(stateDirectory: s.base.state.path + "/s").load(outcome.snapshot!.id)
    #expect(saved.entries.first?.before == entry.before)
    _ = try s.rollback()
    #expect(s.devices() == before)
  }

  /// Channels are written first; the per-queue settings are planned on the new queues.
  @Test func channelsComeFirstAndQueuesArePlannedAgain() throws {
    let s = NICScenario()
    s.nic.devices["eth0"]?.channels.current = [0, 0, 1, 2]
    let text = "[[interface]]\nname = \"eth0\"\nrps-cpus = \"1\"\nchannels = { combined = 4 }\n"
    let plan = try s.plan(text)
    #expect(plan.entries.first?.id.key == "channels")
    #expect(plan.warnings.contains { $0.contains("planned again") })
    #expect(plan.entries.filter { $0.id.key == "rps-cpus" }.count == 2)
    let outcome = try s.apply(text)
    let names = outcome.snapshot?.entries.map(\.setting.description)
    #expect(
      names == [
        "eth0 channels", "eth0 rx-0 rps-cpus", "eth0 rx-1 rps-cpus", "eth0 rx-2 rps-cpus", "eth0 rx-3 rps-cpus",
      ])
    #expect(s.base.kernel.get("/sys/class/net/eth0/queues/rx-3/rps_cpus") == "2")
    // Rollback: channels first (rx-2 and rx-3 go), then what remains.
    let rollback = try s.rollback()
    #expect(
      rollback.entries.map(\.setting.description) == ["eth0 channels", "eth0 rx-1 rps-cpus", "eth0 rx-0 rps-cpus"])
    #expect(s.nic.devices["eth0"]?.channels.current == [0, 0, 1, 2])
    #expect(s.base.kernel.get("/sys/class/net/eth0/queues/rx-1/rps_cpus") == "0")
    #expect(s.base.kernel.get("/sys/class/net/eth0/queues/rx-3/rps_cpus") == nil)
  }

  /// System settings in a plan that changes channels are applied (in the first stage, before
  /// channels) and rolled back, with the queue settings planned again after the channels.
  @Test func systemSettingsAreNotLostWhenChannelsChange() throws {
    let s = NICScenario()
    s.nic.devices["eth0"]?.channels.current = [0, 0, 1, 2]
    let text =
      "[sysctl]\nnet.core.busy_read = 50\n[[interface]]\nname = \"eth0\"\nrps-cpus = \"1\"\nchannels = { combined = 4 }\n"
    let outcome = try s.apply(text)
    #expect(outcome.snapshot?.entries.map(\.setting.description).prefix(2) == ["net.core.busy_read", "eth0 channels"])
    #expect(s.base.kernel.get("/proc/sys/net/core/busy_read") == "50")
    #expect(s.base.kernel.get("/sys/class/net/eth0/queues/rx-3/rps_cpus") == "2")
    #expect(try s.plan(text).changes.isEmpty)
    let rollback = try s.rollback()
    #expect(
      rollback.entries.map(\.setting.description) == [
        "net.core.busy_read", "eth0 channels", "eth0 rx-1 rps-cpus", "eth0 rx-0 rps-cpus",
      ])
    #expect(s.base.kernel.get("/proc/sys/net/core/busy_read") == "0")
    #expect(s.nic.devices["eth0"]?.channels.current == [0, 0, 1, 2])
  }

  /// Coalescing fields the driver lacks are unsupported in the plan (from the ethtool netlink
  /// family); a zero in such a field is fine, as the kernel allows it.
  @Test func coalesceFieldsTheDriverLacksAreUnsupported() throws {
    let s = NICScenario()
    let plan = try s.plan(
      "[[interface]]\nname = \"eth0\"\ncoalesce = { rx-usecs = 100, rx-frames = 5, tx-frames = 0 }\n")
    #expect(
      plan.unsupported.map { "\($0.id): \($0.reason ?? "")" } == [
        "eth0 coalesce.rx-frames: igb: rx-frames not supported"
      ])
    #expect(plan.changes.map(\.target.desired) == ["rx-usecs=100 tx-frames=0"])
  }

  /// sample-interval is struct ethtool_coalesce's rate_sample_interval, in seconds: a time with
  /// a unit converts to seconds, not to the µs of the *-usecs fields beside it.
  @Test func coalesceSampleIntervalIsInSeconds() throws {
    let s = NICScenario()
    s.nic.devices["eth0"]?.coalesceSupported = [0, 4, 21]
    let plan = try s.plan(
      "[[interface]]\nname = \"eth0\"\ncoalesce = { rx-usecs = \"1ms\", sample-interval = \"2s\" }\n")
    #expect(plan.changes.map(\.target.desired) == ["rx-usecs=1000 sample-interval=2"])
    _ = try s.apply("[[interface]]\nname = \"eth0\"\ncoalesce = { sample-interval = \"3s\" }\n")
    #expect(s.nic.devices["eth0"]?.coalesce?[21] == 3)
    _ = try s.apply("[[interface]]\nname = \"eth0\"\ncoalesce = { sample-interval = 4 }\n")
    #expect(s.nic.devices["eth0"]?.coalesce?[21] == 4)
  }

  /// virtio_net lists rx-usecs as supported for every device but takes it only from a device
  /// that negotiated VIRTIO_NET_F_NOTF_COAL (bit 53 of device/features); QEMU's does not.
  @Test func virtioUsecsCoalescingNeedsTheDevicesNotificationCoalescing() throws {
    let s = NICScenario()
    s.nic.devices["eth0"]?.driver = "virtio_net"
    s.nic.devices["eth0"]?.coalesceSupported = [0, 1, 4, 5]
    let text = "[[interface]]\nname = \"eth0\"\ncoalesce = { rx-usecs = 100, tx-usecs = 0, rx-frames = 1 }\n"
    var bits = Array(repeating: Character("0"), count: 64)
    s.base.kernel.set("/sys/class/net/eth0/device/features", String(bits))
    let plan = try s.plan(text)
    #expect(
      plan.unsupported.map { "\($0.id): \($0.reason ?? "")" } == [
        "eth0 coalesce.rx-usecs: virtio_net: rx-usecs not supported by this device (no VIRTIO_NET_F_NOTF_COAL)"
      ])
    bits[53] = "1"
    s.base.kernel.set("/sys/class/net/eth0/device/features", String(bits))
    #expect(try s.plan(text).unsupported.isEmpty)
  }

  /// Without the netlink answer (kernels before 5.7) the ioctl cannot tell which fields a driver
  /// has: the kernel's EOPNOTSUPP at write time fails the apply, and everything is undone.
  @Test func aCoalesceFieldTheDriverRefusesIsUndone() throws {
    let s = NICScenario()
    s.nic.netlink = false
    let before = s.devices()
    #expect {
      try s.apply("[[interface]]\nname = \"eth0\"\nring = { rx = 1024 }\ncoalesce = { rx-frames = 5 }\n")
    } throws: { error in
      let e = error as! BPSTuneError
      return e.exitCode == 3 && e.description.contains("eth0 coalesce") && e.description.contains("EOPNOTSUPP")
    }
    #expect(s.devices() == before)
  }

  /// The kernel refuses channels that leave no rx channel; so does the plan.
  @Test func channelsWithoutAnRxChannelAreRefusedBeforeApply() {
    let s = NICScenario()
    let error = thrownText { try s.plan("[[interface]]\nname = \"veth0\"\nchannels = { rx = 0 }\n") }
    #expect(error == "veth0 channels: the result would have no rx channel")
  }
}
