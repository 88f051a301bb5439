import CLinux

/// Ring sizes of an interface: rx, rx-mini, rx-jumbo and tx of struct ethtool_ringparam through
/// ETHTOOL_GRINGPARAM / ETHTOOL_SRINGPARAM (`ethtool -g` / `-G`). The kernel refuses a size
/// above the driver's maximum with EINVAL; most drivers re-create their queues on a change.
public struct RingKnob: CountedStructureKnob {
  typealias Structure = ethtool_ringparam
  public let kind = "ring"
  let what = "rings"
  let noun = "ring"
  let phase = Phase.structure
  let commands: (get: Ethtool.Command, set: Ethtool.Command) = (get: .getRings, set: .setRings)

  public init() {}

  static var pairs:
    [(name: String, max: WritableKeyPath<ethtool_ringparam, UInt32>, field: WritableKeyPath<ethtool_ringparam, UInt32>)]
  {
    [
      ("rx", \.rx_max_pending, \.rx_pending), ("rx-mini", \.rx_mini_max_pending, \.rx_mini_pending),
      ("rx-jumbo", \.rx_jumbo_max_pending, \.rx_jumbo_pending), ("tx", \.tx_max_pending, \.tx_pending),
    ]
  }
}
