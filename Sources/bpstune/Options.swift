import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTunePersistence

/// The options of the commands that only read profiles (and, for `lint --host` and `profiles
/// show`, the host): no state directory, nothing written, nothing to be verbose about.
struct ReadOptions: ParsableArguments {
  @Flag(name: .customLong("no-color"), help: "No colour, even on a terminal.")
  var noColor = false

  @Flag(name: .shortAndLong, help: "Print less: only summaries and errors.")
  var quiet = false

  @Option(name: .customLong("root"), help: .hidden)
  var root = "/"

  func validate() throws { try Validate.text(root, "--root") }
  var style: TextStyle { TextStyle.forStandardOutput(noColor: noColor) }
  func host() -> KernelHost { KernelHost(root: root) }
}

/// Options every command that reads or changes the host's state takes.
struct GlobalOptions: ParsableArguments {
  @Option(
    name: .customLong("state-dir"),
    help: "State directory for snapshots and the lock (default /var/lib/bpstune, or $BPSTUNE_STATE_DIR).")
  var stateDirectory: String?

  @Flag(name: .customLong("no-color"), help: "No colour, even on a terminal.")
  var noColor = false

  @Flag(name: .shortAndLong, help: "Print less: only summaries and errors.")
  var quiet = false

  @Flag(name: .shortAndLong, help: "Print more: each write as it happens.")
  var verbose = false

  @Option(name: .customLong("root"), help: .hidden)
  var root = "/"

  // Where enable keeps its record and rule, and the programs bpstune runs as root: fixed
  // paths, never taken from the environment (`sudo -E` hands a user's environment to root).
  // Tests point them elsewhere with these hidden options, as they point kernel paths with --root.
  @Option(name: .customLong("config-dir"), help: .hidden)
  var configDirectory = "/etc/bpstune"
  @Option(name: .customLong("udev-rules-dir"), help: .hidden)
  var udevRulesDirectory = "/etc/udev/rules.d"
  @Option(name: .customLong("systemctl"), help: .hidden)
  var systemctl = "/usr/bin/systemctl"
  @Option(name: .customLong("udevadm"), help: .hidden)
  var udevadm = "/usr/bin/udevadm"

  /// The lock every writing run holds, whatever its state directory: root's alone to create,
  /// in /run/bpstune (the units' RuntimeDirectory), below /run, which only root may write.
  static let hostLock = "/run/bpstune/lock"

  func validate() throws {
    try Validate.text(stateDirectory, "--state-dir")
    try Validate.text(root, "--root")
    try Validate.absolutePath(configDirectory, "--config-dir")
    try Validate.absolutePath(udevRulesDirectory, "--udev-rules-dir")
    try Validate.absolutePath(systemctl, "--systemctl")
    try Validate.absolutePath(udevadm, "--udevadm")
  }

  var persistence: Persistence {
    Persistence(
      configDirectory: configDirectory, udevRulesDirectory: udevRulesDirectory, systemctl: systemctl,
      udevadm: udevadm)
  }

  var store: SnapshotStore { SnapshotStore(stateDirectory: stateDirectory ?? SnapshotStore.defaultStateDirectory) }
  var style: TextStyle { TextStyle.forStandardOutput(noColor: noColor) }
  func host() -> KernelHost { KernelHost(root: root) }

  func executor(_ host: KernelHost) -> Executor {
    var executor = Executor(host: host, knobs: KnobRegistry.standard, store: store)
    if verbose { executor.log = { Output.note("  \($0)") } }
    executor.progress = { StopReport.doing($0) }
    return executor
  }

  /// The persistence workflows over this run's host, state directory and options, their lines
  /// on standard output and warnings on standard error.
  func workflow() -> Workflow {
    let host = host()
    return Workflow(
      persistence: persistence, host: host, store: store, executor: { executor($0) }, lock: { try lock(timeout: $0) },
      say: { print($0) }, warn: { Output.error($0) })
  }

  /// Writing commands say which privileges they lack before planning any write (on the real
  /// host; a --root tree is the tests' and needs none).
  func require(_ needed: Set<Privilege>, for command: String) throws {
    // "//" and "/." are the real root too: the host's own path, not a test tree.
    if KernelHost(root: root).isRealRoot { try Privilege.require(needed, for: command) }
  }

