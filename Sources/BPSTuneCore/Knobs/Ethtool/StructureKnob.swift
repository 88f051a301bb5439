import BPSTuneKernel
import SystemPackage

/// What the ethtool knobs share (channels, rings, coalescing, features). The whole structure of
/// an interface is one setting: its value is a ``FieldMap`` of every field, a profile names some
/// of them, and a write changes the named fields in one ioctl after reading the structure, so
/// untouched fields keep their values and a device re-creates its queues only once.
protocol StructureKnob: Knob {
  associatedtype Structure
  /// What the structure is, in messages ("coalescing").
  var what: String { get }
  var phase: Phase { get }

  /// The profile's table, checked without looking at the host: each field as written, the
  /// value as a field map records it, and where it came from.
  func wanted(_ setting: ProfileSetting) throws(BPSTuneError) -> [(field: String, value: String, origin: Origin)]
  /// What one asked field means on this device: the fields to set, or why the driver cannot.
  func resolve(_ field: String, _ value: String, current: Structure, device: EthtoolDevice) -> Resolution
  /// Why the fields as a whole cannot be written (channels without an rx channel), or nil.
  func refusal(_ wanted: FieldMap, current: Structure) -> String?
  /// Why a recorded value is not one this knob writes (checked before any request), or nil.
  func malformed(_ wanted: FieldMap) -> String?

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> Structure
  /// Writes the `wanted` fields over `current` (read just before) in one request.
  func store(_ interface: String, _ wanted: FieldMap, over current: Structure, to ethtool: Ethtool) throws
  /// Every field's value as recorded.
  func fields(of value: Structure) -> FieldMap
  /// The fields `bpstune show` prints.
  func shownFields(of value: Structure) -> FieldMap
}

/// What one field a profile asks for means on a device.
enum Resolution {
  /// The fields to set (a group name such as "tso" stands for several).
  case fields(FieldMap)
  /// Why the driver cannot take it ("rx ring max is 4096").
  case unsupported(String)
}

extension StructureKnob {
  /// ethtool's set ioctls check CAP_NET_ADMIN.
  package var writePrivileges: Set<Privilege> { [.netAdmin] }

  package var sections: [String] { [] }
  /// The profile key of an [[interface]] block is the kind's word ("ring = { rx = 1024 }").
  package var interfaceKeys: [String] { [kind.rawValue] }

  func refusal(_ wanted: FieldMap, current: Structure) -> String? { nil }
  func shownFields(of value: Structure) -> FieldMap { fields(of: value) }

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) { _ = try wanted(setting) }

  /// Why a snapshot's setting is not an interface's whole structure, or nil.
  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, id.key == kind.rawValue, id.queue == nil, let interface = id.interface else {
      return "not an interface's \(what)"
    }
    do {
      try ProfileLoader.checkInterfaceName(interface, at: Origin(file: "", key: ""))
    } catch {
      return "\"\(interface)\" is not an interface name"
    }
    return nil
  }

  /// The profile's fields and their origins, from its table; `value` reads one field.
  func table(
    _ setting: ProfileSetting, example: String, _ value: (String, ProfileSetting) throws(BPSTuneError) -> String
  ) throws(BPSTuneError) -> [(field: String, value: String, origin: Origin)] {
    guard case .table(let table) = setting.value else {
      throw setting.origin.error("expected a table of \(what) such as { \(example) }, got \(setting.value.typeName)")
    }
    if table.isEmpty { throw setting.origin.error("names no \(what) field") }
    var out: [(String, String, Origin)] = []
    for key in table.keys.sorted() {
      let origin = Origin(file: setting.origin.file, key: "\(setting.origin.key).\(key)")
      out.append((key, try value(key, ProfileSetting(key: key, value: table[key]!, origin: origin)), origin))
    }
    return out
  }

  /// One target per interface with the fields the driver can take, and one unsupported target
  /// ("IF ring.rx") per field it cannot; a structure the driver lacks is one unsupported target.
  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let ethtool = request.host.ethtool
    var out: [Target] = []
    for (spec, names) in request.interfaces {
      guard let setting = spec.settings.first(where: { $0.key == kind.rawValue }) else { continue }
      let asked = try wanted(setting)
      for interface in names {
        var target = Target(
          id: SettingID(kind: kind, interface: interface, key: kind.rawValue), desired: "", semantics: .fields,
          phase: phase, origin: setting.origin.description)
        let current: Structure
        do {
          current = try fetch(interface, from: ethtool)
        } catch {
          target.desired = FieldMap(asked.map { ($0.field, $0.value) }).description
          target.unsupported = EthtoolSupport.reason(error, interface: interface, what: what, on: ethtool)
          out.append(target)
          continue
        }
        let device = EthtoolDevice(interface: interface, ethtool: ethtool, host: request.host)
        var accepted = FieldMap()
        for (field, value, origin) in asked {
          switch resolve(field, value, current: current, device: device) {
          case .fields(let map):
            for f in map.fields { accepted[f.name] = f.value }
          case .unsupported(let why):
            out.append(
              Target(
                id: SettingID(kind: kind, interface: interface, key: "\(kind).\(field)"), desired: value,
                semantics: .text, phase: phase, origin: origin.description, unsupported: why))
          }
        }
        guard !accepted.isEmpty else { continue }
        if let why = refusal(accepted, current: current) {
          throw .invalidPlan(setting: "\(interface) \(kind)", message: why)
        }
        target.desired = accepted.description
        out.append(target)
      }
    }
    return out
  }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    if let why = rejection(of: id) { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    return fields(of: try fetch(id.interface!, from: host.ethtool)).description
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    if let why = rejection(of: id) ?? malformed(FieldMap(parsing: value) ?? FieldMap()) {
      throw BPSTuneError.invalidPlan(setting: id.description, message: why)
    }
    let interface = id.interface!
    // Read-modify-write on what the kernel has now, not on what planning cached.
    host.ethtool.forget(interface)
    let current = try fetch(interface, from: host.ethtool)
    try store(interface, FieldMap(parsing: value)!, over: current, to: host.ethtool)
  }

  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    interfaces.flatMap { interface in
      EthtoolSupport.shown(kind, interface: interface, what: what, on: host.ethtool) {
        () throws(SystemError) -> FieldMap in shownFields(of: try fetch(interface, from: host.ethtool))
      }
    }
  }
}

