import BPSTuneKernel

/// The stable identity of one setting on a host, as recorded in snapshots. It names what a
/// user would name (interface + queue + key), never a number the kernel may hand out anew
/// (IRQ numbers, NAPI ids, kthread pids), so a rollback can resolve it again later.
package struct SettingID: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The kind of setting; names the knob that reads and writes it (``KnobRegistry/knob(for:)``).
  package var kind: SettingKind
  /// The interface the setting belongs to, for per-interface settings.
  package var interface: String?
  /// The queue ("rx-0", "tx-3") for per-queue settings.
  package var queue: String?
  /// The setting's name within its kind: a sysctl name, a path below /sys, a profile key.
  package var key: String

  package init(kind: SettingKind, interface: String? = nil, queue: String? = nil, key: String) {
    self.kind = kind
    self.interface = interface
    self.queue = queue
    self.key = key
  }

  /// How users name the setting in messages: "net.core.busy_read", "veth0 rx-0 rps-cpus". An
  /// interface name (the kernel allows control characters in one) or a file name a glob
  /// matched is escaped (``Printable``).
  package var description: String {
    Printable.escaped([interface, queue, key].compactMap { $0 }.joined(separator: " "))
  }

  /// The setting's name within its interface group ("rx-0 rps-cpus").
  package var localName: String { Printable.escaped([queue, key].compactMap { $0 }.joined(separator: " ")) }

  package static func < (a: SettingID, b: SettingID) -> Bool {
    (a.kind, a.interface ?? "", queueOrder(a.queue), a.key) < (b.kind, b.interface ?? "", queueOrder(b.queue), b.key)
  }

  private static func queueOrder(_ queue: String?) -> String {
    guard let queue, let dash = queue.lastIndex(of: "-"), let n = Int(queue[queue.index(after: dash)...]) else {
      return queue ?? ""
    }
    let digits = String(n)
    return queue[..<dash] + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
  }
}

/// When a setting is written within an apply. Structure first (it re-creates queues, IRQs
/// and NAPIs), device-level sysfs before per-NAPI netlink (a sysfs write resets NAPI values).
package enum Phase: Int, Codable, Sendable, Comparable {
  case system = 0
  case structure = 10
  case device = 20
  case queue = 30
  case napi = 40
  case thread = 50

  package static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }

  /// Written in the first stage of an apply or rollback that changes channels or rings: system
  /// settings, then the structure; the later phases are resolved again on the new queues.
  package var isFirstStage: Bool { self <= .structure }
}

/// One concrete setting a profile asks for on this host: which, what value (in the form the
/// kernel is given and will store), and how values compare.
package struct Target: Sendable {
  package var id: SettingID
  /// The value to write, as the kernel will store it (already rounded where the kernel rounds).
  package var desired: String
  package var semantics: ValueSemantics
  package var phase: Phase
  /// Where in the profile it came from ("hft.profile: sysctl.net.core.busy_read").
  package var origin: String
  /// A remark shown with the plan line ("kernel rounds 100 up to 128").
  package var note: String?
  /// Set when this host cannot take the setting at all; the plan shows it as unsupported.
  package var unsupported: String?
  /// Set when an earlier write of the same apply re-creates what the setting belongs to (a
  /// threaded change starts a new NAPI kthread): the setting is then written even where the
  /// host has its value now. `note` says why.
  package var rewrite = false
  /// A boot parameter: the running kernel has it or not, and only a reboot changes that. A
  /// difference is planned as ``PlanStatus/reboot``, never written.
  package var needsReboot = false
  /// Something the profile asked for that this host does not give in full (a CPU list cut
  /// to the CPUs that exist): the plan warns, naming it, besides the note on its line.
  package var warning: String?

  package init(
    id: SettingID, desired: String, semantics: ValueSemantics, phase: Phase, origin: String,
    note: String? = nil, unsupported: String? = nil
  ) {
    self.id = id
    self.desired = desired
    self.semantics = semantics
    self.phase = phase
    self.origin = origin
    self.note = note
    self.unsupported = unsupported
  }
}
