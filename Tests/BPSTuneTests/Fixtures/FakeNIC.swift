import Foundation
import SystemPackage
import TestSupport

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// A model of NIC drivers behind SIOCETHTOOL, written from the byte layouts in
/// include/uapi/linux/ethtool.h (u32 fields at offset 4 + 4·i after the command word), not from
/// the CLinux import bpstune uses, so that a wrong offset in bpstune shows up as a wrong value.
/// It behaves as net/ethtool/ioctl.c does: EOPNOTSUPP for what the driver lacks, EOPNOTSUPP for
/// a non-zero coalescing field the driver does not support, EINVAL above a maximum, and
/// dependent features turned off with their parent. Changing channels re-creates the queue
/// directories in the fake sysfs tree.
final class FakeNIC: EthtoolTransport, @unchecked Sendable {
  struct Feature {
    var name: String
    var changeable: Bool
    var wanted: Bool
    /// Turned off while this feature is off (tx-checksumming takes TSO with it).
    var needs: String?
  }

  struct Device {
    var driver = "fakenic"
    /// nil: the driver has no coalescing.
    var coalesce: [UInt32]? = nil
    var coalesceSupported: Set<Int> = []
    /// (maximum, current) for rx, rx-mini, rx-jumbo, tx; nil: no rings.
    var rings: (max: [UInt32], current: [UInt32])? = nil
    /// (maximum, current) for rx, tx, other, combined.
    var channels: (max: [UInt32], current: [UInt32]) = ([0, 0, 0, 0], [0, 0, 0, 0])
    var features: [Feature] = []
  }

  var devices: [String: Device] = [:]
  /// Whether the kernel answers ETHTOOL_MSG_COALESCE_GET (Linux 5.7+); older kernels do not.
  var netlink = true
  /// Every request: "IF COMMAND".
  var log: [String] = []
  /// The fake sysfs tree whose queue directories follow the channel counts.
  let kernel: FakeKernel?

  init(kernel: FakeKernel? = nil) { self.kernel = kernel }

  /// What the feature bits mean: an unused (empty) string at bit 3, as kernels have.
  static func names(_ device: Device) -> [String] {
    var names = device.features.map(\.name)
    names.insert("", at: min(3, names.count))
    return names
  }

  func active(_ f: Feature, in device: Device) -> Bool {
    guard f.wanted else { return false }
    if let parent = f.needs, let p = device.features.first(where: { $0.name == parent }) {
      return active(p, in: device)
    }
    return true
  }

