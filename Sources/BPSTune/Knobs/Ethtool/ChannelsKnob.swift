import CLinux

/// Channel counts of an interface: rx, tx, other and combined of struct ethtool_channels
/// through ETHTOOL_GCHANNELS / ETHTOOL_SCHANNELS (`ethtool -l` / `-L`). A change re-creates
/// queues, their IRQs and NAPIs, so channels are written before anything that depends on them.
public struct ChannelsKnob: CountedStructureKnob {
  typealias Structure = ethtool_channels
  public let kind = "channels"
  let what = "channels"
  let noun = "channels"
  let phase = Phase.structure
  let commands: (get: Ethtool.Command, set: Ethtool.Command) = (get: .getChannels, set: .setChannels)

  public init() {}

  static var pairs:
    [(name: String, max: WritableKeyPath<ethtool_channels, UInt32>, field: WritableKeyPath<ethtool_channels, UInt32>)]
  {
    [
      ("rx", \.max_rx, \.rx_count), ("tx", \.max_tx, \.tx_count), ("other", \.max_other, \.other_count),
      ("combined", \.max_combined, \.combined_count),
    ]
  }

  /// ethtool_set_channels(): at least one rx and one tx channel, counting combined ones.
  func refusal(_ wanted: FieldMap, current: ethtool_channels) -> String? {
    let merged = applying(wanted, to: current)
    if merged.combined_count == 0 && merged.rx_count == 0 { return "the result would have no rx channel" }
    if merged.combined_count == 0 && merged.tx_count == 0 { return "the result would have no tx channel" }
    return nil
  }
}
