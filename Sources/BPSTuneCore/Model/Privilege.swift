import BPSTuneKernel

/// What a writing command needs from the process, named as users grant it. Every writing
/// command needs root: the files under /proc/sys, /sys and /proc/irq and the snapshots are
/// root's. Some kinds also need a capability the kernel checks on its own: ethtool set ioctls,
/// netdev napi-set and the queue and device files below /sys/class/net check CAP_NET_ADMIN;
/// a real-time policy or CPU list for another process's thread (a NAPI kthread) checks
/// CAP_SYS_NICE. Inside a container, root can lack both.
package enum Privilege: String, Sendable, CaseIterable, Comparable {
  case root = "root (uid 0)"
  case netAdmin = "CAP_NET_ADMIN"
  case sysNice = "CAP_SYS_NICE"

  /// The capability number (linux/capability.h), for the two that are capabilities.
  var capability: Int32? {
    switch self {
    case .root: nil
    case .netAdmin: Syscalls.Capability.netAdmin
    case .sysNice: Syscalls.Capability.sysNice
    }
  }

  /// What needs it, for the error message.
  var purpose: String {
    switch self {
    case .root: "/proc/sys, /sys and /proc/irq files and the snapshots"
    case .netAdmin: "ethtool settings, per-NAPI netlink and /sys/class/net files"
    case .sysNice: "NAPI kthread scheduling and CPUs"
    }
  }

  package static func < (a: Privilege, b: Privilege) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }

  /// Root and what the knobs of these profile settings need to write them.
  package static func needed(for profile: Profile, knobs: [any Knob] = KnobRegistry.standard) -> Set<Privilege> {
    var result: Set<Privilege> = [.root]
    for (section, settings) in profile.sections {
      guard let knob = knobs.first(where: { $0.sections.contains(section) }) else { continue }
      for setting in settings { result.formUnion(knob.privileges(for: setting)) }
    }
    for spec in profile.interfaces {
      for setting in spec.settings {
        guard let knob = knobs.first(where: { $0.interfaceKeys.contains(setting.key) }) else { continue }
        result.formUnion(knob.privileges(for: setting))
      }
    }
    return result
  }

  /// Root and what the knobs of a snapshot's entries need to restore them.
  package static func needed(for snapshot: Snapshot) -> Set<Privilege> {
    var result: Set<Privilege> = [.root]
    for entry in snapshot.entries {
      if let knob = KnobRegistry.knob(for: entry.setting.kind) {
        result.formUnion(knob.writePrivileges)
      }
    }
    return result
  }

  /// Those of `needed` that a process with this effective uid and capability set lacks.
  package static func missing(_ needed: Set<Privilege>, userID: UInt32, capabilities: UInt64) -> [Privilege] {
    needed.filter { privilege in
      if let bit = privilege.capability { return capabilities & (1 << UInt64(bit)) == 0 }
      return userID != 0
    }.sorted()
  }

  /// Refuses `command` before it plans or writes anything when this process lacks any of
  /// `needed`, naming each privilege and what needs it.
  package static func require(
    _ needed: Set<Privilege>, for command: String, userID: UInt32 = Syscalls.effectiveUserID,
    capabilities: UInt64? = nil
  ) throws(BPSTuneError) {
    let caps = capabilities ?? ((try? Syscalls.effectiveCapabilities()) ?? 0)
    let lacking = missing(needed, userID: userID, capabilities: caps)
    guard !lacking.isEmpty else { return }
    let what = lacking.map { "\($0.rawValue) for \($0.purpose)" }.joined(separator: "; ")
    let who =
      userID == 0
      ? "this root process lacks \(lacking.count == 1 ? "it" : "them") (a container or a dropped capability?)"
      : "this process runs as uid \(userID)"
    throw .privilege(
      "\(command) needs \(what); \(who); run it with sudo, as full root (diff, verify and show work unprivileged); nothing was changed"
    )
  }
}
