import CLinux
import SystemPackage

/// Carries one SIOCETHTOOL request to a device: ``KernelEthtool`` in production, a model of a
/// driver in unit tests.
package protocol EthtoolTransport: Sendable {
  /// Performs the request in `buffer` (an ethtool command structure); returns the ioctl result.
  func request(_ interface: String, _ buffer: UnsafeMutableRawBufferPointer, command: String) throws(SystemError)
    -> Int32

  /// Which of the 22 coalescing fields (in ``Ethtool/coalesceFields`` order) the driver
  /// supports, or nil when that cannot be known. The ioctl does not say; the kernel's ethtool
  /// netlink family does.
  func coalesceSupport(_ interface: String) throws(SystemError) -> [Bool]?
}

extension EthtoolTransport {
  package func coalesceSupport(_ interface: String) throws(SystemError) -> [Bool]? { nil }
}

/// The running kernel, through ``Syscalls/ethtool(_:_:command:)``.
package struct KernelEthtool: EthtoolTransport {
  package init() {}

  package func request(_ interface: String, _ buffer: UnsafeMutableRawBufferPointer, command: String)
    throws(SystemError) -> Int32
  {
    try Syscalls.ethtool(interface, buffer, command: command)
  }

  /// ETHTOOL_MSG_COALESCE_GET of the `ethtool` generic netlink family (Linux 5.6+), read only:
  /// since 5.7 the kernel leaves out of the reply each field that is zero and not in the
  /// driver's supported_coalesce_params, so a field absent from the reply is one the driver
  /// lacks (a non-zero value there is refused with EOPNOTSUPP). nil when the kernel has no
  /// ethtool netlink family.
  package func coalesceSupport(_ interface: String) throws(SystemError) -> [Bool]? {
    try GenericNetlink.coalesceSupport(interface)
  }
}

/// A directory tree standing in for the kernel has no devices to ask (`--root`, unit tests
/// that give no model): every request fails with ENODEV.
package struct AbsentEthtool: EthtoolTransport {
  package init() {}

  package func request(_ interface: String, _ buffer: UnsafeMutableRawBufferPointer, command: String)
    throws(SystemError) -> Int32
  {
    throw SystemError(command, interface, .operationNotSupportedByDevice)
  }
}

/// A fixed-size command structure of linux/ethtool.h, whose first u32 is the command.
package protocol EthtoolStructure {
  init()
  var cmd: UInt32 { get set }
}

extension ethtool_drvinfo: EthtoolStructure {}
extension ethtool_coalesce: EthtoolStructure {}
extension ethtool_ringparam: EthtoolStructure {}
extension ethtool_channels: EthtoolStructure {}

extension Ethtool {
  /// struct ethtool_channels, ethtool_ringparam and ethtool_coalesce as the layers above use
  /// them: through the field tables below, never by the header's field names.
  package typealias Channels = ethtool_channels
  package typealias Rings = ethtool_ringparam
  package typealias Coalesce = ethtool_coalesce

  /// A counted structure's fields by ethtool's names, each with the driver's maximum.
  package typealias CountedField<T> = (name: String, max: WritableKeyPath<T, UInt32>, field: WritableKeyPath<T, UInt32>)

  /// ethtool_channels: rx, tx, other and combined (`ethtool -l`).
  package static var channelFields: [CountedField<Channels>] {
    [
      ("rx", \.max_rx, \.rx_count), ("tx", \.max_tx, \.tx_count), ("other", \.max_other, \.other_count),
      ("combined", \.max_combined, \.combined_count),
    ]
  }

  /// ethtool_ringparam: rx, rx-mini, rx-jumbo and tx (`ethtool -g`).
  package static var ringFields: [CountedField<Rings>] {
    [
      ("rx", \.rx_max_pending, \.rx_pending), ("rx-mini", \.rx_mini_max_pending, \.rx_mini_pending),
      ("rx-jumbo", \.rx_jumbo_max_pending, \.rx_jumbo_pending), ("tx", \.tx_max_pending, \.tx_pending),
    ]
  }
}

