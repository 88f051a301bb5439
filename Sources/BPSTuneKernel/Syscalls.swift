import CLinux
import Synchronization
import SystemPackage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A failed system call: what was attempted, on which path, and the kernel's errno.
package struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
  package var operation: String
  package var path: String
  package var errno: Errno
  /// The kernel's own words, where it gave some (a netlink extended ack: "integer out of range").
  package var kernelMessage: String?

  package init(_ operation: String, _ path: String, _ errno: Errno, kernelMessage: String? = nil) {
    self.operation = operation
    self.path = path
    self.errno = errno
    self.kernelMessage = kernelMessage
  }

  /// The errno's symbolic name and text, e.g. "Invalid argument (EINVAL)", after the kernel's
  /// message when there is one ("integer out of range: Numerical result out of range (ERANGE)").
  package var reason: String { kernelMessage.map { "\($0): \(errno.explained)" } ?? errno.explained }

  package var description: String { "\(operation) \(path): \(reason)" }
}

extension Errno {
  /// strerror text with the symbolic name, e.g. "Operation not supported (EOPNOTSUPP)".
  package var explained: String {
    let names: [Errno: String] = [
      .notPermitted: "EPERM", .noSuchFileOrDirectory: "ENOENT", .ioError: "EIO",
      .noSuchAddressOrDevice: "ENXIO", .argListTooLong: "E2BIG", .badFileDescriptor: "EBADF",
      .resourceTemporarilyUnavailable: "EAGAIN", .noMemory: "ENOMEM", .permissionDenied: "EACCES",
      .resourceBusy: "EBUSY", .fileExists: "EEXIST", .operationNotSupportedByDevice: "ENODEV",
      .notDirectory: "ENOTDIR", .isDirectory: "EISDIR", .invalidArgument: "EINVAL",
      .noSpace: "ENOSPC", .readOnlyFileSystem: "EROFS", .outOfRange: "ERANGE",
      .notSupported: "EOPNOTSUPP", .tooManySymbolicLinkLevels: "ELOOP", .fileTooLarge: "EFBIG",
      .fileNameTooLong: "ENAMETOOLONG", .interrupted: "EINTR",
    ]
    let text = String(cString: strerror(rawValue))
    if let name = names[self] { return "\(text) (\(name))" }
    // Every other value by glibc's own table (strerrorname_np): ECONNREFUSED, not "errno 111".
    if let name = bpstune_errno_name(rawValue) { return "\(text) (\(String(cString: name)))" }
    return "\(text) (errno \(rawValue))"
  }
}

/// A file that had to be a regular file is a directory, device, FIFO or socket.
package struct NotRegularFile: Error, Sendable {
  package var path: String
}

