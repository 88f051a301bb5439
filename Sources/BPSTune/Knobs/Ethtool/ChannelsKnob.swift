import CLinux

/// Channel counts of an interface: rx, tx, other and combined of struct ethtool_channels
/// through ETHTOOL_GCHANNELS / ETHTOOL_SCHANNELS (`ethtool -l` / `-L`). A change re-creates
/// queues, their IRQs and NAPIs, so channels are written before anything that depends on them.
public struct ChannelsKnob: CountedStructureKnob {
  public let kind = "channels"
  let what = "channels"
  let noun = "channels"
  let phase = Phase.structure

  public init() {}

  static var pairs:
    [(name: String, max: WritableKeyPath<ethtool_channels, UInt32>, field: WritableKeyPath<ethtool_channels, UInt32>)]
  {
    Ethtool.channelFields
  }

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> ethtool_channels {
    try ethtool.channels(interface)
  }

  func store(_ interface: String, _ value: ethtool_channels, to ethtool: Ethtool) throws {
    try ethtool.setChannels(interface, value)
  }

  /// ethtool_set_channels(): at least one rx and one tx channel, counting combined ones.
  func refusal(_ merged: ethtool_channels) -> String? {
    if merged.combined_count == 0 && merged.rx_count == 0 { return "the result would have no rx channel" }
    if merged.combined_count == 0 && merged.tx_count == 0 { return "the result would have no tx channel" }
    return nil
  }
}
