import CLinux
import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// The structures bpstune imports from linux/ethtool.h have the sizes and offsets of the
/// kernel ABI (ethtool(8) and include/uapi/linux/ethtool.h), and requests travel as those bytes.
@Suite struct EthtoolEncodingTests {
  @Test func structuresHaveTheKernelLayout() {
    #expect(SIOCETHTOOL == 0x8946)
    #expect(MemoryLayout<ethtool_coalesce>.size == 4 + 22 * 4)
    #expect(MemoryLayout<ethtool_coalesce>.offset(of: \.rate_sample_interval) == 88)
    #expect(MemoryLayout<ethtool_ringparam>.size == 36)
    #expect(MemoryLayout<ethtool_channels>.size == 36)
    #expect(MemoryLayout<ethtool_channels>.offset(of: \.combined_count) == 32)
    #expect(MemoryLayout<ethtool_drvinfo>.size == 196)
    #expect(MemoryLayout<ethtool_gfeatures>.size == 8 && MemoryLayout<ethtool_get_features_block>.size == 16)
    #expect(MemoryLayout<ethtool_sfeatures>.size == 8 && MemoryLayout<ethtool_set_features_block>.size == 8)
    #expect(MemoryLayout<ethtool_gstrings>.size == 12 && MemoryLayout<ethtool_sset_info>.size == 16)
    let commands = [
      ETHTOOL_GDRVINFO, ETHTOOL_GCOALESCE, ETHTOOL_SCOALESCE, ETHTOOL_GRINGPARAM, ETHTOOL_SRINGPARAM,
      ETHTOOL_GSTRINGS, ETHTOOL_GSSET_INFO, ETHTOOL_GFEATURES, ETHTOOL_SFEATURES, ETHTOOL_GCHANNELS,
      ETHTOOL_SCHANNELS,
    ]
    #expect(commands.map { Int($0) } == [0x03, 0x0e, 0x0f, 0x10, 0x11, 0x1b, 0x37, 0x3a, 0x3b, 0x3c, 0x3d])
    #expect(Ethtool.coalesceFields.count == 22 && Set(Ethtool.coalesceFields.map(\.name)).count == 22)
  }

  /// Every one of the 22 coalescing fields lands at its own offset and reads back under its name.
  @Test func everyCoalesceFieldRoundTrips() throws {
    let nic = FakeNIC()
    var device = FakeNIC.igb()
    device.coalesceSupported = Set(0..<22)
    nic.devices["eth0"] = device
    let host = KernelHost(root: FakeKernel().root, ethtool: nic)
    let knob = CoalesceKnob()
    let id = SettingID(kind: "coalesce", interface: "eth0", key: "coalesce")
    let value = Ethtool.coalesceFields.enumerated().map { i, f in
      "\(f.name)=\(f.flag ? "on" : String(i + 1))"
    }.joined(separator: " ")
    try knob.write(id, value, on: host)
    #expect(nic.devices["eth0"]?.coalesce == (0..<22).map { [9, 10].contains($0) ? 1 : UInt32($0 + 1) })
    host.forget()
    #expect(try knob.read(id, on: host) == value)
  }

  /// A write names some fields; every other field keeps the driver's value.
  @Test func writesAreReadModifyWrite() throws {
    let nic = FakeNIC()
    nic.devices["eth0"] = FakeNIC.igb()
    let host = KernelHost(root: FakeKernel().root, ethtool: nic)
    try CoalesceKnob().write(SettingID(kind: "coalesce", interface: "eth0", key: "coalesce"), "rx-usecs=100", on: host)
    #expect(nic.devices["eth0"]?.coalesce?[0] == 100 && nic.devices["eth0"]?.coalesce?[4] == 3)
    try RingKnob().write(SettingID(kind: "ring", interface: "eth0", key: "ring"), "rx=1024", on: host)
    #expect(nic.devices["eth0"]?.rings?.current == [1024, 0, 0, 256])
    try ChannelsKnob().write(SettingID(kind: "channels", interface: "eth0", key: "channels"), "combined=1", on: host)
    #expect(nic.devices["eth0"]?.channels.current == [0, 0, 1, 1])
    // A value from a damaged snapshot is refused before any request is sent.
    let sent = nic.log.count
    for bad in ["combined=x", "combined=-1", "nope=1", "", "combined"] {
      #expect(throws: BPSTuneError.self) {
        try ChannelsKnob().write(SettingID(kind: "channels", interface: "eth0", key: "channels"), bad, on: host)
      }
    }
    #expect(nic.log.count == sent)
  }

  @Test func featuresAreNamedByTheKernelsStrings() throws {
    let nic = FakeNIC()
    nic.devices["eth0"] = FakeNIC.igb()
    let features = try Ethtool(transport: nic).features("eth0")
    #expect(features.features.map(\.name) == FakeNIC.igb().features.map(\.name))
    #expect(features.named("rx-gro")?.changeable == true && features.named("rx-lro")?.changeable == false)
    #expect(features.named("highdma")?.active == true && features.named("rx-lro")?.active == false)
    #expect(features.named("rx-gro")?.bit == 5)  // after the unused bit 3
  }
}

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

@Suite struct FieldMapTests {
  @Test func aStructureSatisfiesTheFieldsAProfileNames() {
    let s = ValueSemantics.fields
    #expect(s.equal("rx=1 tx=1 other=0 combined=0", "rx=1"))
    #expect(!s.equal("rx=1 tx=1 other=0 combined=0", "rx=2"))
    #expect(!s.equal("rx=1", "rx=1 tx=1"))
    #expect(s.equal("adaptive-rx=on", "adaptive-rx=1"))
    #expect(s.display("rx=1 tx=2 other=0", as: "tx=5") == "tx=2")
    #expect(s.change(from: "rx=1 tx=1 other=0", to: "rx=2 tx=2") == "rx, tx: 1 -> 2")
    #expect(FieldMap(parsing: "rx=1 rx=2") == nil && FieldMap(parsing: "rx") == nil)
  }

  @Test func anEntryRecordsWhatTheWriteChanged() {
    let r = ValueSemantics.fields.recorded(
      before: "a=on b=on c=on d=off", after: "a=off", result: "a=off b=off c=on d=off")
    #expect(r.before == "a=on b=on" && r.after == "a=off b=off")
    #expect(ValueSemantics.integer.recorded(before: "1", after: "2", result: "2") == ("1", "2"))
  }
}
