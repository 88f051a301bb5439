import Foundation

/// A directory removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
  public let path: String

  public init(_ prefix: String = "bpstune-test") {
    // NSTemporaryDirectory() ends in "/": no "//" in the paths tests compare with bpstune's.
    var directory = NSTemporaryDirectory()
    while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
    var template = Array("\(directory)/\(prefix).XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
  }

  /// Writes a file (creating parent directories) and returns its path.
  @discardableResult
  public func write(_ relative: String, _ content: String, mode: Int = 0o644) -> String {
    let full = path + "/" + relative
    do {
      try FileManager.default.createDirectory(
        atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try content.write(toFile: full, atomically: false, encoding: .utf8)
    } catch {
      preconditionFailure("cannot write test file \(full): \(error)")
    }
    chmod(full, mode_t(mode))
    return full
  }

  public func read(_ relative: String) -> String? {
    try? String(contentsOfFile: path + "/" + relative, encoding: .utf8)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A fake kernel: a temporary root laid out like /proc and /sys.
public final class FakeKernel: @unchecked Sendable {
  public let dir = TemporaryDirectory("bpstune-root")
  public var root: String { dir.path }

  public init(cpus: String = "0-3") {
    set("/sys/devices/system/cpu/online", cpus)
    set("/sys/devices/system/cpu/possible", cpus)
  }

  /// Writes a kernel file's value (with the trailing newline the kernel prints).
  public func set(_ kernelPath: String, _ value: String) {
    dir.write(String(kernelPath.dropFirst()), value + "\n")
  }

  public func get(_ kernelPath: String) -> String? {
    dir.read(String(kernelPath.dropFirst())).map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
  }

  /// The ifindex the next interface gets (1 is lo's), as the kernel hands them out.
  private var nextIfindex = 2

  /// An interface with device files and `rx`/`tx` queues, and an ifindex of its own (or
  /// `ifindex`).
  public func addInterface(_ name: String, rx: Int = 1, tx: Int = 1, ifindex: Int? = nil) {
    let index = ifindex ?? nextIfindex
    nextIfindex = max(nextIfindex, index) + 1
    set("/sys/class/net/\(name)/ifindex", "\(index)")
    set("/sys/class/net/\(name)/threaded", "0")
    set("/sys/class/net/\(name)/napi_defer_hard_irqs", "0")
    set("/sys/class/net/\(name)/gro_flush_timeout", "0")
    for q in 0..<rx {
      set("/sys/class/net/\(name)/queues/rx-\(q)/rps_cpus", "0")
      set("/sys/class/net/\(name)/queues/rx-\(q)/rps_flow_cnt", "0")
    }
    for q in 0..<tx { set("/sys/class/net/\(name)/queues/tx-\(q)/xps_cpus", "0") }
  }

  /// `ip link set NAME name NEW`: the same device (its ifindex and values) under a new name.
  public func renameInterface(_ name: String, to new: String) {
    let net = root + "/sys/class/net/"
    precondition(rename(net + name, net + new) == 0, "cannot rename \(name)")
  }

  /// `ip link del NAME`, or a move to another network namespace: gone from here.
  public func removeInterface(_ name: String) {
    try? FileManager.default.removeItem(atPath: root + "/sys/class/net/" + name)
  }
}

/// Runs `body` (a process spawn) with no signal blocked in the calling thread. The test
/// runner's threads block signals, posix_spawn passes the mask on through exec, and a program
/// started with SIGTERM or SIGALRM blocked never hears them (sockperf's -t timer, a probe
/// server's SIGTERM): users' shells start programs with none blocked.
public func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
  var none = sigset_t()
  var saved = sigset_t()
  sigemptyset(&none)
  pthread_sigmask(SIG_SETMASK, &none, &saved)
  defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
  return try body()
}

/// A finished subprocess.
public struct Finished: Sendable, CustomStringConvertible {
  public var status: Int32
  public var stdout: String
  public var stderr: String

  public init(status: Int32, stdout: String, stderr: String) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
  }

  public var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// Runs programs for tests (the product itself never does).
public enum Run {
  @discardableResult
  public static func command(_ arguments: [String], environment: [String: String] = [:], cwd: String? = nil) -> Finished
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env.merge(environment) { _, new in new }
    process.environment = env
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    do { try withSignalsUnblocked { try process.run() } } catch {
      return Finished(status: 127, stdout: "", stderr: "\(error)")
    }
    // Read both pipes while the process runs, so a full pipe cannot block it.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
      outData = out.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Finished(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// This checkout: the directory that holds Package.swift.
  public static var repository: String {
    var path = #filePath
    for _ in 0..<3 { path = (path as NSString).deletingLastPathComponent }
    return path
  }

  /// The bpstune binary of the build these tests are part of, beside the test bundle (such as
  /// .build/x86_64-unknown-linux-gnu/debug/): EndToEndTests depends on the executable, so the
  /// build that built the tests built it there, whatever its configuration or scratch path.
  public static let bpstune: String = {
    let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    return (bundle as NSString).deletingLastPathComponent + "/bpstune"
  }()

  /// The tests' own netdev netlink reader (Tests/Tools/napi-dump.c on raw netlink sockets,
  /// nothing shared with bpstune), compiled with cc into .build on first use.
  public static var napiDump: String { tool("napi-dump") }

  /// The probe server's hostile peer (Tests/Tools/probe-peer.c): a datagram spoofed from any
  /// address and port, connect/close floods, thousands of idle connections.
  public static var probePeer: String { tool("probe-peer") }

  /// Tests/Tools/NAME.c compiled with cc into .build/NAME when missing or older than its source.
  static func tool(_ name: String) -> String {
    toolLock.withLock {
      let binary = repository + "/.build/" + name
      let source = repository + "/Tests/Tools/\(name).c"
      let fm = FileManager.default
      let built = (try? fm.attributesOfItem(atPath: binary)[.modificationDate] as? Date) ?? nil
      let changed = (try? fm.attributesOfItem(atPath: source)[.modificationDate] as? Date) ?? nil
      if built == nil || (changed.map { $0 > built! } ?? false) {
        let temporary = binary + ".\(getpid())"
        let f = command(["cc", "-O2", "-Wall", "-o", temporary, source])
        precondition(f.status == 0, "cannot build \(name): \(f)")
        precondition(rename(temporary, binary) == 0, "cannot install \(name)")
      }
      return binary
    }
  }
  private static let toolLock = NSLock()

  /// The checkout's profiles/ directory.
  public static var profiles: String { repository + "/profiles" }
}

/// Files of raw bytes (not UTF-8, NUL bytes), which ``TemporaryDirectory/write(_:_:mode:)``
/// cannot hold.
public enum FileManagerWrite {
  public static func write(_ path: String, _ bytes: [UInt8]) {
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
  }
}

/// The one-line description of what `body` throws, or nil when it does not throw; so a test
/// compares the message users see and shows it when the expectation fails.
public func thrownText<T>(_ body: () throws -> T) -> String? {
  do {
    _ = try body()
    return nil
  } catch {
    return "\(error)"
  }
}

/// A small tmpfs mounted on a new temporary directory, unmounted (lazily, so a busy mount
/// cannot stay) and removed when the value goes away, also when the test fails.
public final class TemporaryMount: @unchecked Sendable {
  public let directory = TemporaryDirectory("bpstune-mount")
  public var path: String { directory.path }

  public init(options: String) throws {
    let mount = Run.command(["mount", "-t", "tmpfs", "-o", options, "bpstune-test", directory.path])
    if mount.status != 0 { throw NetworkNamespace.Failure(description: "mount: \(mount)") }
  }

  public func remount(_ options: String) {
    Run.command(["mount", "-o", "remount,\(options)", directory.path])
  }

  deinit { Run.command(["umount", "-l", directory.path]) }
}

/// A program running in the background (a probe server, a compare to be killed), its output
/// in files; SIGKILLed and reaped when the value goes away, also when the test fails.
public final class Background: @unchecked Sendable {
  let process = Process()
  let files = TemporaryDirectory("bpstune-bg")

  public init(_ arguments: [String]) throws {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    process.environment = env
    FileManager.default.createFile(atPath: files.path + "/out", contents: nil)
    FileManager.default.createFile(atPath: files.path + "/err", contents: nil)
    process.standardOutput = FileHandle(forWritingAtPath: files.path + "/out")
    process.standardError = FileHandle(forWritingAtPath: files.path + "/err")
    process.standardInput = FileHandle.nullDevice
    try withSignalsUnblocked { try process.run() }
  }

  public var pid: Int32 { process.processIdentifier }
  public var stdout: String { files.read("out") ?? "" }
  public var stderr: String { files.read("err") ?? "" }
  public var isRunning: Bool { process.isRunning }

  /// Polls every 50 ms until `condition` holds or `seconds` pass; whether it held.
  @discardableResult
  public func wait(seconds: Double, until condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
      if condition() { return true }
      usleep(50_000)
    }
    return condition()
  }

  /// Sends `signal` (SIGTERM by default) and waits for the exit.
  @discardableResult
  public func stop(_ signal: Int32 = SIGTERM) -> Finished {
    if process.isRunning { kill(process.processIdentifier, signal) }
    process.waitUntilExit()
    return Finished(status: process.terminationStatus, stdout: stdout, stderr: stderr)
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }
}