/// The ethtool ioctl interface of include/uapi/linux/ethtool.h, typed. Structures are the
/// kernel header's own (imported through the CLinux module). GET answers are cached for the
/// run; any SET on an interface drops that interface's cached answers.
package final class Ethtool {
  package let transport: any EthtoolTransport
  private var cache: [String: Result<[UInt8], SystemError>] = [:]
  /// Called before every SET request with "IF COMMAND"; throwing makes it fail (fault injection).
  package var beforeWrite: ((String) throws -> Void)?

  package init(transport: any EthtoolTransport) { self.transport = transport }

  /// Forgets cached answers (after a change that re-creates queues).
  package func forget() { cache.removeAll() }

  /// Forgets one interface's cached answers (before a read-modify-write, after a SET).
  package func forget(_ interface: String) {
    for key in cache.keys where key.hasPrefix(interface + "\u{0}") { cache[key] = nil }
  }

  /// An ethtool command number with the name errors give it.
  package struct Command: Sendable {
    package var code: UInt32
    package var name: String

    init(_ code: Int32, _ name: String) {
      self.code = UInt32(code)
      self.name = name
    }

    package static let getDriverInfo = Command(ETHTOOL_GDRVINFO, "ETHTOOL_GDRVINFO")
    package static let getCoalesce = Command(ETHTOOL_GCOALESCE, "ETHTOOL_GCOALESCE")
    package static let setCoalesce = Command(ETHTOOL_SCOALESCE, "ETHTOOL_SCOALESCE")
    package static let getRings = Command(ETHTOOL_GRINGPARAM, "ETHTOOL_GRINGPARAM")
    package static let setRings = Command(ETHTOOL_SRINGPARAM, "ETHTOOL_SRINGPARAM")
    package static let getChannels = Command(ETHTOOL_GCHANNELS, "ETHTOOL_GCHANNELS")
    package static let setChannels = Command(ETHTOOL_SCHANNELS, "ETHTOOL_SCHANNELS")
  }

  // MARK: Requests

  /// A GET request for a fixed-size structure (ETHTOOL_GCHANNELS, ...), cached.
  package func get<T: EthtoolStructure>(_ interface: String, _ command: Command) throws(SystemError) -> T {
    let key = "\(interface)\u{0}\(command.name)"
    if let hit = cache[key] {
      let bytes = try hit.get()
      return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }
    var value = T()
    value.cmd = command.code
    let result = Result { () throws(SystemError) -> [UInt8] in
      _ = try call(interface, &value, command: command.name)
      return withUnsafeBytes(of: value) { Array($0) }
    }
    cache[key] = result
    _ = try result.get()
    return value
  }

  /// A SET request for a whole fixed-size structure (read it first: the kernel applies every
  /// field); returns the ioctl result.
  @discardableResult
  package func set<T: EthtoolStructure>(_ interface: String, _ value: T, _ command: Command) throws -> Int32 {
    forget(interface)
    try beforeWrite?("\(interface) \(command.name)")
    var value = value
    value.cmd = command.code
    return try call(interface, &value, command: command.name)
  }

  private func call<T>(_ interface: String, _ value: inout T, command: String) throws(SystemError) -> Int32 {
    try withUnsafeMutableBytes(of: &value) { raw throws(SystemError) in
      try transport.request(interface, raw, command: command)
    }
  }

  /// A request on a buffer of `size` bytes laid out by `fill`; returns the filled bytes.
  private func variable(
    _ interface: String, size: Int, command: String, cached: Bool = true,
    _ fill: (UnsafeMutableRawBufferPointer) -> Void
  ) throws(SystemError) -> (bytes: [UInt8], result: Int32) {
    let key = "\(interface)\u{0}\(command)\u{0}\(size)"
    if cached, let hit = cache[key] { return (try hit.get(), 0) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0)
    fill(buffer)
    let outcome = Result { () throws(SystemError) -> Int32 in try transport.request(interface, buffer, command: command)
    }
    let bytes = Array(buffer)
    if cached { cache[key] = outcome.map { _ in bytes } }
    return (bytes, try outcome.get())
  }

  // MARK: Driver

  /// ETHTOOL_GDRVINFO: the driver's name, version, firmware and bus address.
  package struct DriverInfo: Sendable, Equatable {
    package var driver: String
    package var version: String
    package var firmware: String
    package var bus: String
  }

  package func driverInfo(_ interface: String) throws(SystemError) -> DriverInfo {
    let info: ethtool_drvinfo = try get(interface, .getDriverInfo)
    func text<T>(_ field: T) -> String {
      withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    return DriverInfo(
      driver: text(info.driver), version: text(info.version), firmware: text(info.fw_version),
      bus: text(info.bus_info))
  }

  // MARK: Coalescing

  /// The 22 fields of struct ethtool_coalesce by the names `ethtool -C` takes, in the
  /// structure's order; `flag` marks the two adaptive switches (on/off).
  package static var coalesceFields: [(name: String, field: WritableKeyPath<ethtool_coalesce, UInt32>, flag: Bool)] {
    [
      ("rx-usecs", \.rx_coalesce_usecs, false), ("rx-frames", \.rx_max_coalesced_frames, false),
      ("rx-usecs-irq", \.rx_coalesce_usecs_irq, false), ("rx-frames-irq", \.rx_max_coalesced_frames_irq, false),
      ("tx-usecs", \.tx_coalesce_usecs, false), ("tx-frames", \.tx_max_coalesced_frames, false),
      ("tx-usecs-irq", \.tx_coalesce_usecs_irq, false), ("tx-frames-irq", \.tx_max_coalesced_frames_irq, false),
      ("stats-block-usecs", \.stats_block_coalesce_usecs, false),
      ("adaptive-rx", \.use_adaptive_rx_coalesce, true), ("adaptive-tx", \.use_adaptive_tx_coalesce, true),
      ("pkt-rate-low", \.pkt_rate_low, false), ("rx-usecs-low", \.rx_coalesce_usecs_low, false),
      ("rx-frames-low", \.rx_max_coalesced_frames_low, false), ("tx-usecs-low", \.tx_coalesce_usecs_low, false),
      ("tx-frames-low", \.tx_max_coalesced_frames_low, false), ("pkt-rate-high", \.pkt_rate_high, false),
      ("rx-usecs-high", \.rx_coalesce_usecs_high, false), ("rx-frames-high", \.rx_max_coalesced_frames_high, false),
      ("tx-usecs-high", \.tx_coalesce_usecs_high, false), ("tx-frames-high", \.tx_max_coalesced_frames_high, false),
      ("sample-interval", \.rate_sample_interval, false),
    ]
  }

  // MARK: Features

  /// One device's features (ETHTOOL_GFEATURES), named by ETH_SS_FEATURES strings.
  package struct Features: Sendable, Equatable {
    package struct Feature: Sendable, Equatable {
      package var name: String
      /// The bit in the GFEATURES/SFEATURES blocks (the string's index).
      package var bit: Int
      /// In hw_features: the driver lets it change.
      package var available: Bool
      package var requested: Bool
      package var active: Bool
      /// In NETIF_F_NEVER_CHANGE: fixed whatever the driver says.
      package var neverChanged: Bool

      /// What `ethtool -k` prints without "[fixed]".
      package var changeable: Bool { available && !neverChanged }
    }

    package var features: [Feature]
    /// The kernel's number of u32 words (`size`) a SFEATURES request must carry.
    package var words: Int

    package func named(_ name: String) -> Feature? { features.first { $0.name == name } }
  }

  /// The kernel's feature names: ETHTOOL_GSSET_INFO for the count, ETHTOOL_GSTRINGS for the names.
  package func featureNames(_ interface: String) throws(SystemError) -> [String] {
    let infoSize = MemoryLayout<ethtool_sset_info>.size + MemoryLayout<UInt32>.size
    let info = try variable(interface, size: infoSize, command: "ETHTOOL_GSSET_INFO") { raw in
      raw.storeBytes(of: UInt32(ETHTOOL_GSSET_INFO), toByteOffset: 0, as: UInt32.self)
      raw.storeBytes(
        of: UInt64(1) << UInt64(ETH_SS_FEATURES.rawValue),
        toByteOffset: MemoryLayout<ethtool_sset_info>.offset(of: \.sset_mask)!, as: UInt64.self)
    }
    let mask = info.bytes.withUnsafeBytes {
      $0.loadUnaligned(fromByteOffset: MemoryLayout<ethtool_sset_info>.offset(of: \.sset_mask)!, as: UInt64.self)
    }
    guard mask & (UInt64(1) << UInt64(ETH_SS_FEATURES.rawValue)) != 0 else {
      throw SystemError("ETHTOOL_GSSET_INFO", interface, .notSupported)
    }
    let count = Int(
      info.bytes.withUnsafeBytes {
        $0.loadUnaligned(fromByteOffset: MemoryLayout<ethtool_sset_info>.size, as: UInt32.self)
      })
    let length = Int(ETH_GSTRING_LEN)
    let header = MemoryLayout<ethtool_gstrings>.size
    let strings = try variable(interface, size: header + count * length, command: "ETHTOOL_GSTRINGS") { raw in
      raw.storeBytes(of: UInt32(ETHTOOL_GSTRINGS), toByteOffset: 0, as: UInt32.self)
      raw.storeBytes(
        of: ETH_SS_FEATURES.rawValue, toByteOffset: MemoryLayout<ethtool_gstrings>.offset(of: \.string_set)!,
        as: UInt32.self)
      raw.storeBytes(
        of: UInt32(count), toByteOffset: MemoryLayout<ethtool_gstrings>.offset(of: \.len)!, as: UInt32.self)
    }
    return (0..<count).map { i in
      let slice = strings.bytes[(header + i * length)..<(header + (i + 1) * length)]
      return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
    }
  }

  /// ETHTOOL_GFEATURES.
  package func features(_ interface: String) throws(SystemError) -> Features {
    let names = try featureNames(interface)
    let words = (names.count + 31) / 32
    let block = MemoryLayout<ethtool_get_features_block>.size
    let header = MemoryLayout<ethtool_gfeatures>.size
    let answer = try variable(interface, size: header + words * block, command: "ETHTOOL_GFEATURES") { raw in
      raw.storeBytes(of: UInt32(ETHTOOL_GFEATURES), toByteOffset: 0, as: UInt32.self)
      raw.storeBytes(
        of: UInt32(words), toByteOffset: MemoryLayout<ethtool_gfeatures>.offset(of: \.size)!, as: UInt32.self)
    }
    let size = Int(
      answer.bytes.withUnsafeBytes {
        $0.loadUnaligned(fromByteOffset: MemoryLayout<ethtool_gfeatures>.offset(of: \.size)!, as: UInt32.self)
      })
    let blocks: [ethtool_get_features_block] = (0..<min(words, size)).map { i in
      answer.bytes.withUnsafeBytes {
        $0.loadUnaligned(fromByteOffset: header + i * block, as: ethtool_get_features_block.self)
      }
    }
    func bit(_ path: KeyPath<ethtool_get_features_block, UInt32>, _ n: Int) -> Bool {
      n / 32 < blocks.count && blocks[n / 32][keyPath: path] & (UInt32(1) << UInt32(n % 32)) != 0
    }
    // Unused bits have empty names; they are not features.
    let features = names.enumerated().filter { !$0.element.isEmpty }.map { n, name in
      Features.Feature(
        name: name, bit: n, available: bit(\.available, n), requested: bit(\.requested, n), active: bit(\.active, n),
        neverChanged: bit(\.never_changed, n))
    }
    return Features(features: features, words: size)
  }

  /// ETHTOOL_SFEATURES: asks for each named feature on or off; returns the kernel's flags
  /// (ETHTOOL_F_UNSUPPORTED, ETHTOOL_F_WISH). Re-read to see what the kernel did.
  @discardableResult
  package func setFeatures(_ interface: String, _ wanted: [String: Bool], over current: Features) throws -> Int32 {
    let block = MemoryLayout<ethtool_set_features_block>.size
    let header = MemoryLayout<ethtool_sfeatures>.size
    var blocks = [ethtool_set_features_block](repeating: ethtool_set_features_block(), count: current.words)
    for feature in current.features {
      let n = feature.bit
      guard let on = wanted[feature.name], n / 32 < blocks.count else { continue }
      let bit = UInt32(1) << UInt32(n % 32)
      blocks[n / 32].valid |= bit
      if on { blocks[n / 32].requested |= bit }
    }
    forget(interface)
    try beforeWrite?("\(interface) ETHTOOL_SFEATURES")
    return try variable(interface, size: header + current.words * block, command: "ETHTOOL_SFEATURES", cached: false) {
      raw in
      raw.storeBytes(of: UInt32(ETHTOOL_SFEATURES), toByteOffset: 0, as: UInt32.self)
      raw.storeBytes(
        of: UInt32(current.words), toByteOffset: MemoryLayout<ethtool_sfeatures>.offset(of: \.size)!, as: UInt32.self)
      for (i, b) in blocks.enumerated() {
        raw.storeBytes(of: b, toByteOffset: header + i * block, as: ethtool_set_features_block.self)
      }
    }.result
  }
}
