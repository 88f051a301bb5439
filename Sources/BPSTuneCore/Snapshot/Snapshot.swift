import BPSTuneKernel

/// A record of every value an apply or rollback touches, written durably before its first
/// write. Snapshots are JSON files, `STATE_DIR/snapshots/ID.json`, schema 1.
package struct Snapshot: Codable, Sendable, Equatable {
  package static let schemaVersion = 1

  package enum Operation: String, Codable, Sendable {
    case apply, rollback
  }

  package enum Status: String, Codable, Sendable {
    /// Written before the first change; stays so if the run dies (shown as interrupted).
    case inProgress = "in-progress"
    /// Every change was written and read back.
    case complete
    /// A write failed and every change was undone; the host is as before.
    case undone
    /// A write failed and undoing was incomplete.
    case failed
  }

  package struct Entry: Codable, Sendable, Equatable {
    package var setting: SettingID
    package var semantics: ValueSemantics
    package var phase: Phase
    /// The value before the operation: what rollback restores.
    package var before: String
    /// The value the operation writes.
    package var after: String
    /// The interface's index (/sys/class/net/IF/ifindex) when the entry was recorded, for a
    /// setting of an interface: undo and rollback find the device by it after a rename, and
    /// tell a new device of the same name from the one bpstune changed. Absent for system
    /// settings and in snapshots of earlier versions; meaningful in the snapshot's boot only.
    package var ifindex: Int? = nil

    /// The same entry for the device's name now (after a rename).
    package func on(_ interface: String) -> Entry {
      var entry = self
      entry.setting.interface = interface
      return entry
    }
  }

  package var schema: Int
  package var id: String
  package var operation: Operation
  /// The profile applied (apply only).
  package var profile: String?
  /// The snapshot this rollback restores (rollback only).
  package var restores: String?
  package var created: String
  package var finished: String?
  package var status: Status
  package var pid: Int32
  package var hostname: String
  package var kernel: String
  /// The kernel's boot id (/proc/sys/kernel/random/boot_id) when the snapshot was written. A
  /// plain `rollback` considers only this boot's applies: an earlier boot's snapshot describes
  /// a kernel that no longer exists. Absent in snapshots of bpstune 0.2 (counted as an earlier
  /// boot).
  package var boot: String?
  /// What ran the apply when it was not a person: "enable", "boot" (bpstune.service),
  /// "interface IF" (bpstune-interface@IF.service) or "drift" (the drift timer's re-apply).
  /// `disable` rolls back this boot's applies that carry one.
  package var trigger: String?
  package var entries: [Entry]
  /// Settings a failed operation could not undo.
  package var leftChanged: [String]?
  /// Which profile, how, by whom and why (absent in snapshots of bpstune before 0.4).
  package var origin: Origin?

  /// What `status` and `snapshots list` say of an operation besides its settings.
  package struct Origin: Codable, Sendable, Equatable {
    /// The profile's canonical absolute path (apply only).
    package var path: String?
    /// SHA-256 of the profile's bytes, includes after it (``Profile/contentHash``).
    package var sha256: String?
    /// `-i` and `--set` as given.
    package var interface: String?
    package var variables: [String: String]?
    /// The real uid, its name, the login name behind sudo or su, and SUDO_USER.
    package var uid: UInt32
    package var user: String?
    package var loginUser: String?
    package var sudoUser: String?
    /// `--reason TEXT`.
    package var reason: String?

    enum CodingKeys: String, CodingKey {
      case path, sha256, interface, variables, uid, user, reason
      case loginUser = "login_user"
      case sudoUser = "sudo_user"
    }

    package init(profile: Profile?, reason: String?) {
      let who = Syscalls.identity()
      path = profile.map { (try? Syscalls.realPath($0.path)) ?? $0.path }
      sha256 = profile.map(\.contentHash).flatMap { $0.isEmpty ? nil : $0 }
      interface = profile?.interface
      variables = profile.flatMap { $0.overrides.isEmpty ? nil : $0.overrides }
      uid = who.uid
      user = who.user
      loginUser = who.loginUser
      sudoUser = who.sudoUser
      self.reason = reason
    }

    /// "root (login alice, sudo alice)": who, as one short phrase.
    package var who: String {
      var extra: [String] = []
      if let loginUser, loginUser != user { extra.append("login \(loginUser)") }
      if let sudoUser, sudoUser != user, sudoUser != loginUser { extra.append("sudo \(sudoUser)") }
      return (user ?? "uid \(uid)") + (extra.isEmpty ? "" : " (\(extra.joined(separator: ", ")))")
    }
  }
}

extension Snapshot {
  /// The warning when every change was made but the snapshot could not be marked complete;
  /// nil when it was.
  package var unrecordedWarning: String? {
    status == .inProgress
      ? "warning: could not record completion in snapshot \(id); it shows as interrupted and still restores with rollback"
      : nil
  }
}
