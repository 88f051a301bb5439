import BPSTuneKernel

/// Every failure bpstune reports, each with its context and the documented exit code.
/// `description` is the one line users see.
package enum BPSTuneError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A profile problem: file, key path within it, and what is wrong (exit 2).
  case profile(file: String, key: String, message: String)
  /// The command line is wrong (exit 2).
  case usage(String)
  /// A setting this host cannot take, or cannot take from this profile (exit 2).
  case invalidPlan(setting: String, message: String)
  /// The plan has unsupported settings and --skip-unsupported was not given, each with the
  /// reason (exit 2).
  case unsupportedSettings([Printable.Item])
  /// A snapshot file is missing, malformed, or not trustworthy (exit 2).
  case snapshot(path: String, message: String)
  /// A plain rollback found a snapshot file it cannot read, or refuses, newer than the apply it
  /// would undo (`candidate`, nil when there is none); `more` counts other such files (exit 2).
  case damagedNewest(path: String, reason: String, id: String, more: Int, candidate: String?)
  /// The state directory cannot be used (exit 2).
  case stateDirectory(path: String, message: String)
  /// Another bpstune run holds the apply lock (exit 2).
  case locked(path: String, holder: String)
  /// The command needs privileges this process does not have (exit 2).
  case privilege(String)
  /// rollback would overwrite values changed by someone else since the apply (exit 2).
  case conflicts([Printable.Item])
  /// A read-only failure reading the host (exit 2).
  case hostRead(setting: String, message: String)
  /// The record of the enabled profile (/etc/bpstune/enabled.toml) cannot be read, written or
  /// used (exit 2).
  case enabled(path: String, message: String)
  /// The latency probe cannot measure: a peer that does not answer, an address in use, a rate
  /// this host cannot sustain; `what` names the peer, address or option (exit 2).
  case probe(what: String, message: String)
  /// A write failed; every change made was undone (exit 3).
  case failedAndUndone(setting: String, message: String, undone: Int)
  /// A write failed and undoing was incomplete; `left` names each setting left changed (exit 4).
  case failedPartially(setting: String, message: String, left: [Printable.Item])

  package var exitCode: Int32 {
    switch self {
    case .failedAndUndone: 3
    case .failedPartially: 4
    default: 2
    }
  }

  /// The message with control characters (a newline in a quoted TOML key, an escape sequence in
  /// an interface name) written as escapes, so that an error is always exactly one line,
  /// whatever the input held.
  package var description: String { Printable.escaped(text(full: false)) }

  /// The same with every list in full (`-v`); `description` gives the first few of a long list
  /// and how many more (JSON errors carry every name in their own fields).
  package var fullDescription: String { Printable.escaped(text(full: true)) }

  /// Every item (`full`), or a long list summarized by interface, kind and key.
  static func list(_ items: [Printable.Item], full: Bool) -> String {
    full
      ? items.map(\.text).joined(separator: "; ") : Printable.summary(items, limit: 5, more: " (-v lists every one)")
  }

  /// The same error, saying that it came before the first change (a state directory that
  /// cannot take the snapshot).
  package var beforeAnyChange: BPSTuneError {
    if case .stateDirectory(let path, let message) = self {
      return .stateDirectory(path: path, message: message + "; nothing was changed")
    }
    return self
  }

  /// What is wrong, without the file or setting it is about (for a snapshot: the message).
  package var reason: String {
    switch self {
    case .snapshot(_, let message), .stateDirectory(_, let message), .profile(_, _, let message),
      .enabled(_, let message):
      message
    default: text(full: false)
    }
  }

  private func text(full: Bool) -> String {
    switch self {
    case .profile(let file, let key, let message):
      key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)"
    case .usage(let message): message
    case .invalidPlan(let setting, let message): "\(setting): \(message)"
    case .unsupportedSettings(let names):
      "this host cannot take \(names.count) setting(s): \(Self.list(names, full: full)); nothing was changed (use --skip-unsupported to apply the rest)"
    case .snapshot(let path, let message): "snapshot \(path): \(message)"
    case .damagedNewest(let path, let reason, let id, let more, let candidate):
      "snapshot \(path): \(reason)"
        + (more > 0 ? " (and \(more) more damaged snapshot(s))" : "")
        + "; it is newer than "
        + (candidate.map { "the apply a plain rollback would undo (\($0))" } ?? "every readable apply")
        + ", so it may be the apply to undo; nothing was changed. Inspect it with `bpstune snapshots show \(id)`, "
        + "roll back a named snapshot with `bpstune rollback ID`, or pass over it with `bpstune rollback --force`"
    case .stateDirectory(let path, let message): "state directory \(path): \(message)"
    case .enabled(let path, let message): "\(path): \(message)"
    case .locked(let path, let holder):
      "another bpstune run (\(holder)) holds \(path); nothing was changed"
    case .privilege(let message): message
    case .conflicts(let names):
      "changed by someone else since the snapshot, not overwritten without --force: \(Self.list(names, full: full)); nothing was changed"
    case .hostRead(let setting, let message): "\(setting): \(message)"
    case .probe(let what, let message): "probe \(what): \(message)"
    case .failedAndUndone(let setting, let message, let undone):
      "\(setting): \(message); undid \(undone) change(s), the host is as before"
    case .failedPartially(let setting, let message, let left):
      "\(setting): \(message); could not undo \(left.count) setting(s): \(Self.list(left, full: full))"
    }
  }
}

extension BPSTuneError {
  /// The one-line reason of any error a step met: a system call's ("Operation not supported
  /// (EOPNOTSUPP)"), bpstune's own, or another's description.
  package static func reason(of error: any Error) -> String {
    switch error {
    case let e as SystemError: e.reason
    case let e as BPSTuneError: e.description
    default: "\(error)"
    }
  }
}