/// A structure of u32 fields with fixed names, one ioctl each way: coalescing, rings, channels.
protocol FieldTableKnob: StructureKnob where Structure: EthtoolStructure {
  /// Field names as ethtool takes them, in the structure's order.
  var fieldNames: [String] { get }
  var commands: (get: Ethtool.Command, set: Ethtool.Command) { get }
  func applying(_ wanted: FieldMap, to value: Structure) -> Structure
  /// A profile value of one field, as the field map records it.
  func fieldValue(_ field: String, _ setting: ProfileSetting) throws(BPSTuneError) -> String
  /// Why the driver cannot take this field value ("rx ring max is 4096"), or nil.
  func limit(_ field: String, _ value: String, current: Structure, device: EthtoolDevice) -> String?
}

extension FieldTableKnob {
  func wanted(_ setting: ProfileSetting) throws(BPSTuneError) -> [(field: String, value: String, origin: Origin)] {
    try table(setting, example: "\(fieldNames[0]) = 1") { key, field throws(BPSTuneError) in
      guard fieldNames.contains(key) else {
        throw field.origin.error("unknown \(what) field" + Suggestion.hint(for: key, in: fieldNames))
      }
      return try fieldValue(key, field)
    }
  }

  func resolve(_ field: String, _ value: String, current: Structure, device: EthtoolDevice) -> Resolution {
    limit(field, value, current: current, device: device).map { .unsupported($0) }
      ?? .fields(FieldMap([(field, value)]))
  }

  func malformed(_ wanted: FieldMap) -> String? {
    let fine =
      !wanted.isEmpty && wanted.names.allSatisfy(fieldNames.contains)
      && wanted.fields.allSatisfy { UInt32($0.value) != nil || FieldMap.flag($0.value) != nil }
    return fine ? nil : "\"\(wanted)\" is not a list of \(what) fields"
  }

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> Structure {
    try ethtool.get(interface, commands.get)
  }

  func store(_ interface: String, _ wanted: FieldMap, over current: Structure, to ethtool: Ethtool) throws {
    try ethtool.set(interface, applying(wanted, to: current), commands.set)
  }

  /// A u32 field value from a profile (times in the field's kernel unit: µs for the coalescing
  /// *-usecs fields, seconds for sample-interval).
  func u32(_ setting: ProfileSetting, unit: TimeUnit? = nil) throws(BPSTuneError) -> String {
    String(try ValueReader.integer(setting, 0...Int64(UInt32.max), unit: unit))
  }
}

