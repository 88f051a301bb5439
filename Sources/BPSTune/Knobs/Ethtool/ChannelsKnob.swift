import CLinux

/// Channel counts of an interface: rx, tx, other and combined of struct ethtool_channels
/// through ETHTOOL_GCHANNELS / ETHTOOL_SCHANNELS (`ethtool -l` / `-L`). A change re-creates
/// queues, their IRQs and NAPIs, so channels are written before anything that depends on them.
public struct ChannelsKnob: StructureKnob {
  public let kind = "channels"
  let what = "channels"
  let phase = Phase.structure

  public init() {}

  var fieldNames: [String] { Ethtool.channelFields.map(\.name) }

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> ethtool_channels {
    try ethtool.channels(interface)
  }

  func store(_ interface: String, _ value: ethtool_channels, to ethtool: Ethtool) throws {
    try ethtool.setChannels(interface, value)
  }

  func fields(of value: ethtool_channels) -> FieldMap {
    FieldMap(Ethtool.channelFields.map { ($0.name, String(value[keyPath: $0.field])) })
  }

  func applying(_ wanted: FieldMap, to value: ethtool_channels) -> ethtool_channels {
    var out = value
    for (name, _, field) in Ethtool.channelFields {
      if let n = wanted[name].flatMap({ UInt32($0) }) { out[keyPath: field] = n }
    }
    return out
  }

  func fieldValue(_ field: String, _ setting: ProfileSetting) throws(BPSTuneError) -> String {
    try u32(setting)
  }

  func limit(_ field: String, _ value: String, current: ethtool_channels, device: EthtoolDevice) -> String? {
    guard let channel = Ethtool.channelFields.first(where: { $0.name == field }), let n = UInt32(value) else {
      return nil
    }
    let max = current[keyPath: channel.max]
    if max == 0 && n != 0 { return "\(device.driver) has no \(field) channels" }
    if n > max { return "\(field) channels max is \(max)" }
    return nil
  }

  /// ethtool_set_channels(): at least one rx and one tx channel, counting combined ones.
  func refusal(_ merged: ethtool_channels) -> String? {
    if merged.combined_count == 0 && merged.rx_count == 0 { return "the result would have no rx channel" }
    if merged.combined_count == 0 && merged.tx_count == 0 { return "the result would have no tx channel" }
    return nil
  }
}
