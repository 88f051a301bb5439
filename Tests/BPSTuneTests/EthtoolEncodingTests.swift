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
    let id = SettingID(kind: .coalesce, interface: "eth0", key: "coalesce")
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
    try CoalesceKnob().write(SettingID(kind: .coalesce, interface: "eth0", key: "coalesce"), "rx-usecs=100", on: host)
    #expect(nic.devices["eth0"]?.coalesce?[0] == 100 && nic.devices["eth0"]?.coalesce?[4] == 3)
    try RingKnob().write(SettingID(kind: .ring, interface: "eth0", key: "ring"), "rx=1024", on: host)
    #expect(nic.devices["eth0"]?.rings?.current == [1024, 0, 0, 256])
    try ChannelsKnob().write(SettingID(kind: .channels, interface: "eth0", key: "channels"), "combined=1", on: host)
    #expect(nic.devices["eth0"]?.channels.current == [0, 0, 1, 1])
    // A value from a damaged snapshot is refused before any request is sent.
    let sent = nic.log.count
    for bad in ["combined=x", "combined=-1", "nope=1", "", "combined"] {
      #expect(throws: BPSTuneError.self) {
        try ChannelsKnob().write(SettingID(kind: .channels, interface: "eth0", key: "channels"), bad, on: host)
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