/// A structure of (maximum, current) pairs: rings and channels. The kernel refuses a value above
/// the driver's maximum with EINVAL; a maximum of 0 means the driver has no such ring or channel.
protocol CountedStructureKnob: FieldTableKnob {
  /// Field name, the maximum's key path, the current value's key path.
  static var pairs: [(name: String, max: WritableKeyPath<Structure, UInt32>, field: WritableKeyPath<Structure, UInt32>)]
  {
    get
  }
  /// "ring" or "channels", after the field name in messages ("rx ring max is 4096").
  var noun: String { get }
}

extension CountedStructureKnob {
  var fieldNames: [String] { Self.pairs.map(\.name) }

  func fields(of value: Structure) -> FieldMap {
    FieldMap(Self.pairs.map { ($0.name, String(value[keyPath: $0.field])) })
  }

  func applying(_ wanted: FieldMap, to value: Structure) -> Structure {
    var out = value
    for (name, _, field) in Self.pairs {
      if let n = wanted[name].flatMap({ UInt32($0) }) { out[keyPath: field] = n }
    }
    return out
  }

  func fieldValue(_ field: String, _ setting: ProfileSetting) throws(BPSTuneError) -> String {
    try u32(setting)
  }

  func limit(_ field: String, _ value: String, current: Structure, device: EthtoolDevice) -> String? {
    guard let pair = Self.pairs.first(where: { $0.name == field }), let n = UInt32(value) else { return nil }
    let max = current[keyPath: pair.max]
    if max == 0 && n != 0 { return "\(device.driver) has no \(field) \(noun)" }
    if n > max { return "\(field) \(noun) max is \(max)" }
    return nil
  }
}

/// One interface's device as the plan asks about it: its driver's name and what it supports.
final class EthtoolDevice {
  let interface: String
  let ethtool: Ethtool
  let host: KernelHost

  init(interface: String, ethtool: Ethtool, host: KernelHost) {
    self.interface = interface
    self.ethtool = ethtool
    self.host = host
  }

  /// The virtio device's negotiated feature bits (/sys/class/net/IF/device/features, one 0/1
  /// character per bit), for virtio_net; nil for other drivers or when it cannot be read.
  lazy var virtioFeatures: [Character]? = {
    guard driver == "virtio_net", let bits = try? host.read("/sys/class/net/\(interface)/device/features") else {
      return nil
    }
    return Array(bits)
  }()

  lazy var driver = EthtoolSupport.driver(interface, on: ethtool)
  /// The coalescing fields the driver supports, by name; nil when that cannot be known.
  lazy var coalesceSupport: Set<String>? = {
    guard let flags = try? ethtool.transport.coalesceSupport(interface) else { return nil }
    return Set(zip(Ethtool.coalesceFields, flags).filter(\.1).map(\.0.name))
  }()
}

/// Messages about what a device's driver can do.
enum EthtoolSupport {
  /// One `show` line per field ("channels.rx 1"), or one line saying why there are none.
  static func shown(
    _ kind: SettingKind, interface: String, what: String, on ethtool: Ethtool,
    _ fields: () throws(SystemError) -> FieldMap
  ) -> [ShownSetting] {
    do {
      return try fields().fields.map {
        ShownSetting(
          id: SettingID(kind: kind, interface: interface, key: "\(kind).\($0.name)"), value: $0.value,
          semantics: .text, unavailable: nil)
      }
    } catch {
      return [
        ShownSetting(
          id: SettingID(kind: kind, interface: interface, key: kind.rawValue), value: nil, semantics: .text,
          unavailable: reason(error, interface: interface, what: what, on: ethtool))
      ]
    }
  }

  /// The driver's name (ETHTOOL_GDRVINFO), or the interface's when it has none.
  static func driver(_ interface: String, on ethtool: Ethtool) -> String {
    (try? ethtool.driverInfo(interface).driver).flatMap { $0.isEmpty ? nil : $0 } ?? interface
  }

  /// Why a structure cannot be read: "veth does not support coalescing (ETHTOOL_GCOALESCE:
  /// Operation not supported (EOPNOTSUPP))".
  static func reason(_ error: any Error, interface: String, what: String, on ethtool: Ethtool) -> String {
    guard let e = error as? SystemError else { return "cannot read \(what): \(error)" }
    if e.errno == .notSupported {
      return "\(driver(interface, on: ethtool)) does not support \(what) (\(e.operation): \(e.reason))"
    }
    return "cannot read \(what): \(e.operation) \(interface): \(e.reason)"
  }
}