  func request(_ interface: String, _ buffer: UnsafeMutableRawBufferPointer, command: String) throws(SystemError)
    -> Int32
  {
    func fail(_ e: Errno) -> SystemError { SystemError(command, interface, e) }
    guard var d = devices[interface] else { throw fail(.operationNotSupportedByDevice) }
    func u32(_ offset: Int) -> UInt32 { buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    func put(_ offset: Int, _ v: UInt32) { buffer.storeBytes(of: v, toByteOffset: offset, as: UInt32.self) }
    let cmd = u32(0)
    log.append("\(interface) \(String(cmd, radix: 16))")
    switch cmd {
    case 0x03:  // GDRVINFO: driver[32] at 4, version[32] at 36
      for (i, byte) in d.driver.utf8.enumerated() { buffer[4 + i] = byte }
      for (i, byte) in "1.0".utf8.enumerated() { buffer[36 + i] = byte }
    case 0x0e:  // GCOALESCE
      guard let c = d.coalesce else { throw fail(.notSupported) }
      for (i, v) in c.enumerated() { put(4 + 4 * i, v) }
    case 0x0f:  // SCOALESCE
      guard d.coalesce != nil else { throw fail(.notSupported) }
      let values = (0..<22).map { u32(4 + 4 * $0) }
      if values.enumerated().contains(where: { $0.element != 0 && !d.coalesceSupported.contains($0.offset) }) {
        throw fail(.notSupported)
      }
      d.coalesce = values
    case 0x10:  // GRINGPARAM: four maxima, then four sizes
      guard let r = d.rings else { throw fail(.notSupported) }
      for i in 0..<4 {
        put(4 + 4 * i, r.max[i])
        put(20 + 4 * i, r.current[i])
      }
    case 0x11:  // SRINGPARAM
      guard let r = d.rings else { throw fail(.notSupported) }
      let sizes = (0..<4).map { u32(20 + 4 * $0) }
      if zip(sizes, r.max).contains(where: { $0 > $1 }) { throw fail(.invalidArgument) }
      d.rings = (r.max, sizes)
    case 0x3c:  // GCHANNELS: four maxima, then four counts
      for i in 0..<4 {
        put(4 + 4 * i, d.channels.max[i])
        put(20 + 4 * i, d.channels.current[i])
      }
    case 0x3d:  // SCHANNELS
      let counts = (0..<4).map { u32(20 + 4 * $0) }
      if zip(counts, d.channels.max).contains(where: { $0 > $1 }) { throw fail(.invalidArgument) }
      if counts[3] == 0 && (counts[0] == 0 || counts[1] == 0) { throw fail(.invalidArgument) }
      d.channels.current = counts
      recreateQueues(interface, rx: Int(counts[0] + counts[3]), tx: Int(counts[1] + counts[3]))
    case 0x37:  // GSSET_INFO: u64 sset_mask at 8, counts from 16
      if buffer.loadUnaligned(fromByteOffset: 8, as: UInt64.self) & (1 << 4) != 0 {
        put(16, UInt32(Self.names(d).count))
      }
    case 0x1b:  // GSTRINGS: string_set at 4, len at 8, 32-byte strings from 12
      guard u32(4) == 4 else { throw fail(.invalidArgument) }
      for (i, name) in Self.names(d).prefix(Int(u32(8))).enumerated() {
        for (j, byte) in name.utf8.enumerated() { buffer[12 + 32 * i + j] = byte }
      }
    case 0x3a:  // GFEATURES: size at 4, blocks of {available, requested, active, never_changed} from 8
      let names = Self.names(d)
      let words = (names.count + 31) / 32
      guard Int(u32(4)) >= words else { throw fail(.invalidArgument) }
      put(4, UInt32(words))
      for (bit, name) in names.enumerated() {
        guard let f = d.features.first(where: { $0.name == name }) else { continue }
        let base = 8 + 16 * (bit / 32)
        let mask = UInt32(1) << UInt32(bit % 32)
        if f.changeable { put(base, u32(base) | mask) }
        if f.wanted { put(base + 4, u32(base + 4) | mask) }
        if active(f, in: d) { put(base + 8, u32(base + 8) | mask) }
      }
    case 0x3b:  // SFEATURES: size at 4, blocks of {valid, requested} from 8
      let names = Self.names(d)
      guard Int(u32(4)) == (names.count + 31) / 32 else { throw fail(.invalidArgument) }
      var flags: Int32 = 0
      for (bit, name) in names.enumerated() {
        let base = 8 + 8 * (bit / 32)
        let mask = UInt32(1) << UInt32(bit % 32)
        guard u32(base) & mask != 0, let i = d.features.firstIndex(where: { $0.name == name }) else { continue }
        guard d.features[i].changeable else {
          flags |= 1
          continue
        }
        d.features[i].wanted = u32(base + 4) & mask != 0
      }
      devices[interface] = d
      return flags
    default:
      throw fail(.notSupported)
    }
    devices[interface] = d
    return 0
  }

  /// Which fields the coalescing netlink reply would carry: the supported ones and any non-zero.
  func coalesceSupport(_ interface: String) throws(SystemError) -> [Bool]? {
    guard netlink else { return nil }
    guard let d = devices[interface] else {
      throw SystemError("ethtool netlink reply", interface, .operationNotSupportedByDevice)
    }
    guard let c = d.coalesce else { throw SystemError("ethtool netlink reply", interface, .notSupported) }
    return (0..<22).map { d.coalesceSupported.contains($0) || c[$0] != 0 }
  }

  private func recreateQueues(_ interface: String, rx: Int, tx: Int) {
    guard let kernel else { return }
    try? FileManager.default.removeItem(atPath: kernel.root + "/sys/class/net/\(interface)/queues")
    for q in 0..<rx {
      kernel.set("/sys/class/net/\(interface)/queues/rx-\(q)/rps_cpus", "0")
      kernel.set("/sys/class/net/\(interface)/queues/rx-\(q)/rps_flow_cnt", "0")
    }
    for q in 0..<tx { kernel.set("/sys/class/net/\(interface)/queues/tx-\(q)/xps_cpus", "0") }
  }

  /// An igb-like device: rx/tx-usecs coalescing only, rings to 4096, up to 8 combined channels,
  /// GRO changeable, LRO fixed off, TSO depending on tx checksumming.
  static func igb() -> Device {
    var coalesce = [UInt32](repeating: 0, count: 22)
    coalesce[0] = 3
    coalesce[4] = 3
    return Device(
      driver: "igb", coalesce: coalesce, coalesceSupported: [0, 4], rings: ([4096, 0, 0, 4096], [256, 0, 0, 256]),
      channels: ([0, 0, 1, 8], [0, 0, 1, 2]),
      features: [
        Feature(name: "rx-checksum", changeable: true, wanted: true),
        Feature(name: "tx-checksum-ip-generic", changeable: true, wanted: true),
        Feature(name: "tx-tcp-segmentation", changeable: true, wanted: true, needs: "tx-checksum-ip-generic"),
        Feature(name: "tx-tcp6-segmentation", changeable: true, wanted: true, needs: "tx-checksum-ip-generic"),
        Feature(name: "rx-gro", changeable: true, wanted: true),
        Feature(name: "rx-lro", changeable: false, wanted: false),
        Feature(name: "highdma", changeable: false, wanted: true),
      ])
  }
}