/// The one place where bpstune makes system calls. Every wrapper retries EINTR and turns
/// errno into a ``SystemError`` naming the path; nothing else in the library calls libc.
package enum Syscalls {
  /// Largest kernel or state file bpstune reads (procfs and sysfs values are far smaller).
  package static let readLimit = 1 << 20

  /// read(2) of a whole file: a snapshot, a profile, a sysctl.d file. With `regularOnly`, the
  /// path is stat(2)ed first and must be a regular file, else ``NotRegularFile`` is thrown
  /// without opening it (opening a device can act: a tape rewinds, a terminal becomes the
  /// controlling one); it is then opened without blocking and checked again on the open
  /// descriptor (fstat), so a FIFO or device swapped in meanwhile is not read either. With
  /// `followLinks` false, a symlink as the last component is refused (O_NOFOLLOW: ELOOP).
  ///
  /// `inspect` sees the open file's status (fstat) before anything is read from it, and may
  /// refuse it by throwing: who owns it and who may write it are then those of the file read,
  /// not of one that stood at the path a moment earlier.
  package static func readFile(
    _ path: String, limit: Int = readLimit, regularOnly: Bool = false, followLinks: Bool = true,
    inspect: ((Stat) throws -> Void)? = nil
  ) throws -> [UInt8] {
    try withOpenFile(path, regularOnly: regularOnly, followLinks: followLinks) { fd in
      if let inspect {
        let status: Stat
        do { status = try fd.stat() } catch let e as Errno { throw SystemError("fstat", path, e) }
        try inspect(status)
      }
      return try readAll(fd, path, limit: limit, attribute: false)
    }
  }

  /// `path` opened read-only for `body` and closed after it: with `regularOnly`, refused unless
  /// a regular file (before the open, and again by fstat of what was opened; O_NONBLOCK, so
  /// that a FIFO put there cannot hold the open); without `followLinks`, O_NOFOLLOW.
  private static func withOpenFile<T>(
    _ path: String, regularOnly: Bool, followLinks: Bool, _ body: (FileDescriptor) throws -> T
  ) throws -> T {
    if regularOnly, let status = try fileStatus(path, followLinks: followLinks), status.type != .regular {
      throw NotRegularFile(path: path)
    }
    var options: FileDescriptor.OpenOptions = [.closeOnExec]
    if regularOnly { options.insert(.nonBlocking) }
    if !followLinks { options.insert(.noFollow) }
    let fd: FileDescriptor
    do {
      fd = try FileDescriptor.open(FilePath(path), .readOnly, options: options)
    } catch let e as Errno { throw SystemError("open", path, e) }
    return try fd.closeAfter {
      if regularOnly { try requireRegular(fd, path) }
      return try body(fd)
    }
  }

  /// ``readFile(_:limit:regularOnly:followLinks:inspect:)`` of a regular file, not through a
  /// symlink, and the extended attribute `attribute` of the same open file (fgetxattr(2)). The
  /// attribute is nil when the file has none (ENODATA), the filesystem keeps none (ENOTSUP) or
  /// it is longer than `attributeLimit` (ERANGE): an attribute is optional by nature.
  package static func readFile(
    _ path: String, attribute: String, attributeLimit: Int = 4096
  ) throws -> (bytes: [UInt8], attribute: [UInt8]?) {
    try withOpenFile(path, regularOnly: true, followLinks: false) { fd in
      let bytes = try readAll(fd, path, limit: readLimit, attribute: false)
      var value = [UInt8](repeating: 0, count: attributeLimit)
      let count = value.withUnsafeMutableBytes { fgetxattr(fd.rawValue, attribute, $0.baseAddress, $0.count) }
      return (bytes, count >= 0 ? Array(value.prefix(count)) : nil)
    }
  }

  /// read(2) of a kernel file: a /proc/sys value, a sysfs attribute, /proc/interrupts. Opened
  /// O_NOFOLLOW|O_NONBLOCK and checked to be a regular file (fstat) before it is read: procfs
  /// and sysfs hold only regular files, so anything else was put there by someone.
  ///
  /// With `attribute`, a read that returns less than the buffer holds is taken as the end: a
  /// sysfs attribute is produced whole, at most a page, by its first read (kernfs), and so is a
  /// /proc/sys value (proc_sys_call_handler); that saves the second read(2), which would return
  /// 0, on every kernel file.
  package static func readKernelFile(_ path: String, attribute: Bool) throws(SystemError) -> [UInt8] {
    let fd: FileDescriptor
    do {
      fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .noFollow, .nonBlocking])
    } catch let e as Errno {
      throw SystemError("open", path, e)
    } catch {
      throw SystemError("open", path, .ioError)
    }
    do {
      return try fd.closeAfter {
        try requireRegular(fd, path)
        return try readAll(fd, path, limit: readLimit, attribute: attribute)
      }
    } catch let e as SystemError {
      throw e
    } catch is NotRegularFile {
      throw SystemError("open", path, .invalidArgument, kernelMessage: "not a regular file")
    } catch {
      throw SystemError("read", path, .ioError)
    }
  }

  /// fstat(2) of an open descriptor: a regular file, else ``NotRegularFile``.
  private static func requireRegular(_ fd: FileDescriptor, _ path: String) throws {
    let status: Stat
    do { status = try fd.stat() } catch let e as Errno { throw SystemError("fstat", path, e) } catch {
      throw SystemError("fstat", path, .ioError)
    }
    guard status.type == .regular else { throw NotRegularFile(path: path) }
  }

  private static func readAll(_ fd: FileDescriptor, _ path: String, limit: Int, attribute: Bool) throws(SystemError)
    -> [UInt8]
  {
    var bytes: [UInt8] = []
    while true {
      // Read into fresh uninitialized storage: a kernel attribute is then one read and one
      // array, neither zero-filled nor copied.
      let chunk: [UInt8]
      do {
        chunk = try [UInt8](unsafeUninitializedCapacity: 4096) { buffer, count in
          count = try fd.read(into: UnsafeMutableRawBufferPointer(buffer))
        }
      } catch let e as Errno {
        throw SystemError("read", path, e)
      } catch {
        throw SystemError("read", path, .ioError)
      }
      if chunk.isEmpty { break }
      if bytes.isEmpty { bytes = chunk } else { bytes += chunk }
      if bytes.count > limit {
        throw SystemError("read", path, .fileTooLarge)
      }
      if attribute && chunk.count < 4096 { break }
    }
    return bytes
  }

  /// One write(2) of the whole value to an existing kernel file (procfs and sysfs parse a
  /// value only when it arrives in a single write). The file is never created; it is opened
  /// O_NOFOLLOW|O_NONBLOCK and checked to be a regular file before the write; O_TRUNC, as a
  /// shell's `echo >` uses, so that a temporary test tree behaves like the kernel.
  package static func writeKernelFile(_ path: String, _ value: String) throws {
    let fd: FileDescriptor
    do {
      fd = try FileDescriptor.open(
        FilePath(path), .writeOnly, options: [.truncate, .closeOnExec, .noFollow, .nonBlocking])
    } catch let e as Errno { throw SystemError("open", path, e) }
    try fd.closeAfter {
      do { try requireRegular(fd, path) } catch is NotRegularFile {
        throw SystemError("open", path, .invalidArgument, kernelMessage: "not a regular file")
      }
      let bytes = Array(value.utf8)
      let written: Int
      do {
        written = try bytes.withUnsafeBytes { try fd.write($0) }
      } catch let e as Errno { throw SystemError("write", path, e) }
      if written != bytes.count { throw SystemError("write", path, .ioError) }
    }
  }

  /// statfs(2): the file system `path` lives on, as linux/magic.h numbers it (SYSFS_MAGIC,
  /// PROC_SUPER_MAGIC, DEBUGFS_MAGIC, ...).
  package static func fileSystemType(_ path: String) throws(SystemError) -> Int64 {
    var type: Int64 = 0
    guard bpstune_statfs_type(path, &type) == 0 else {
      throw SystemError("statfs", path, Errno(rawValue: Glibc.errno))
    }
    return type
  }

  /// getcwd(3): the working directory as the kernel knows it (not $PWD, which the caller's
  /// environment says and may be stale or made up).
  package static func currentDirectory() throws(SystemError) -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else {
      throw SystemError("getcwd", ".", Errno(rawValue: Glibc.errno))
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// 0644: a report others read (node_exporter's textfile collector runs as its own user).
  package static let readableByAll: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]

  /// Writes a file so that it survives a crash: a new file beside it under a random name
  /// (`.NAME.RANDOM.tmp`, created O_EXCL|O_NOFOLLOW with `mode`, another name drawn if it is
  /// taken), write, fsync, renameat(2) over the target, fsync of the directory. The directory is
  /// opened once and every step is relative to it. No one can predict the temporary name to
  /// occupy it beforehand, and one left by a killed run is never in the way of the next.
  /// `replace: false` puts the file in place with linkat(2), which fails with EEXIST when the
  /// name is taken (by anything: a file, a directory, a dangling symlink), in one step that
  /// nothing can slip in front of. `syncDirectory: false` leaves out the directory's fsync, for
  /// a new version of a file already on disk: the content is on disk before the rename, so
  /// after a crash the name holds the old version or the new one, each whole; only which of
  /// them is not certain. `attribute` is set on the new file (fsetxattr(2)) before its fsync,
  /// so that it is there whenever the content is: an optional extra, not set where the
  /// filesystem keeps no extended attributes or has no room for it.
  package static func writeDurably(
    _ path: String, _ bytes: [UInt8], mode: FilePermissions = [.ownerReadWrite], replace: Bool = true,
    syncDirectory: Bool = true, attribute: (name: String, value: [UInt8])? = nil
  ) throws {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    guard !name.isEmpty, name != ".", name != ".." else { throw SystemError("create", path, .isDirectory) }
    let dir = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dir < 0 { throw SystemError("open", directory.isEmpty ? "/" : directory, Errno(rawValue: Glibc.errno)) }
    defer { close(dir) }
    var generator = SystemRandomNumberGenerator()
    var temporary = ""
    var fd: Int32 = -1
    for _ in 0..<16 {
      let random = String(generator.next(), radix: 16)
      temporary = ".\(name).\(String(repeating: "0", count: 16 - random.count))\(random).tmp"
      fd = openat(dir, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode.rawValue)
      if fd >= 0 || Glibc.errno != EEXIST { break }
    }
    if fd < 0 { throw SystemError("create", "\(directory)/\(temporary)", Errno(rawValue: Glibc.errno)) }
    let descriptor = FileDescriptor(rawValue: fd)
    do {
      try descriptor.closeAfter {
        // The mode given, whatever the umask took away (a report others read is 0644).
        if fchmod(fd, mode.rawValue) != 0 { throw SystemError("fchmod", path, Errno(rawValue: Glibc.errno)) }
        do { _ = try descriptor.writeAll(bytes) } catch let e as Errno { throw SystemError("write", path, e) }
        if let attribute {
          _ = attribute.value.withUnsafeBytes { fsetxattr(fd, attribute.name, $0.baseAddress, $0.count, 0) }
        }
        if fsync(fd) != 0 { throw SystemError("fsync", path, Errno(rawValue: Glibc.errno)) }
      }
      if replace {
        if renameat(dir, temporary, dir, name) != 0 { throw SystemError("rename", path, Errno(rawValue: Glibc.errno)) }
      } else {
        if linkat(dir, temporary, dir, name, 0) != 0 { throw SystemError("create", path, Errno(rawValue: Glibc.errno)) }
        unlinkat(dir, temporary, 0)
      }
    } catch {
      unlinkat(dir, temporary, 0)
      throw error
    }
    if syncDirectory && fsync(dir) != 0 { throw SystemError("fsync", directory, Errno(rawValue: Glibc.errno)) }
  }

  /// fsync(2) of a directory, so that a rename or unlink in it is on disk.
  package static func syncDirectory(_ path: String) throws {
    let fd: FileDescriptor
    do {
      fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec])
    } catch let e as Errno { throw SystemError("open", path, e) }
    try fd.closeAfter {
      if fsync(fd.rawValue) != 0 { throw SystemError("fsync", path, Errno(rawValue: Glibc.errno)) }
    }
  }

  /// Entries of a directory (readdir(3)), without "." and "..", sorted by name.
  package static func listDirectory(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else { throw SystemError("opendir", path, Errno(rawValue: Glibc.errno)) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// realpath(3): the path with every symlink resolved.
  package static func realPath(_ path: String) throws -> String {
    guard let resolved = realpath(path, nil) else {
      throw SystemError("realpath", path, Errno(rawValue: Glibc.errno))
    }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// lstat(2); nil when the path does not exist.
  package static func fileStatus(_ path: String, followLinks: Bool = false) throws -> Stat? {
    do {
      return try Stat(FilePath(path), followTargetSymlink: followLinks, retryOnInterrupt: true)
    } catch {
      if error == .noSuchFileOrDirectory || error == .notDirectory { return nil }
      throw SystemError("stat", path, error)
    }
  }

  /// mkdir(2) with the given mode, whatever the umask took away (a unit's UMask=0077 would
  /// make node_exporter's textfile directory 0700); an existing directory is left as it is.
  package static func makeDirectory(_ path: String, mode: mode_t) throws {
    if mkdir(path, mode) != 0 {
      let e = Errno(rawValue: Glibc.errno)
      if e != .fileExists { throw SystemError("mkdir", path, e) }
      return
    }
    // Through a descriptor opened without following a symlink: one swapped in after the
    // mkdir (the parent may be a shared directory) is refused, not chmodded as root.
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 { throw SystemError("open", path, Errno(rawValue: Glibc.errno)) }
    defer { close(fd) }
    if fchmod(fd, mode) != 0 { throw SystemError("fchmod", path, Errno(rawValue: Glibc.errno)) }
  }

  /// mkdir -p: each missing directory of `path`, with `mode`.
  package static func makeDirectories(_ path: String, mode: mode_t) throws {
    var prefix = ""
    for part in path.split(separator: "/") {
      prefix += "/" + part
      if try fileStatus(prefix, followLinks: true) == nil { try makeDirectory(prefix, mode: mode) }
    }
  }

  /// unlink(2), then fsync of the directory.
  package static func removeFile(_ path: String) throws {
    try removeFiles([path])
  }

  /// unlink(2) of each path in turn, stopping at the first that fails, then one fsync of each
  /// directory a file was removed from: deleting several files of a directory costs one fsync,
  /// not one each. The first failure is thrown, after the fsyncs.
  package static func removeFiles(_ paths: [String]) throws {
    var directories: [String] = []
    var failure: (any Error)?
    for path in paths {
      if unlink(path) != 0 {
        failure = SystemError("unlink", path, Errno(rawValue: Glibc.errno))
        break
      }
      if let slash = path.lastIndex(of: "/"), !directories.contains(String(path[..<slash])) {
        directories.append(String(path[..<slash]))
      }
    }
    for directory in directories {
      do { try syncDirectory(directory) } catch { failure = failure ?? error }
    }
    if let failure { throw failure }
  }

  /// Opens (creating it 0600 when `create`) a lock file and takes an exclusive flock(2) on it.
  /// Returns nil when another process holds it and `wait` is false. A symlink at the path is
  /// refused (O_NOFOLLOW), and so is a file that is not regular or not this user's; one that
  /// others may read is made 0600 first: flock needs only read access, so a file others could
  /// open is one they could hold forever.
  package static func lockFile(_ path: String, wait: Bool, create: Bool = true) throws -> FileDescriptor? {
    let fd: FileDescriptor
    do {
      fd = try FileDescriptor.open(
        FilePath(path), .readWrite,
        options: create ? [.create, .closeOnExec, .noFollow, .nonBlocking] : [.closeOnExec, .noFollow, .nonBlocking],
        permissions: create ? [.ownerReadWrite] : nil)
    } catch let e as Errno { throw SystemError("open", path, e) }
    do {
      let status = try fd.stat()
      guard status.type == .regular else {
        throw SystemError("open", path, .invalidArgument, kernelMessage: "not a regular file")
      }
      guard status.userID.rawValue == geteuid() else {
        throw SystemError("open", path, .permissionDenied, kernelMessage: "owned by uid \(status.userID.rawValue)")
      }
      if status.permissions.rawValue & 0o077 != 0 && fchmod(fd.rawValue, 0o600) != 0 {
        throw SystemError("fchmod", path, Errno(rawValue: Glibc.errno))
      }
    } catch {
      try? fd.close()
      if let e = error as? Errno { throw SystemError("fstat", path, e) }
      throw error
    }
    while true {
      if flock(fd.rawValue, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0 { return fd }
      let e = Errno(rawValue: Glibc.errno)
      if e == .interrupted { continue }
      try? fd.close()
      if e == .wouldBlock || e == .resourceTemporarilyUnavailable { return nil }
      throw SystemError("flock", path, e)
    }
  }

  /// Replaces a small file's content through an open descriptor (the lock file's holder pid).
  package static func overwrite(_ fd: FileDescriptor, _ text: String) {
    _ = ftruncate(fd.rawValue, 0)
    _ = try? fd.seek(offset: 0, from: .start)
    _ = try? fd.writeAll(Array(text.utf8))
  }

  /// exit(3): ends the process with `status` (stdio flushed).
  package static func exit(_ status: Int32) -> Never { Glibc.exit(status) }

  /// geteuid(2).
  package static var effectiveUserID: UInt32 { geteuid() }

  /// The capabilities bpstune asks for by name: their numbers from linux/capability.h.
  package enum Capability {
    package static let netAdmin = CAP_NET_ADMIN
    package static let sysNice = CAP_SYS_NICE
  }

  /// capget(2): this process's effective capabilities, bit N for capability N.
  package static func effectiveCapabilities() throws(SystemError) -> UInt64 {
    var effective: UInt64 = 0
    guard bpstune_capget_effective(&effective) == 0 else {
      throw SystemError("capget", "self", Errno(rawValue: Glibc.errno))
    }
    return effective
  }

  /// getpid(2).
  package static var processID: Int32 { getpid() }

  /// kill(pid, 0): whether a process with this pid exists.
  package static func processExists(_ pid: Int32) -> Bool {
    pid > 0 && (kill(pid, 0) == 0 || Glibc.errno == EPERM)
  }

  /// uname(2) release and node name.
  /// uname(2)'s sysname: "Linux" here; "FreeBSD" under FreeBSD's Linux binary compatibility
  /// only when it is configured to say so.
  package static func systemName() -> String {
    var u = utsname()
    guard Glibc.uname(&u) == 0 else { return "unknown" }
    return withUnsafeBytes(of: u.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
  }

  /// Why bpstune cannot run on a system of this name, or nil on Linux: every interface it
  /// drives (/proc/sys, sysfs, ethtool ioctls, netdev netlink) is Linux's.
  package static func unsupportedSystem(_ name: String) -> String? {
    name == "Linux"
      ? nil
      : "bpstune supports Linux only; this system is \(name) (FreeBSD's polling knobs are in bpstune.profile(5))"
  }

  package static func uname() -> (release: String, node: String) {
    var u = utsname()
    guard Glibc.uname(&u) == 0 else { return ("unknown", "unknown") }
    func field<T>(_ value: T) -> String {
      withUnsafeBytes(of: value) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
    }
    return (field(u.release), field(u.nodename))
  }

  /// Who runs this process: the real uid and its name (getpwuid_r(3)), the audit login uid's
  /// name (/proc/self/loginuid, set by pam_loginuid at login and kept through sudo and su;
  /// nil when unset, as for units), and SUDO_USER as sudo set it.
  package static func identity() -> (uid: UInt32, user: String?, loginUser: String?, sudoUser: String?) {
    func name(_ uid: uid_t) -> String? {
      var entry = passwd()
      var result: UnsafeMutablePointer<passwd>?
      var buffer = [CChar](repeating: 0, count: 4096)
      guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let n = entry.pw_name else {
        return nil
      }
      return String(cString: n)
    }
    let uid = getuid()
    var loginUser: String?
    if let bytes = try? readFile("/proc/self/loginuid", limit: 32, regularOnly: true, followLinks: false),
      let login = UInt32(String(decoding: bytes, as: UTF8.self).trimmingWhitespace), login != UInt32.max
    {
      loginUser = name(login) ?? "uid \(login)"
    }
    // SUDO_USER is the caller's environment: recorded only when it could be a login name.
    let sudo = environment("SUDO_USER").flatMap { s in
      s.utf8.count <= 64 && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f } ? s : nil
    }
    return (uid, name(uid), loginUser, sudo)
  }

  /// isatty(3) on standard output.
  package static var standardOutputIsTerminal: Bool { isatty(1) == 1 }

  /// getenv(3).
  package static func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
  }

  /// Current wall-clock time as seconds and microseconds (clock_gettime(CLOCK_REALTIME)).
  package static func now() -> (seconds: Int, microseconds: Int) {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return (ts.tv_sec, ts.tv_nsec / 1000)
  }

  /// The current UTC date and time: clock_gettime(2) and gmtime_r(3).
  package static func utcNow() -> (
    year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, microseconds: Int
  ) {
    let (seconds, microseconds) = now()
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    return (
      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min),
      Int(parts.tm_sec), microseconds
    )
  }

  /// nanosleep(2).
  package static func sleep(milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && Glibc.errno == EINTR { request = remaining }
  }

  /// The path of the running executable (/proc/self/exe).
  package static func executablePath() -> String? {
    try? realPath("/proc/self/exe")
  }
}

extension Syscalls {
  /// fnmatch(3) of an interface glob such as "ens1f*".
  package static func globMatches(_ pattern: String, _ name: String) -> Bool {
    fnmatch(pattern, name, 0) == 0
  }
}

extension Syscalls {
  /// write(2) of a line to standard error.
  package static func writeStandardError(_ text: String) {
    _ = try? FileDescriptor.standardError.writeAll(Array(text.utf8))
  }

  /// write(2) to standard output, unbuffered: a line another program waits for ("listening").
  package static func writeStandardOutput(_ text: String) {
    _ = try? FileDescriptor.standardOutput.writeAll(Array(text.utf8))
  }
}

extension Syscalls {
  /// sched_getscheduler(2) and sched_getparam(2): the policy (SCHED_RESET_ON_FORK cleared)
  /// and the real-time priority of thread `pid`.
  package static func schedule(of pid: Int32) throws(SystemError) -> (policy: Int32, priority: Int32) {
    let what = "pid \(pid)"
    let policy = sched_getscheduler(pid)
    if policy < 0 { throw SystemError("sched_getscheduler", what, Errno(rawValue: Glibc.errno)) }
    var param = sched_param()
    if sched_getparam(pid, &param) < 0 { throw SystemError("sched_getparam", what, Errno(rawValue: Glibc.errno)) }
    return (policy & ~Int32(SCHED_RESET_ON_FORK), param.sched_priority)
  }

  /// sched_setscheduler(2) of thread `pid` (root or CAP_SYS_NICE for real-time policies).
  package static func setSchedule(of pid: Int32, policy: Int32, priority: Int32) throws(SystemError) {
    var param = sched_param(sched_priority: priority)
    if sched_setscheduler(pid, policy, &param) < 0 {
      throw SystemError("sched_setscheduler", "pid \(pid)", Errno(rawValue: Glibc.errno))
    }
  }

  /// Bytes of the CPU masks passed to sched_{get,set}affinity: room for CPUSet.maxCPU.
  private static let affinityBytes = (CPUSet.maxCPU + 1) / 8

  /// sched_getaffinity(2): the CPUs thread `pid` may run on.
  package static func affinity(of pid: Int32) throws(SystemError) -> CPUSet {
    var mask = [UInt8](repeating: 0, count: affinityBytes)
    let r = mask.withUnsafeMutableBytes {
      bpstune_sched_getaffinity(pid, UInt($0.count), $0.baseAddress!)
    }
    if r < 0 { throw SystemError("sched_getaffinity", "pid \(pid)", Errno(rawValue: Glibc.errno)) }
    return CPUSet((0..<mask.count * 8).filter { mask[$0 / 8] & (1 << ($0 % 8)) != 0 })
  }

  /// sched_setaffinity(2) of thread `pid`.
  package static func setAffinity(of pid: Int32, _ cpus: CPUSet) throws(SystemError) {
    var mask = [UInt8](repeating: 0, count: affinityBytes)
    for cpu in cpus.cpus where cpu <= CPUSet.maxCPU { mask[cpu / 8] |= 1 << (cpu % 8) }
    let r = mask.withUnsafeMutableBytes {
      bpstune_sched_setaffinity(pid, UInt($0.count), $0.baseAddress!)
    }
    if r < 0 { throw SystemError("sched_setaffinity", "pid \(pid)", Errno(rawValue: Glibc.errno)) }
  }

  /// ioctl(SIOCETHTOOL) on `interface` with `request` (an ethtool command structure whose first
  /// u32 is the command), through a datagram socket of the caller's network namespace, as the
  /// ethtool program does: AF_INET, or AF_NETLINK when the kernel has no IPv4. Returns the
  /// ioctl's non-negative result (SFEATURES reports flags in it). `command` names the request
  /// in errors ("ETHTOOL_GCHANNELS").
  package static func ethtool(
    _ interface: String, _ request: UnsafeMutableRawBufferPointer, command: String
  ) throws(SystemError) -> Int32 {
    let name = Array(interface.utf8)
    guard !name.isEmpty, name.count < Int(IFNAMSIZ), !name.contains(0), let data = request.baseAddress else {
      throw SystemError(command, interface, .invalidArgument)
    }
    var fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { fd = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    if fd < 0 { throw SystemError("socket", interface, Errno(rawValue: Glibc.errno)) }
    defer { close(fd) }
    var ifr = ifreq()
    withUnsafeMutableBytes(of: &ifr.ifr_ifrn.ifrn_name) { $0.copyBytes(from: name) }
    ifr.ifr_ifru.ifru_data = data.assumingMemoryBound(to: CChar.self)
    while true {
      let result = withUnsafeMutablePointer(to: &ifr) { ioctl(fd, UInt(SIOCETHTOOL), UnsafeMutableRawPointer($0)) }
      if result >= 0 { return result }
      let e = Errno(rawValue: Glibc.errno)
      if e != .interrupted { throw SystemError(command, interface, e) }
    }
  }
}

/// A program bpstune runs (systemctl, udevadm) and what it answered.
package struct ProgramResult: Sendable {
  /// The exit status; -1 when it could not be started or died of a signal.
  package var status: Int32
  /// Standard output and standard error, together, trailing newline removed.
  package var output: String
}

extension Syscalls {
  /// posix_spawn(3) of `argv` (argv[0] an absolute path), its standard output and error
  /// collected through a pipe, then waitpid(2). Standard input is /dev/null. Only systemd's
  /// own tools are run this way (enabling units is their job); kernel settings never are.
  package static func run(_ argv: [String]) -> ProgramResult {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
      return ProgramResult(status: -1, output: "pipe: \(Errno(rawValue: Glibc.errno).explained)")
    }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
    close(fds[1])
    defer { close(fds[0]) }
    guard spawned == 0 else {
      return ProgramResult(status: -1, output: "\(argv[0]): \(Errno(rawValue: spawned).explained)")
    }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, 4096) }
      if n > 0 {
        if bytes.count < readLimit { bytes += buffer[..<n] }
      } else if n < 0 && Glibc.errno == EINTR {
        continue
      } else {
        break
      }
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && Glibc.errno == EINTR {}
    // WIFEXITED / WEXITSTATUS
    let exited = status & 0x7f == 0
    var output = String(decoding: bytes, as: UTF8.self)
    while output.hasSuffix("\n") { output.removeLast() }
    return ProgramResult(status: exited ? (status >> 8) & 0xff : -1, output: output)
  }
}

