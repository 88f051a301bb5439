/// Offload features of an interface through ETHTOOL_GFEATURES / ETHTOOL_SFEATURES, named by the
/// kernel's ETH_SS_FEATURES strings (ETHTOOL_GSTRINGS) as `ethtool -k` prints them, or by
/// ethtool's long and short names ("generic-receive-offload", "gro"), which stand for every
/// kernel feature their pattern matches ("tso" is every "tx-tcp*-segmentation").
///
/// The value of one interface's features is a ``FieldMap`` of every feature ("rx-gro=on ...");
/// the kernel may turn other features on or off with the ones asked for (turning off
/// tx-checksumming turns off TSO), and the executor records those in the snapshot too.
public struct FeaturesKnob: Knob {
  public let kind = "features"
  public let sections: [String] = []
  public var interfaceKeys: [String] { [kind] }

  public init() {}

  /// ethtool's names for groups of kernel features (off_flag_def in ethtool's common.c).
  static let groups: [(short: String, long: String, pattern: String)] = [
    ("rx", "rx-checksumming", "rx-checksum"), ("tx", "tx-checksumming", "tx-checksum-*"),
    ("sg", "scatter-gather", "tx-scatter-gather*"), ("tso", "tcp-segmentation-offload", "tx-tcp*-segmentation"),
    ("ufo", "udp-fragmentation-offload", "tx-udp-fragmentation"),
    ("gso", "generic-segmentation-offload", "tx-generic-segmentation"),
    ("gro", "generic-receive-offload", "rx-gro"), ("lro", "large-receive-offload", "rx-lro"),
    ("rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse"), ("txvlan", "tx-vlan-offload", "tx-vlan-hw-insert"),
    ("ntuple", "ntuple-filters", "rx-ntuple-filter"), ("rxhash", "receive-hashing", "rx-hashing"),
  ]

  static func group(_ name: String) -> (short: String, long: String, pattern: String)? {
    groups.first { $0.short == name || $0.long == name }
  }

  /// The profile's features: name -> on/off.
  func wanted(_ setting: ProfileSetting) throws(BPSTuneError) -> [(name: String, on: Bool, origin: Origin)] {
    guard case .table(let table) = setting.value else {
      throw setting.origin.error("expected a table of features such as { gro = false }, got \(setting.value.typeName)")
    }
    if table.isEmpty { throw setting.origin.error("names no feature") }
    var out: [(String, Bool, Origin)] = []
    for name in table.keys.sorted() {
      let origin = Origin(file: setting.origin.file, key: "\(setting.origin.key).\(name)")
      guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
      else { throw origin.error("\"\(name)\" is not a feature name") }
      out.append((name, try ValueReader.bool(ProfileSetting(key: name, value: table[name]!, origin: origin)), origin))
    }
    return out
  }

  public func check(_ setting: ProfileSetting) throws(BPSTuneError) { _ = try wanted(setting) }

  public func rejection(of id: SettingID) -> String? {
    EthtoolSupport.rejection(of: id, kind: kind, what: "features")
  }

  public func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let ethtool = request.host.ethtool
    var out: [Target] = []
    for (spec, names) in request.interfaces {
      guard let setting = spec.settings.first(where: { $0.key == kind }) else { continue }
      let asked = try wanted(setting)
      for interface in names {
        let id = SettingID(kind: kind, interface: interface, key: kind)
        let features: Ethtool.Features
        do {
          features = try ethtool.features(interface)
        } catch {
          var target = Target(
            id: id, desired: "", semantics: .fields, phase: .device, origin: setting.origin.description)
          target.desired = asked.map { "\($0.name)=\($0.on ? "on" : "off")" }.joined(separator: " ")
          target.unsupported = EthtoolSupport.reason(error, interface: interface, what: "features", on: ethtool)
          out.append(target)
          continue
        }
        var accepted = FieldMap()
        for (name, on, origin) in asked {
          let value = on ? "on" : "off"
          func unsupported(_ why: String) {
            out.append(
              Target(
                id: SettingID(kind: kind, interface: interface, key: "features.\(name)"), desired: value,
                semantics: .text, phase: .device, origin: origin.description, unsupported: why))
          }
          let members: [Ethtool.Features.Feature]
          if let feature = features.named(name) {
            members = [feature]
          } else if let group = Self.group(name) {
            members = features.features.filter { Syscalls.globMatches(group.pattern, $0.name) }
          } else {
            let known = features.features.map(\.name) + Self.groups.flatMap { [$0.short, $0.long] }
            unsupported("this kernel has no feature \(name)" + Suggestion.hint(for: name, in: known))
            continue
          }
          // As `ethtool -K` does: change what can change; a fixed feature is fine when it
          // already is as asked, and unsupported when it is not.
          let changeable = members.filter(\.changeable)
          let stuck = members.filter { !$0.changeable && $0.active != on }
          if members.isEmpty {
            unsupported("\(interface) has no feature matching \(name)")
          } else if changeable.isEmpty && !stuck.isEmpty {
            unsupported(stuck.map(\.name).joined(separator: ", ") + " is fixed (\(stuck[0].active ? "on" : "off"))")
          } else if members.count == 1 || changeable.isEmpty {
            for m in members { accepted[m.name] = m.changeable ? value : (m.active ? "on" : "off") }
          } else {
            for m in changeable { accepted[m.name] = value }
          }
        }
        guard !accepted.isEmpty else { continue }
        out.append(
          Target(
            id: id, desired: accepted.description, semantics: .fields, phase: .device,
            origin: setting.origin.description))
      }
    }
    return out
  }

  public func read(_ id: SettingID, on host: KernelHost) throws -> String {
    if let why = rejection(of: id) { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    let features = try host.ethtool.features(id.interface!)
    return FieldMap(features.features.map { ($0.name, $0.active ? "on" : "off") }).description
  }

  public func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    if let why = rejection(of: id) { throw BPSTuneError.invalidPlan(setting: id.description, message: why) }
    guard let map = FieldMap(parsing: value), !map.isEmpty else {
      throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(value)\" is not a list of features")
    }
    var wanted: [String: Bool] = [:]
    for field in map.fields {
      guard let on = FieldMap.flag(field.value) else {
        throw BPSTuneError.invalidPlan(setting: id.description, message: "\(field.name)=\(field.value) is not on/off")
      }
      wanted[field.name] = on
    }
    host.ethtool.forget()
    let features = try host.ethtool.features(id.interface!)
    // Fixed features cannot be asked for; one already as wanted is left out of the request.
    for name in wanted.keys {
      guard let feature = features.named(name) else {
        throw BPSTuneError.invalidPlan(setting: id.description, message: "this kernel has no feature \(name)")
      }
      if !feature.changeable { wanted[name] = nil }
    }
    if !wanted.isEmpty { try host.ethtool.setFeatures(id.interface!, wanted) }
  }

  /// Every changeable feature with its state (what `ethtool -k` prints without "[fixed]").
  public func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    interfaces.flatMap { interface in
      EthtoolSupport.shown(kind, interface: interface, what: "features", on: host.ethtool) {
        () throws(SystemError) -> FieldMap in
        let features = try host.ethtool.features(interface)
        return FieldMap(features.features.filter(\.changeable).map { ($0.name, $0.active ? "on" : "off") })
      }
    }
  }
}
