import CLinux

/// Ring sizes of an interface: rx, rx-mini, rx-jumbo and tx of struct ethtool_ringparam through
/// ETHTOOL_GRINGPARAM / ETHTOOL_SRINGPARAM (`ethtool -g` / `-G`). The kernel refuses a size
/// above the driver's maximum with EINVAL; most drivers re-create their queues on a change.
public struct RingKnob: CountedStructureKnob {
  public let kind = "ring"
  let what = "rings"
  let noun = "ring"
  let phase = Phase.structure

  public init() {}

  static var pairs:
    [(name: String, max: WritableKeyPath<ethtool_ringparam, UInt32>, field: WritableKeyPath<ethtool_ringparam, UInt32>)]
  {
    Ethtool.ringFields
  }

  func fetch(_ interface: String, from ethtool: Ethtool) throws(SystemError) -> ethtool_ringparam {
    try ethtool.ringParameters(interface)
  }

  func store(_ interface: String, _ value: ethtool_ringparam, to ethtool: Ethtool) throws {
    try ethtool.setRingParameters(interface, value)
  }
}
