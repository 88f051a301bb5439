import BPSTuneKernel

/// Ring sizes of an interface: rx, rx-mini, rx-jumbo and tx of struct ethtool_ringparam through
/// ETHTOOL_GRINGPARAM / ETHTOOL_SRINGPARAM (`ethtool -g` / `-G`). The kernel refuses a size
/// above the driver's maximum with EINVAL; most drivers re-create their queues on a change.
package struct RingKnob: CountedStructureKnob {
  typealias Structure = Ethtool.Rings
  package let kind = SettingKind.ring
  let what = "rings"
  let noun = "ring"
  let phase = Phase.structure
  let commands: (get: Ethtool.Command, set: Ethtool.Command) = (get: .getRings, set: .setRings)

  package init() {}

  static var pairs: [Ethtool.CountedField<Ethtool.Rings>] { Ethtool.ringFields }
}
