import BPSTuneKernel
import SystemPackage

/// Whose profile files bpstune reads as root. A profile is root-equivalent configuration
/// (`[sysctl] kernel.core_pattern = "|/tmp/x"` alone runs a program as root), so, as sudo
/// treats sudoers and sshd's StrictModes treats authorized_keys, root reads a profile, an
/// include or the enable record only when no one else could have written it: not the file, and
/// not a directory above it, where a file can be replaced.
package enum ProfileTrust: Sendable, Equatable {
  /// Not root: bpstune reads with the user's own rights, and what it reads acts only for them.
  case unchecked
  /// Root running a command now: the file is owned by root or by one of `owners` (the user
  /// who ran sudo), is not writable by group or others, and so is every directory above it
  /// (a directory writable by others may have the sticky bit, as /tmp has: then no one else
  /// can rename or remove what it holds).
  case notWritableByOthers(owners: [UInt32])
  /// What `enable` records and the boot, hot-plug and drift units read at every boot: the
  /// file and every directory above it owned by root, none writable by group or others
  /// (sticky directories aside).
  case rootOwned

  /// The rule for this process: unchecked unless it runs as root; for root, files of root and
  /// of the user who ran sudo (SUDO_UID), or root's alone when `persistent` (enable, the units).
  package static func forThisProcess(persistent: Bool = false) -> ProfileTrust {
    guard Syscalls.effectiveUserID == 0 else { return .unchecked }
    if persistent { return .rootOwned }
    var owners: [UInt32] = [0]
    if let sudo = Syscalls.environment("SUDO_UID").flatMap({ UInt32($0) }), sudo != 0 { owners.append(sudo) }
    return .notWritableByOthers(owners: owners)
  }

  private var owners: [UInt32] {
    switch self {
    case .unchecked: []
    case .notWritableByOthers(let owners): owners
    case .rootOwned: [0]
    }
  }

  /// Why a file or directory with this status may not be trusted; nil when it may.
  func rejection(_ status: Stat, directory: Bool) -> String? {
    if self == .unchecked { return nil }
    let owner = status.userID.rawValue
    if !owners.contains(owner) {
      let wanted =
        self == .rootOwned
        ? "root (enable and bpstune's units take only root's files)"
        : owners.count > 1 ? "root or the user who ran sudo (uid \(owners[1]))" : "root"
      return "owned by uid \(owner), not by \(wanted)"
    }
    let writable = status.permissions.contains(.groupWrite) || status.permissions.contains(.otherWrite)
    if writable && !(directory && status.permissions.contains(.saveText)) {
      let mode = String(status.permissions.rawValue & 0o7777, radix: 8)
      return "writable by group or others (mode \(mode))" + (directory ? " without the sticky bit" : "")
    }
    return nil
  }

  /// Reads a profile or the enable record: the file must be a regular file (checked before it
  /// is opened, and again on the open descriptor) and trusted by this rule, as must every
  /// directory above it, its symlinks resolved. A refusal names the file and the reason.
  package func read(_ path: String, limit: Int) throws(BPSTuneError) -> [UInt8] {
    func refuse(_ message: String) -> BPSTuneError { .profile(file: path, key: "", message: message) }
    var file = path
    if self != .unchecked {
      do {
        file = try Syscalls.realPath(path)
      } catch let e as SystemError {
        throw refuse("cannot read: \(e.reason)")
      } catch {
        throw refuse("cannot read")
      }
      var directory = ""
      for part in file.split(separator: "/").dropLast() {
        directory += "/" + part
        try checkDirectory(directory, refuse)
      }
      try checkDirectory("/", refuse)
    }
    do {
      return try Syscalls.readFile(
        file, limit: limit, regularOnly: true, followLinks: self == .unchecked,
        inspect: { status in
          if let why = rejection(status, directory: false) {
            throw refuse("\(why); refused: a profile is root-equivalent")
          }
        })
    } catch let e as BPSTuneError {
      throw e
    } catch is NotRegularFile {
      throw refuse("not a regular file")
    } catch let e as SystemError {
      if e.errno == .fileTooLarge { throw refuse("larger than the \(limit / 1024) KiB profile limit") }
      throw refuse("cannot read: \(e.reason)")
    } catch {
      throw refuse("cannot read")
    }
  }

  private func checkDirectory(_ directory: String, _ refuse: (String) -> BPSTuneError) throws(BPSTuneError) {
    let status: Stat?
    do {
      status = try Syscalls.fileStatus(directory, followLinks: false)
    } catch {
      throw refuse("cannot check \(directory): \(BPSTuneError.reason(of: error))")
    }
    guard let status else { throw refuse("cannot check \(directory): it is gone") }
    if let why = rejection(status, directory: true) {
      throw refuse("it lies in \(directory), which is \(why); refused: a profile is root-equivalent")
    }
  }
}
