/// A record of every value an apply or rollback touches, written durably before its first
/// write. Snapshots are JSON files, `STATE_DIR/snapshots/ID.json`, schema 1.
public struct Snapshot: Codable, Sendable, Equatable {
  public static let schemaVersion = 1

  public enum Operation: String, Codable, Sendable {
    case apply, rollback
  }

  public enum Status: String, Codable, Sendable {
    /// Written before the first change; stays so if the run dies (shown as interrupted).
    case inProgress = "in-progress"
    /// Every change was written and read back.
    case complete
    /// A write failed and every change was undone; the host is as before.
    case undone
    /// A write failed and undoing was incomplete.
    case failed
  }

  public struct Entry: Codable, Sendable, Equatable {
    public var setting: SettingID
    public var semantics: ValueSemantics
    public var phase: Phase
    /// The value before the operation: what rollback restores.
    public var before: String
    /// The value the operation writes.
    public var after: String
  }

  public var schema: Int
  public var id: String
  public var operation: Operation
  /// The profile applied (apply only).
  public var profile: String?
  /// The snapshot this rollback restores (rollback only).
  public var restores: String?
  public var created: String
  public var finished: String?
  public var status: Status
  public var pid: Int32
  public var hostname: String
  public var kernel: String
  /// The kernel's boot id (/proc/sys/kernel/random/boot_id) when the snapshot was written. A
  /// plain `rollback` considers only this boot's applies: an earlier boot's snapshot describes
  /// a kernel that no longer exists. Absent in snapshots of bpstune 0.2 (counted as an earlier
  /// boot).
  public var boot: String?
  /// What ran the apply when it was not a person: "enable", "boot" (bpstune.service),
  /// "interface IF" (bpstune-interface@IF.service) or "drift" (the drift timer's re-apply).
  /// `disable` rolls back this boot's applies that carry one.
  public var trigger: String?
  public var entries: [Entry]
  /// Settings a failed operation could not undo.
  public var leftChanged: [String]?
}
