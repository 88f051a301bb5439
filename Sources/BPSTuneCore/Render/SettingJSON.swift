/// One setting as every JSON report lists it (`#/$defs/setting` in
/// contrib/schema/bpstune-output.schema.json): diff's and apply's `settings`, verify's
/// `settings`, status's `drift` and `unsupported`, show's and rollback's `settings`, and
/// cmdline's `parameters`. A setting a profile plans reads the same in diff, apply, verify and
/// status (``init(_:)``); show and rollback fill the fields they have.
///
/// The identity (`name`, `kind`, `key`, and `interface` and `queue` where the setting has them)
/// is always there; the rest is left out when the command has no value for it:
/// - `status`: diff, apply, verify, status and cmdline: `ok`, `change`, `needs-reboot` or
///   `unsupported` (``PlanStatus``); rollback: what it does (``Restorer/Action``: `restore`,
///   `already-restored`, `conflict`, `unavailable`, `gone`); absent in show, which compares nothing.
/// - `current`, `desired`: as users read them (CPU masks as lists, "absent" for a boot
///   parameter the kernel lacks); `kernel_current`, `kernel_desired`: the kernel's own text.
///   Rollback's `desired` is the value it restores; show has `current` only.
/// - `reason`: why the setting is unsupported, needs a reboot or cannot be restored, or why
///   show cannot read it; `note`: the profile's note on the value; `origin`: where in the
///   profile it comes from (file and key).
package struct SettingJSON: Encodable, Sendable {
  var name: String
  var kind: SettingKind
  var interface: String?
  var queue: String?
  var key: String
  var status: String?
  var current: String?
  var desired: String?
  var kernelCurrent: String?
  var kernelDesired: String?
  var reason: String?
  var note: String?
  var origin: String?

  enum CodingKeys: String, CodingKey {
    case name, kind, interface, queue, key, status, current, desired, reason, note, origin
    case kernelCurrent = "kernel_current"
    case kernelDesired = "kernel_desired"
  }

  /// Why a boot parameter the running kernel differs in is not applied.
  static let rebootReason = "boot parameter: needs a reboot with it on the kernel command line"

  /// The identity alone; the command fills in the rest.
  init(_ id: SettingID) {
    name = id.description
    kind = id.kind
    interface = id.interface
    queue = id.queue
    key = id.key
  }

  /// A setting of a plan: diff, apply, verify and status list it alike.
  package init(_ entry: PlanEntry) {
    self.init(entry.id)
    let s = entry.target.semantics
    let desired = entry.target.desired
    status = entry.status.rawValue
    current = entry.current.map { s.display($0, as: desired) }
    self.desired = s.display(desired)
    kernelCurrent = entry.current
    kernelDesired = desired
    reason = entry.reason ?? (entry.status == .reboot ? Self.rebootReason : nil)
    note = entry.target.note
    origin = entry.target.origin
  }

  /// A setting as `show` reads it from the host: its value, or why it cannot be read.
  init(shown: ShownSetting) {
    self.init(shown.id)
    current = shown.value.map(shown.semantics.display)
    kernelCurrent = shown.value
    reason = shown.unavailable
  }

  /// A setting of a rollback: what it does with it, the value now and the value it restores.
  init(restoring item: Restorer.Item) {
    let entry = item.entry
    self.init(entry.setting)
    status = item.action.rawValue
    current = item.current.map { entry.semantics.display($0, as: entry.before) }
    desired = entry.semantics.display(entry.before)
    kernelCurrent = item.current
    kernelDesired = entry.before
    reason = item.reason
  }
}
