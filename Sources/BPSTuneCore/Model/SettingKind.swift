import Synchronization

/// What kind of setting a ``SettingID`` names, and so which knob reads and writes it
/// (``KnobRegistry/knob(for:)``).
///
/// The raw values are the words snapshots record and every JSON report prints as a setting's
/// `kind` (`#/$defs/setting` in contrib/schema/bpstune-output.schema.json): a raw value never
/// changes. Adding a kind is adding a case, its knob in ``KnobRegistry`` and its word in the
/// schema; the compiler names every `switch` over the kinds that must decide about it.
package enum SettingKind: String, Sendable, Codable, CaseIterable, Comparable, CustomStringConvertible {
  /// A file below /proc/sys (``SysctlKnob``).
  case sysctl
  /// A system-level file below /sys the profile names by its path (``SysfsKnob``).
  case sysfs
  /// An interface's or its queues' attribute below /sys/class/net/IF (``NetdevSysfsKnob``).
  case netdev
  /// A CPU's governor, idle limit and idle states, boost, SMT (``CPUKnob``).
  case cpu
  /// The affinity of an interface's queue IRQs or the default affinity (``IRQKnob``).
  case irq
  /// A value of an interface's NAPI instances set over netdev netlink (``NAPIKnob``).
  case napi
  /// The scheduling of a threaded NAPI's kthread (``KthreadKnob``).
  case kthread
  /// An interface's channel counts, ETHTOOL_SCHANNELS (``ChannelsKnob``).
  case channels
  /// An interface's ring sizes, ETHTOOL_SRINGPARAM (``RingKnob``).
  case ring
  /// An interface's interrupt coalescing, ETHTOOL_SCOALESCE (``CoalesceKnob``).
  case coalesce
  /// An interface's offload features, ETHTOOL_SFEATURES (``FeaturesKnob``).
  case features
  /// An interface's driver information, shown and never written (``DriverKnob``).
  case driver
  /// A kernel boot parameter, compared with /proc/cmdline and never written (``CmdlineKnob``).
  case cmdline
  /// A host fact `bpstune show` lists (``HostChecks/show(on:interfaces:)``): no knob reads or
  /// writes it, so a snapshot naming one is refused.
  case host

  /// By raw value, so that settings sorted by kind (``SettingID/<(_:_:)``) keep the order of
  /// their words.
  package static func < (a: SettingKind, b: SettingKind) -> Bool { a.rawValue < b.rawValue }

  /// The raw value: messages and keys built from a kind read "ring", as JSON and snapshots do.
  package var description: String { rawValue }

  /// Decodes a raw value. A word that is no kind of this bpstune is a decoding error, unless
  /// the decoder's `userInfo` holds an ``UnknownNames`` under ``unknownNamesKey``: then the word
  /// is recorded there, by where it stood, and `.host` (a kind nothing writes) stands in for it,
  /// so that decoding goes on and the reader checks what it checks before it refuses the word
  /// (``SnapshotStore/decode(_:path:expectedID:)`` says that a snapshot's schema is newer
  /// before it says that one of its kinds is unknown).
  package init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let name = try container.decode(String.self)
    if let kind = SettingKind(rawValue: name) {
      self = kind
    } else if let unknown = decoder.userInfo[Self.unknownNamesKey] as? UnknownNames {
      unknown.record(name, at: decoder.codingPath)
      self = .host
    } else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown kind \"\(name)\"")
    }
  }

  /// Where ``init(from:)`` finds the ``UnknownNames`` to record unknown words in.
  package static let unknownNamesKey = CodingUserInfoKey(rawValue: "bpstune.SettingKind.unknownNames")!

  /// The words a decoding met where a kind belongs that are no kind of this bpstune, by their
  /// coding path, each key's name or array index joined with dots ("entries.0.setting.kind").
  package final class UnknownNames: Sendable {
    private let names = Mutex<[String: String]>([:])

    package init() {}

    func record(_ name: String, at codingPath: [any CodingKey]) {
      let path = codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
      names.withLock { $0[path] = name }
    }

    /// The unknown word met at `path` ("entries.0.setting.kind"), or nil when there was none.
    package func name(at path: String) -> String? { names.withLock { $0[path] } }
  }
}
