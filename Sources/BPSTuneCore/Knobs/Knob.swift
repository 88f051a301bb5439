import BPSTuneKernel

/// One kind of setting (sysctl, sysfs, netdev sysfs, ethtool, IRQ, NAPI, kthread).
/// Adding a kind is adding a ``SettingKind`` case and one type that conforms to this protocol,
/// returned by ``KnobRegistry/knob(for:)`` and listed in ``KnobRegistry/standard``: the loader,
/// planner, applier, snapshots and renderers all work through this interface.
package protocol Knob: Sendable {
  /// The kind recorded in snapshots and ``SettingID/kind``.
  var kind: SettingKind { get }
  /// Top-level profile sections this knob owns ("sysctl").
  var sections: [String] { get }
  /// [[interface]] keys this knob owns ("threaded", "rps-cpus").
  var interfaceKeys: [String] { get }

  /// The spelling two keys of the same setting share (dotted and slashed sysctl names).
  func canonicalKey(_ key: String) -> String

  /// Checks a profile value's type and range without looking at the host (lint).
  func check(_ setting: ProfileSetting) throws(BPSTuneError)

  /// The concrete settings the profile asks of this knob on this host.
  func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target]

  /// The current value, as the kernel prints it.
  func read(_ id: SettingID, on host: KernelHost) throws -> String

  /// Writes a value (as produced by ``targets(for:)`` or recorded in a snapshot).
  func write(_ id: SettingID, _ value: String, on host: KernelHost) throws

  /// Why a setting identity read from a snapshot is not acceptable, or nil when it is.
  func rejection(of id: SettingID) -> String?

  /// Whether the setting no longer exists because a change of channels or rings removed the
  /// queue it belonged to (so there is nothing to restore).
  func isGone(_ id: SettingID, on host: KernelHost) -> Bool

  /// What the user should know about the planned entries of this kind before applying them.
  func warnings(for request: PlanRequest, entries: [PlanEntry]) -> [String]

  /// The busy-poll-relevant settings of this kind, for `bpstune show`.
  func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting]

  /// What writing a setting of this kind needs besides root (a snapshot entry's kind).
  var writePrivileges: Set<Privilege> { get }

  /// What writing this profile setting needs besides root.
  func privileges(for setting: ProfileSetting) -> Set<Privilege>
}

/// A current value shown by `bpstune show`.
package struct ShownSetting: Sendable, Codable {
  package var id: SettingID
  package var value: String?
  package var semantics: ValueSemantics
  /// Why there is no value (file absent, read refused).
  package var unavailable: String?
}

/// What a knob plans from: the profile, the host, and the interfaces its blocks matched.
package struct PlanRequest {
  package var profile: Profile
  package var host: KernelHost
  /// Each [[interface]] block with the existing interfaces it names.
  package var interfaces: [(spec: InterfaceSpec, names: [String])]
}

/// The knobs this bpstune has.
package enum KnobRegistry {
  /// Every knob, once, in the order they plan: within a phase the plan lists settings in this
  /// order (``Planner``).
  package static let standard: [any Knob] = [
    SysctlKnob(), SysfsKnob(), DriverKnob(), ChannelsKnob(), RingKnob(), CoalesceKnob(), FeaturesKnob(),
    NetdevSysfsKnob(), IRQKnob(), NAPIKnob(), KthreadKnob(), CPUKnob(), CmdlineKnob(),
  ]

  /// The knob that reads and writes settings of `kind`, decided for every kind by this switch;
  /// nil for ``SettingKind/host`` alone, facts `bpstune show` lists that nothing reads through
  /// a knob or writes (a snapshot naming one is refused, a plan never has one).
  package static func knob(for kind: SettingKind) -> (any Knob)? {
    switch kind {
    case .sysctl: SysctlKnob()
    case .sysfs: SysfsKnob()
    case .netdev: NetdevSysfsKnob()
    case .cpu: CPUKnob()
    case .irq: IRQKnob()
    case .napi: NAPIKnob()
    case .kthread: KthreadKnob()
    case .channels: ChannelsKnob()
    case .ring: RingKnob()
    case .coalesce: CoalesceKnob()
    case .features: FeaturesKnob()
    case .driver: DriverKnob()
    case .cmdline: CmdlineKnob()
    case .host: nil
    }
  }
}

/// Why something a setting needs is not there on this host (an interface's NAPIs, its queue
/// IRQs, a kthread), in the words the plan shows as the unsupported reason.
package struct Unavailable: Error, CustomStringConvertible {
  var reason: String
  init(_ reason: String) { self.reason = reason }
  package var description: String { reason }
}

extension Knob {
  /// Root alone: the knob writes files root may write.
  package var writePrivileges: Set<Privilege> { [] }

  package func privileges(for setting: ProfileSetting) -> Set<Privilege> { writePrivileges }

  /// The error for a value the knob cannot take, at the setting's origin.
  func invalid(_ setting: ProfileSetting, _ message: String) -> BPSTuneError {
    setting.origin.error(message)
  }
}

extension Knob {
  package func canonicalKey(_ key: String) -> String { key }
  package func isGone(_ id: SettingID, on host: KernelHost) -> Bool { false }
  package func warnings(for request: PlanRequest, entries: [PlanEntry]) -> [String] { [] }
}