  /// Takes the apply locks (the host's /run/bpstune/lock, then the state directory's), saying
  /// so while it waits for another run. A test tree (--root) has its own run/bpstune/lock.
  func lock(timeout: Int) throws -> StateLock {
    do {
      try store.prepare()
      let host = KernelHost(root: root)
      try? Syscalls.makeDirectories(host.path("/run/bpstune"), mode: 0o755)
      StopReport.doing("taking the lock \(host.path(Self.hostLock))")
      return try store.lock(timeout: timeout, hostLock: host.path(Self.hostLock)) { path, holder in
        StopReport.doing("waiting for another bpstune run to finish (\(path) held by pid \(holder))")
        Output.note("bpstune: waiting up to \(timeout)s for another bpstune run to finish (\(path))")
      }
    } catch {
      throw error.beforeAnyChange
    }
  }
}

/// `--reason TEXT` of the commands that change the host.
struct ReasonOption: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Why, in a few words: recorded in the snapshot, shown by status and snapshots list.", valueName: "TEXT"))
  var reason: String?

  func validate() throws {
    try Validate.text(reason, "--reason")
    if let reason, reason.utf8.count > 200 { throw ValidationError("--reason: at most 200 bytes") }
  }
}

/// A profile's variables: `-i` for ${iface}, `--set` for the others. Shared by every command
/// that takes a profile, enable's optional one included.
struct VariableOptions: ParsableArguments {
  @Option(
    name: [.customShort("i"), .customLong("interface")],
    help: ArgumentHelp("Interface for the profile's ${iface} variable.", valueName: "IF"),
    completion: .custom { _, _, _ in Completion.interfaces() })
  var interface: String?

  @Option(name: .customLong("set"), help: ArgumentHelp("Set a profile variable.", valueName: "NAME=VALUE"))
  var assignments: [String] = []

  func validate() throws {
    try Validate.interface(interface)
    _ = try overrides()
  }

  func overrides() throws -> [String: String] {
    try Self.overrides(assignments)
  }

  /// --set NAME=VALUE assignments as a dictionary; each malformed one named, and a name or value
  /// with a control character refused as every other option is (``Validate/text(_:_:)``).
  static func overrides(_ assignments: [String]) throws -> [String: String] {
    var result: [String: String] = [:]
    for assignment in assignments {
      try Validate.text(assignment, "--set")
      guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
        throw ValidationError("--set \(assignment): expected NAME=VALUE")
      }
      let name = String(assignment[..<eq])
      if result[name] != nil { throw ValidationError("--set \(name) given twice") }
      result[name] = String(assignment[assignment.index(after: eq)...])
    }
    return result
  }
}

/// The profile and its variables.
struct ProfileOptions: ParsableArguments {
  @Argument(
    help: "A profile name (see `bpstune profiles`) or a path to a .profile file.",
    completion: .custom { _, _, _ in Completion.profiles() })
  var profile: String

  @OptionGroup var variables: VariableOptions

  var interface: String? { variables.interface }

  func validate() throws {
    try Validate.text(profile, "profile")
    try variables.validate()
  }

  func overrides() throws -> [String: String] {
    try variables.overrides()
  }

  /// Loads the profile; a relative path is taken from the working directory (getcwd(3)). As
  /// root, only trusted files are read (``ProfileTrust``), and for `persistent` (enable) only
  /// root's own.
  func load(persistent: Bool = false) throws -> Profile {
    try Self.load(profile, overrides: try overrides(), interface: interface, persistent: persistent)
  }

  static func load(_ reference: String, overrides: [String: String], interface: String?, persistent: Bool)
    throws -> Profile
  {
    try ProfileLoader(source: .standard(trust: .forThisProcess(persistent: persistent))).load(
      reference, overrides: overrides, interface: interface)
  }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}

extension VerifyReport.Format: ExpressibleByArgument {}

/// What the shells complete: built-in and installed profile names (and .profile files in the
/// current directory), and the host's interfaces (/sys/class/net).
enum Completion {
  static func profiles() -> [String] {
    let local = ((try? Syscalls.listDirectory(".")) ?? []).filter { $0.hasSuffix(".profile") }.map { "./" + $0 }
    return ProfileSource.standard().available().map(\.name) + local
  }

  /// Snapshot ids, newest first, and `latest` (empty when the state directory is root's and
  /// the shell's user is not).
  static func snapshots() -> [String] {
    ["latest"] + ((try? SnapshotStore(stateDirectory: SnapshotStore.defaultStateDirectory).ids()) ?? []).reversed()
  }

  static func interfaces() -> [String] {
    ((try? Syscalls.listDirectory("/sys/class/net")) ?? []).filter { !$0.hasPrefix(".") }
  }
}