// MARK: - The line a SIGTERM leaves (StopReport)

/// The longest line the SIGTERM handler writes, newline included; a longer one is cut.
private let stopLineCapacity = 512
/// Two slots the recording thread fills in turn: 2 bytes of length (little-endian), then the
/// line. `stopVersion` publishes one (its parity names the slot; 0: nothing recorded), so the
/// handler always finds a whole line even when it interrupts a recording in progress.
nonisolated(unsafe) private let stopSlots = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 * stopLineCapacity)
private let stopVersion = Atomic<Int>(0)
/// The handler's own copy of the line, and who writes it (a second SIGTERM on another
/// thread only exits).
nonisolated(unsafe) private let stopCopy = UnsafeMutablePointer<UInt8>.allocate(capacity: stopLineCapacity)
private let stopWriting = Atomic<Int>(0)

/// Copies the published line into `out`; returns its length (0: none). Async-signal-safe:
/// atomics and byte copies only. A copy that a recording overtook (the slot read was being
/// refilled) is made again.
private func copyStopLine(into out: UnsafeMutablePointer<UInt8>) -> Int {
  while true {
    let version = stopVersion.load(ordering: .acquiring)
    if version == 0 { return 0 }
    let slot = stopSlots + (version & 1) * stopLineCapacity
    let count = min(Int(slot[0]) | Int(slot[1]) << 8, stopLineCapacity - 2)
    var i = 0
    while i < count {
      out[i] = slot[2 + i]
      i += 1
    }
    // The slot read is refilled only by the second recording after `version`.
    if stopVersion.load(ordering: .acquiring) <= version + 1 { return count }
  }
}

