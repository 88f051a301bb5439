/// What the ethtool knobs for one fixed structure (coalescing, rings, channels) share. The
/// whole structure of an interface is one setting: its value is a ``FieldMap`` of every field,
/// a profile names some of them, and a write is read-modify-write of the whole structure in one
/// ioctl, so untouched fields keep their values and a device re-creates its queues only once.
protocol StructureKnob: Knob {
  associatedtype Structure
  /// What the structure is, in messages ("coalescing").
  var what: String { get }
  var phase: Phase { get }
  /// Field names as ethtool takes them, in the structure's order.
  var fieldNames: [String] { get }

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> Structure
  func store(_ interface: String, _ value: Structure, to ethtool: Ethtool) throws
  func fields(of value: Structure) -> FieldMap
  func applying(_ wanted: FieldMap, to value: Structure) -> Structure
  /// A profile value of one field, as the field map records it.
  func fieldValue(_ field: String, _ setting: ProfileSetting) throws(BPSTuneError) -> String
  /// Why the driver cannot take this field value ("rx ring max is 4096"), or nil.
  func limit(_ field: String, _ value: String, current: Structure, device: EthtoolDevice) -> String?
  /// Why the structure as a whole cannot be written (channels without an rx channel), or nil.
  func refusal(_ merged: Structure) -> String?
}

extension StructureKnob {
  public var sections: [String] { [] }
  public var interfaceKeys: [String] { [kind] }

  func refusal(_ merged: Structure) -> String? { nil }

  /// The profile's table of fields, each checked.
  func wanted(_ setting: ProfileSetting) throws(BPSTuneError) -> [(field: String, value: String, origin: Origin)] {
    guard case .table(let table) = setting.value else {
      throw setting.origin.error(
        "expected a table of \(what) fields such as { \(fieldNames[0]) = 1 }, got \(setting.value.typeName)")
    }
    if table.isEmpty { throw setting.origin.error("names no \(what) field") }
    var out: [(String, String, Origin)] = []
    for key in table.keys.sorted() {
      let origin = Origin(file: setting.origin.file, key: "\(setting.origin.key).\(key)")
      guard fieldNames.contains(key) else {
        throw origin.error("unknown \(what) field" + Suggestion.hint(for: key, in: fieldNames))
      }
      let value = try fieldValue(key, ProfileSetting(key: key, value: table[key]!, origin: origin))
      out.append((key, value, origin))
    }
    return out
  }

  public func check(_ setting: ProfileSetting) throws(BPSTuneError) { _ = try wanted(setting) }

  public func rejection(of id: SettingID) -> String? { EthtoolSupport.rejection(of: id, kind: kind, what: what) }

  public func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let ethtool = request.host.ethtool
    var out: [Target] = []
    for (spec, names) in request.interfaces {
      guard let setting = spec.settings.first(where: { $0.key == kind }) else { continue }
      let fields = try wanted(setting)
      for interface in names {
        let id = SettingID(kind: kind, interface: interface, key: kind)
        var target = Target(
          id: id, desired: "", semantics: .fields, phase: phase, origin: setting.origin.description)
        let current: Structure
        do {
          current = try fetch(interface, from: ethtool)
        } catch {
          target.desired = FieldMap(fields.map { ($0.field, $0.value) }).description
          target.unsupported = EthtoolSupport.reason(error, interface: interface, what: what, on: ethtool)
          out.append(target)
          continue
        }
        let device = EthtoolDevice(interface: interface, ethtool: ethtool)
        var accepted = FieldMap()
        for (field, value, origin) in fields {
          if let why = limit(field, value, current: current, device: device) {
            out.append(
              Target(
                id: SettingID(kind: kind, interface: interface, key: "\(kind).\(field)"), desired: value,
                semantics: .text, phase: phase, origin: origin.description, unsupported: why))
          } else {
            accepted[field] = value
          }
        }
        guard !accepted.isEmpty else { continue }
        if let why = refusal(applying(accepted, to: current)) {
          throw .invalidPlan(setting: "\(interface) \(kind)", message: why)
        }
        target.desired = accepted.description
        out.append(target)
      }
    }
    return out
  }

  public func read(_ id: SettingID, on host: KernelHost) throws -> String {
    if let why = rejection(of: id) { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    return fields(of: try fetch(id.interface!, from: host.ethtool)).description
  }

  public func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    if let why = rejection(of: id) { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    guard let wanted = FieldMap(parsing: value), !wanted.isEmpty,
      wanted.names.allSatisfy(fieldNames.contains),
      wanted.fields.allSatisfy({ UInt32($0.value) != nil || FieldMap.flag($0.value) != nil })
    else {
      throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(value)\" is not a list of \(what) fields")
    }
    let interface = id.interface!
    host.ethtool.forget()
    let current = try fetch(interface, from: host.ethtool)
    try store(interface, applying(wanted, to: current), to: host.ethtool)
  }

  public func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    interfaces.flatMap { interface in
      EthtoolSupport.shown(kind, interface: interface, what: what, on: host.ethtool) {
        () throws(SystemError) -> FieldMap in fields(of: try fetch(interface, from: host.ethtool))
      }
    }
  }

  /// A u32 field value from a profile (times in µs for the coalescing *-usecs fields).
  func u32(_ setting: ProfileSetting, unit: TimeUnit? = nil) throws(BPSTuneError) -> String {
    String(try ValueReader.integer(setting, 0...Int64(UInt32.max), unit: unit))
  }
}

/// A structure of (maximum, current) pairs: rings and channels. The kernel refuses a value above
/// the driver's maximum with EINVAL; a maximum of 0 means the driver has no such ring or channel.
protocol CountedStructureKnob: StructureKnob {
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

  init(interface: String, ethtool: Ethtool) {
    self.interface = interface
    self.ethtool = ethtool
  }

  lazy var driver = EthtoolSupport.driver(interface, on: ethtool)
  /// The coalescing fields the driver supports, by name; nil when that cannot be known.
  lazy var coalesceSupport: Set<String>? = {
    guard let flags = try? ethtool.transport.coalesceSupport(interface) else { return nil }
    return Set(zip(Ethtool.coalesceFields, flags).filter(\.1).map(\.0.name))
  }()
}

/// Messages about what a device's driver can do.
enum EthtoolSupport {
  /// Why a snapshot's setting is not an interface's whole `kind` structure, or nil.
  static func rejection(of id: SettingID, kind: String, what: String) -> String? {
    guard id.kind == kind, id.key == kind, id.queue == nil, let interface = id.interface else {
      return "not an interface's \(what)"
    }
    do {
      try ProfileLoader.checkInterfaceName(interface, at: Origin(file: "", key: ""))
    } catch {
      return "\"\(interface)\" is not an interface name"
    }
    return nil
  }

  /// One `show` line per field ("channels.rx 1"), or one line saying why there are none.
  static func shown(
    _ kind: String, interface: String, what: String, on ethtool: Ethtool, _ fields: () throws(SystemError) -> FieldMap
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
          id: SettingID(kind: kind, interface: interface, key: kind), value: nil, semantics: .text,
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
