import CLinux

/// Ring sizes of an interface: rx, rx-mini, rx-jumbo and tx of struct ethtool_ringparam through
/// ETHTOOL_GRINGPARAM / ETHTOOL_SRINGPARAM (`ethtool -g` / `-G`). The kernel refuses a size
/// above the driver's maximum with EINVAL; most drivers re-create their queues on a change.
public struct RingKnob: StructureKnob {
  public let kind = "ring"
  let what = "rings"
  let phase = Phase.structure

  public init() {}

  var fieldNames: [String] { Ethtool.ringFields.map(\.name) }

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> ethtool_ringparam {
    try ethtool.ringParameters(interface)
  }

  func store(_ interface: String, _ value: ethtool_ringparam, to ethtool: Ethtool) throws {
    try ethtool.setRingParameters(interface, value)
  }

  func fields(of value: ethtool_ringparam) -> FieldMap {
    FieldMap(Ethtool.ringFields.map { ($0.name, String(value[keyPath: $0.field])) })
  }

  func applying(_ wanted: FieldMap, to value: ethtool_ringparam) -> ethtool_ringparam {
    var out = value
    for (name, _, field) in Ethtool.ringFields {
      if let n = wanted[name].flatMap({ UInt32($0) }) { out[keyPath: field] = n }
    }
    return out
  }

  func fieldValue(_ field: String, _ setting: ProfileSetting) throws(BPSTuneError) -> String {
    try u32(setting)
  }

  func limit(_ field: String, _ value: String, current: ethtool_ringparam, device: EthtoolDevice) -> String? {
    guard let ring = Ethtool.ringFields.first(where: { $0.name == field }), let n = UInt32(value) else { return nil }
    let max = current[keyPath: ring.max]
    if max == 0 && n != 0 { return "\(device.driver) has no \(field) ring" }
    if n > max { return "\(field) ring max is \(max)" }
    return nil
  }
}
