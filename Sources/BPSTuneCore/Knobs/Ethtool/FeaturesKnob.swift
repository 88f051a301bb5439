import BPSTuneKernel

/// Offload features of an interface through ETHTOOL_GFEATURES / ETHTOOL_SFEATURES, named by the
/// kernel's ETH_SS_FEATURES strings (ETHTOOL_GSTRINGS) as `ethtool -k` prints them, or by
/// ethtool's long and short names ("generic-receive-offload", "gro"), which stand for every
/// kernel feature their pattern matches ("tso" is every "tx-tcp*-segmentation").
///
/// The value of one interface's features is a ``FieldMap`` of every feature ("rx-gro=on ...");
/// the kernel may turn other features on or off with the ones asked for (turning off
/// tx-checksumming turns off TSO), and the executor records those in the snapshot too.
package struct FeaturesKnob: StructureKnob {
  package let kind = SettingKind.features
  let what = "features"
  let phase = Phase.device

  package init() {}

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

  /// The profile's features: each name with "on" or "off". Which names exist is the kernel's
  /// business, known only on the host.
  func wanted(_ setting: ProfileSetting) throws(BPSTuneError) -> [(field: String, value: String, origin: Origin)] {
    try table(setting, example: "gro = false") { name, field throws(BPSTuneError) in
      guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
        throw field.origin.error("\"\(name)\" is not a feature name")
      }
      return try ValueReader.bool(field) ? "on" : "off"
    }
  }

  /// As `ethtool -K` does: a name stands for its kernel feature, or a group name for every
  /// feature its pattern matches; what can change is set, a fixed feature is fine when it
  /// already is as asked, and unsupported when it is not.
  func resolve(_ name: String, _ value: String, current: Ethtool.Features, device: EthtoolDevice) -> Resolution {
    let on = value == "on"
    let members: [Ethtool.Features.Feature]
    if let feature = current.named(name) {
      members = [feature]
    } else if let group = Self.group(name) {
      members = current.features.filter { Syscalls.globMatches(group.pattern, $0.name) }
    } else {
      let known = current.features.map(\.name) + Self.groups.flatMap { [$0.short, $0.long] }
      return .unsupported("this kernel has no feature \(name)" + Suggestion.hint(for: name, in: known))
    }
    let changeable = members.filter(\.changeable)
    let stuck = members.filter { !$0.changeable && $0.active != on }
    if members.isEmpty { return .unsupported("\(device.interface) has no feature matching \(name)") }
    if changeable.isEmpty && !stuck.isEmpty {
      return .unsupported(stuck.map(\.name).joined(separator: ", ") + " is fixed (\(stuck[0].active ? "on" : "off"))")
    }
    // A single feature, or a group with nothing changeable, is compared as it is; a group
    // otherwise stands for its changeable members.
    let chosen = members.count == 1 || changeable.isEmpty ? members : changeable
    return .fields(FieldMap(chosen.map { ($0.name, $0.changeable ? value : ($0.active ? "on" : "off")) }))
  }

  func malformed(_ wanted: FieldMap) -> String? {
    wanted.isEmpty || wanted.fields.contains { FieldMap.flag($0.value) == nil }
      ? "\"\(wanted)\" is not a list of features with on or off" : nil
  }

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> Ethtool.Features {
    try ethtool.features(interface)
  }

  /// One ETHTOOL_SFEATURES asking for the changeable features named; fixed ones cannot be asked
  /// for (planning has made sure they already are as wanted).
  func store(_ interface: String, _ wanted: FieldMap, over current: Ethtool.Features, to ethtool: Ethtool) throws {
    var request: [String: Bool] = [:]
    for field in wanted.fields {
      guard let feature = current.named(field.name) else {
        throw BPSTuneError.invalidPlan(
          setting: "\(interface) features", message: "this kernel has no feature \(field.name)")
      }
      if feature.changeable { request[field.name] = FieldMap.flag(field.value) }
    }
    if !request.isEmpty { try ethtool.setFeatures(interface, request, over: current) }
  }

  func fields(of value: Ethtool.Features) -> FieldMap {
    FieldMap(value.features.map { ($0.name, $0.active ? "on" : "off") })
  }

  /// Every changeable feature (what `ethtool -k` prints without "[fixed]").
  func shownFields(of value: Ethtool.Features) -> FieldMap {
    FieldMap(value.features.filter(\.changeable).map { ($0.name, $0.active ? "on" : "off") })
  }
}