extension Syscalls {
  /// Records the line the SIGTERM handler of ``writeStopLineOnSIGTERM()`` writes. Called by
  /// one thread at a time (the one applying); never blocks the handler.
  package static func recordStopLine(_ line: String) {
    var bytes = Array(line.utf8)
    if bytes.count > stopLineCapacity - 2 {
      // Cut at a character boundary, keeping the newline.
      var end = stopLineCapacity - 6
      while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
      bytes = Array(bytes[..<end]) + Array("...\n".utf8)
    }
    let next = stopVersion.load(ordering: .relaxed) + 1
    let slot = stopSlots + (next & 1) * stopLineCapacity
    slot[0] = UInt8(bytes.count & 0xFF)
    slot[1] = UInt8(bytes.count >> 8)
    for (i, byte) in bytes.enumerated() { slot[2 + i] = byte }
    stopVersion.store(next, ordering: .releasing)
  }

  /// The line recorded last, as the handler would write it; nil before any.
  package static func recordedStopLine() -> String? {
    let out = UnsafeMutablePointer<UInt8>.allocate(capacity: stopLineCapacity)
    defer { out.deallocate() }
    let count = copyStopLine(into: out)
    return count == 0 ? nil : String(decoding: UnsafeBufferPointer(start: out, count: count), as: UTF8.self)
  }

  /// sigaction(2) of SIGTERM to a handler that writes the recorded line to standard error with
  /// write(2) and ends the process with _exit(2), status 128 + 15 (what a shell reports for
  /// SIGTERM); pthread_sigmask(SIG_UNBLOCK) of SIGTERM, as ``catchInterrupts()`` does. The
  /// handler calls only async-signal-safe functions: atomics, byte copies, write and _exit.
  package static func writeStopLineOnSIGTERM() {
    // Every global the handler touches is initialized here, not in the handler.
    _ = stopSlots
    _ = stopCopy
    _ = stopVersion.load(ordering: .relaxed)
    _ = stopWriting.load(ordering: .relaxed)
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { signal in
      if stopWriting.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
        let count = copyStopLine(into: stopCopy)
        var done = 0
        while done < count {
          let n = write(2, stopCopy + done, count - done)
          if n <= 0 { break }
          done += n
        }
      }
      _exit(128 + signal)
    }
    sigemptyset(&action.sa_mask)
    sigaction(SIGTERM, &action, nil)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }
}
