import BPSTuneKernel

/// Channel counts of an interface: rx, tx, other and combined of struct ethtool_channels
/// through ETHTOOL_GCHANNELS / ETHTOOL_SCHANNELS (`ethtool -l` / `-L`). A change re-creates
/// queues, their IRQs and NAPIs, so channels are written before anything that depends on them.
package struct ChannelsKnob: CountedStructureKnob {
  typealias Structure = Ethtool.Channels
  package let kind = SettingKind.channels
  let what = "channels"
  let noun = "channels"
  let phase = Phase.structure
  let commands: (get: Ethtool.Command, set: Ethtool.Command) = (get: .getChannels, set: .setChannels)

  package init() {}

  static var pairs: [Ethtool.CountedField<Ethtool.Channels>] { Ethtool.channelFields }

  /// ethtool_set_channels(): at least one rx and one tx channel, counting combined ones.
  func refusal(_ wanted: FieldMap, current: Ethtool.Channels) -> String? {
    let merged = fields(of: applying(wanted, to: current))
    if merged["combined"] == "0" && merged["rx"] == "0" { return "the result would have no rx channel" }
    if merged["combined"] == "0" && merged["tx"] == "0" { return "the result would have no tx channel" }
    return nil
  }
}
