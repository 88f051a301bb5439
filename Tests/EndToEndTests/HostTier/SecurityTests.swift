import Foundation
import TestSupport
import Testing

/// The attacks on a root tool (issue 26), each against the built binary as root on the real
/// kernel in a network namespace: refused with exit 2 and one line naming the input, nothing
/// changed. What changed or not is read with cat, ls, strace and the files themselves, never
/// with bpstune; mounts are made in the command's own private mount namespace and go with it.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces, mounts and chown"))
struct SecurityTests {
  let work: TemporaryDirectory = {
    let w = TemporaryDirectory("bpstune-sec")
    chmod(w.path, 0o755)
    return w
  }()
  var state: String { work.path + "/state" }
  var etc: String { work.path + "/etc" }
  var rules: String { work.path + "/rules" }
  var metrics: String { work.path + "/metrics" }
  var redirected: [String] {
    [
      "--config-dir", etc, "--udev-rules-dir", rules, "--systemctl", "/bin/true", "--udevadm", "/bin/true",
      "--state-dir", state,
    ]
  }
  static let somaxconn = "/proc/sys/net/core/somaxconn"

  func bpstune(_ ns: NetworkNamespace, _ arguments: [String], environment: [String: String] = [:]) -> Finished {
    ns.run([Run.bpstune] + arguments + ["--no-color"] + redirected, environment: environment)
  }

  /// `arguments` run by bpstune in `directory` (cd, then exec, as a shell would).
  func bpstune(_ ns: NetworkNamespace, in directory: String, _ arguments: [String], pwd: String? = nil) -> Finished {
    let env = pwd.map { ["env", "PWD=\($0)"] } ?? []
    return ns.run(
      ["sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + env + [Run.bpstune] + arguments + ["--no-color"]
        + redirected)
  }

  /// Exit 2, one line, naming `words`, and no raw escape character.
  func refused(_ f: Finished, _ words: String) -> Bool {
    f.status == 2 && f.stderr.split(separator: "\n").count == 1 && f.stderr.hasPrefix("bpstune: ")
      && f.stderr.contains(words) && !f.stderr.utf8.contains(0x1b)
  }

  func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

  @discardableResult
  func profile(
    _ relative: String, _ text: String = "[sysctl]\nnet.core.somaxconn = 1234\n", mode: Int = 0o644, owner: UInt32 = 0
  )
    -> String
  {
    let path = work.write(relative, text, mode: mode)
    chown(path, owner, owner)
    return path
  }

  func directory(_ relative: String, mode: Int, owner: UInt32 = 0) -> String {
    let path = work.path + "/" + relative
    mkdir(path, 0o755)
    chmod(path, mode_t(mode))
    chown(path, owner, owner)
    return path
  }

  // MARK: Names and paths that could end a line

  @Test func aProfilePathWithNewlinesCannotWriteAUdevRuleLine() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let path = profile("x\nSUBSYSTEM==\"block\", MODE=\"0666\"\n#.profile")
    let enable = bpstune(ns, ["enable", path, "--metrics-dir", metrics])
    #expect(refused(enable, "holds the control character U+000A"), "\(enable)")
    #expect(!exists(rules + "/80-bpstune.rules") && !exists(etc + "/enabled.toml"))
    #expect(ns.cat(Self.somaxconn) == before)
  }

  @Test func controlCharactersInNamesAndPathsAreRefusedAndNeverPrintedRaw() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let p = profile("p.profile")
    let cases: [([String], String)] = [
      (["enable", p, "--metrics-dir", "/tmp/m\nx"], "--metrics-dir /tmp/m\\nx: holds the control character U+000A"),
      (["apply", p, "-i", "v\u{1b}[31m"], "-i v\\x1B[31m: holds the control character U+001B"),
      (["verify", p, "--output", work.path + "/o\n.xml"], "--output"),
      (["diff", "hft\u{1b}[2J"], "profile hft\\x1B[2J"),
      (["rollback", "x\u{9b}1m"], "snapshot id"),
      (["enable", p, "--set", "a=\u{1b}"], "--set a"),
      // C1 and the line separator as well, as every other option refuses them.
      (["diff", p, "--set", "a=\u{9b}31m"], "--set a=\\u{9B}31m: holds the control character U+009B"),
      (["enable", p, "-i", "vA", "--set", "a=b\u{2028}c"], "holds the control character U+2028"),
      (["show", "-i", "eth0\u{7f}"], "-i eth0\\x7F"),
    ]
    for (arguments, words) in cases {
      let r = bpstune(ns, arguments)
      #expect(refused(r, words), "\(arguments): \(r)")
    }
    let stateDirectory = ns.run([Run.bpstune, "apply", p, "--state-dir", state + "\u{1b}]0;x\u{7}", "--no-color"])
    #expect(refused(stateDirectory, "--state-dir"), "\(stateDirectory)")
    #expect(ns.cat(Self.somaxconn) == before)
    #expect(!exists(etc + "/enabled.toml") && !exists(work.path + "/o\n.xml"))
  }

  @Test func enableRecordsTheFileItselfWhateverPWDSays() throws {
    let ns = try NetworkNamespace()
    let real = directory("real", mode: 0o755)
    try FileManager.default.createSymbolicLink(atPath: work.path + "/link", withDestinationPath: real)
    profile("real/mine.profile")
    let enable = bpstune(
      ns, in: work.path + "/link", ["enable", "mine.profile", "--metrics-dir", metrics], pwd: "/nonexistent")
    #expect(enable.status == 0, "\(enable)")
    let record = try String(contentsOfFile: etc + "/enabled.toml", encoding: .utf8)
    #expect(record.contains("profile = \"\(real)/mine.profile\""), "\(record)")
    // The units run in /, without $PWD: the drift check finds the same file.
    let check = bpstune(ns, in: "/", ["persist", "check"])
    #expect(check.status == 0 && check.stdout.contains("no drift"), "\(check)")
    #expect(bpstune(ns, ["disable"]).status == 0)
  }

  // MARK: Whose profiles root reads

  @Test func aProfileNameNeverResolvesInTheWorkingDirectory() throws {
    let ns = try NetworkNamespace()
    let hostile = directory("hostile", mode: 0o755)
    profile("hostile/hft.profile", "[sysctl]\nnet.core.somaxconn = 31337\n", mode: 0o666, owner: 65534)
    let diff = bpstune(ns, in: hostile, ["diff", "hft", "-i", ns.a])
    #expect(diff.stdout.contains("busy_read") && !diff.stdout.contains("31337"), "\(diff)")
    for reference in ["hft.profile", "./hft.profile"] {
      let r = bpstune(ns, in: hostile, ["apply", reference])
      #expect(refused(r, "owned by uid 65534, not by root"), "\(reference): \(r)")
    }
    #expect(ns.cat(Self.somaxconn) != "31337")
    let relative = bpstune(ns, ["diff", "hft"], environment: ["BPSTUNE_PROFILE_PATH": "profiles"])
    #expect(refused(relative, "BPSTUNE_PROFILE_PATH: \"profiles\" is not an absolute directory"), "\(relative)")
  }

  @Test func profilesOthersCouldWriteAreRefusedAsRoot() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    _ = directory("open", mode: 0o777)
    _ = directory("sticky", mode: 0o1777)
    let cases: [(String, String)] = [
      (profile("world.profile", mode: 0o666), "writable by group or others (mode 666); refused"),
      (profile("group.profile", mode: 0o664), "writable by group or others (mode 664); refused"),
      (profile("nobody.profile", owner: 65534), "owned by uid 65534, not by root"),
      (
        profile("open/p.profile"),
        "lies in \(work.path)/open, which is writable by group or others (mode 777) without the sticky bit"
      ),
      (
        profile("includes.profile", "[profile]\ninclude = [\"./world.profile\"]\n"),
        "world.profile: writable by group or others"
      ),
    ]
    for (path, words) in cases {
      let apply = bpstune(ns, ["apply", path])
      #expect(refused(apply, words), "\(path): \(apply)")
    }
    #expect(ns.cat(Self.somaxconn) == before)
    #expect(((try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []).isEmpty)
    // A root-owned file in a sticky directory (as in /tmp): no one else can replace it.
    let sticky = bpstune(ns, ["diff", profile("sticky/p.profile")])
    #expect(sticky.status == 1 && sticky.stdout.contains("-> 1234"), "\(sticky)")
    // An ordinary user's own profile is read with their rights: nothing to check.
    let mine = profile("mine.profile", mode: 0o666, owner: 65534)
    let asNobody = ns.run(PrivilegeTests.nobody + [Run.bpstune, "diff", mine, "--no-color"])
    #expect(asNobody.status == 1 && asNobody.stdout.contains("-> 1234"), "\(asNobody)")
  }

  @Test func enableAndTheUnitsTakeOnlyRootsFiles() throws {
    let ns = try NetworkNamespace()
    let sudoUser: UInt32 = 1000
    let users = profile("users.profile", owner: sudoUser)
    // Run by sudo, a command now may read the sudo user's own file; enable may not.
    let diff = bpstune(ns, ["diff", users], environment: ["SUDO_UID": "\(sudoUser)"])
    #expect(diff.status == 1, "\(diff)")
    #expect(refused(bpstune(ns, ["diff", users]), "owned by uid 1000, not by root"))
    let enable = bpstune(ns, ["enable", users, "--metrics-dir", metrics], environment: ["SUDO_UID": "\(sudoUser)"])
    #expect(refused(enable, "enable and bpstune's units take only root's files"), "\(enable)")
    _ = directory("home", mode: 0o755, owner: sudoUser)
    let inHome = profile("home/p.profile")
    let fromHome = bpstune(ns, ["enable", inHome, "--metrics-dir", metrics], environment: ["SUDO_UID": "\(sudoUser)"])
    #expect(refused(fromHome, "lies in \(work.path)/home, which is owned by uid 1000"), "\(fromHome)")
    #expect(!exists(etc + "/enabled.toml"))

    // A root file enabled, then given away: the units never read it from then on. They apply
    // the content enabled, from the copy enable pinned (root's, in the configuration
    // directory), and say why; without that copy they refuse.
    let p = profile("root.profile")
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", metrics]).status == 0)
    chown(p, sudoUser, sudoUser)
    let check = bpstune(ns, ["persist", "check"])
    #expect(check.status == 0, "\(check)")
    #expect(
      check.stdout.contains("owned by uid 1000, not by root") && check.stdout.contains("using the content enabled"),
      "\(check)")
    #expect(unlink(etc + "/enabled.profile") == 0)
    let refusedCheck = bpstune(ns, ["persist", "check"])
    #expect(
      refusedCheck.status == 2 && refusedCheck.stderr.contains("owned by uid 1000, not by root"), "\(refusedCheck)")
    chown(p, 0, 0)
    #expect(bpstune(ns, ["disable"]).status == 0)
  }

  @Test func aDeviceOrFIFOIsNeverOpenedAsAProfile() throws {
    let ns = try NetworkNamespace()
    let fifo = work.path + "/fifo.profile"
    #expect(mkfifo(fifo, 0o644) == 0)
    for (target, shown) in [("/dev/zero", "/dev/zero"), (fifo, fifo)] {
      let including = profile("inc-\(target.count).profile", "[profile]\ninclude = [\"\(target)\"]\n")
      let log = work.path + "/strace-\(target.count).log"
      for reference in [target, including] {
        let r = ns.run(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", log, Run.bpstune, "lint", reference])
        #expect(refused(r, "\(shown): not a regular file"), "\(reference): \(r)")
        let trace = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!trace.contains("\"\(target)\""), "\(reference) was opened:\n\(trace)")
      }
    }
  }

  // MARK: Kernel files on other file systems

  @Test func sysfsAndSysctlKeysOnOtherFileSystemsAreRefused() throws {
    let ns = try NetworkNamespace()
    // Each file system mounted where it is mounted on hosts, in the command's own mount
    // namespace (debugfs, tracefs, securityfs and cgroup2 show the host's own files there).
    // Whether bpstune wrote is read twice, independently of it: the target file's value with
    // cat before and after, and strace's record of every open for writing and every write,
    // with the file each descriptor names (-y). The value asked for differs from the one there,
    // so a write would show; a kernel in lockdown (integrity) lets no one read a writable
    // debugfs file, and there strace's record is what tells (a write would be an open of the
    // file O_WRONLY, refused or not). Whatever a faulty bpstune changed is put back.
    let cases: [(mount: String, key: String, file: String, fileSystem: String, value: (String) -> String)] = [
      (
        "mount -t tracefs none /sys/kernel/tracing", "kernel/tracing/tracing_on", "/sys/kernel/tracing/tracing_on",
        "tracefs", { $0 == "1" ? "0" : "1" }
      ),
      (
        "mount -t securityfs none /sys/kernel/security", "kernel/security/lsm", "/sys/kernel/security/lsm",
        "securityfs", { _ in "1" }
      ),
      (
        "mount -t debugfs none /sys/kernel/debug", "kernel/debug/fault_around_bytes",
        "/sys/kernel/debug/fault_around_bytes", "debugfs", { $0 == "8192" ? "16384" : "8192" }
      ),
      (
        "mount -t debugfs none /sys/kernel/debug", "kernel/debug/fault_around_*",
        "/sys/kernel/debug/fault_around_bytes", "debugfs", { $0 == "8192" ? "16384" : "8192" }
      ),
      (
        "mount -t cgroup2 none /sys/fs/cgroup", "fs/cgroup/cgroup.max.depth", "/sys/fs/cgroup/cgroup.max.depth",
        "cgroup2", { $0 == "3" ? "4" : "3" }
      ),
      (
        "mount -t tmpfs none /sys/fs/bpf && echo 7 > /sys/fs/bpf/x", "fs/bpf/x", "/sys/fs/bpf/x", "tmpfs",
        { _ in "1" }
      ),
    ]
    for (index, c) in cases.enumerated() {
      let current = ns.run(["sh", "-c", "\(c.mount) && cat \(c.file)"])
      let readable = current.status == 0
      let wanted = c.value(current.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
      let p = profile("fs\(index).profile", "[sysfs]\n\"\(c.key)\" = \"\(wanted)\"\n")
      let trace = work.path + "/fs\(index).trace"
      let script = """
        \(c.mount) || exit 9
        before=$(cat \(c.file) 2>&1)
        strace -f -qq -y -e trace=open,openat,openat2,write,pwrite64,writev -o \(trace) "$@"
        echo "exit $?"
        after=$(cat \(c.file) 2>&1)
        if [ "$before" = "$after" ]; then echo unchanged; else echo "changed: $before -> $after"; echo "$before" > \(c.file); fi
        """
      let r = ns.run(["sh", "-c", script, "sh", Run.bpstune, "apply", p, "--state-dir", state, "--no-color"])
      #expect(r.stdout.contains("exit 2\nunchanged"), "\(c.fileSystem): \(r)")
      #expect(r.stderr.contains("is on \(c.fileSystem), not sysfs; refused"), "\(c.fileSystem): \(r)")
      let calls = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
      // strace saw the run (the binary's own opens), and no open for writing or write of the file.
      #expect(calls.contains("openat("), "\(c.fileSystem): no trace")
      // An open naming the file with O_WRONLY or O_RDWR, or a write to a descriptor of it (-y
      // shows it as 3</sys/...>); not a message that quotes the path.
      let writes = calls.split(separator: "\n").filter {
        ($0.contains("\"\(c.file)\"") && ($0.contains("O_WRONLY") || $0.contains("O_RDWR")))
          || ($0.contains("<\(c.file)>") && $0.contains("write"))
      }
      #expect(writes.isEmpty, "\(c.fileSystem): \(writes)")
      if !readable {
        print(
          "security-fs: \(c.fileSystem) \(c.file) unreadable here (\(current.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); strace's record told"
        )
      }
    }
  }

  // MARK: The environment, the lock, numbers, temporary files

  @Test func theEnvironmentChoosesNoProgramAndNoRecord() throws {
    let ns = try NetworkNamespace()
    let marker = work.path + "/ran"
    let evil = work.write("evil", "#!/bin/sh\ntouch \(marker)\necho enabled\n", mode: 0o755)
    let record = directory("env-etc", mode: 0o755)
    profile("env-etc/enabled.toml", "profile = \"hft\"\n")
    // status asks systemctl is-enabled and is-active (read-only) and reads the record.
    let status = ns.run(
      [Run.bpstune, "status", "--no-color"],
      environment: ["BPSTUNE_SYSTEMCTL": evil, "BPSTUNE_UDEVADM": evil, "BPSTUNE_CONFIG_DIR": record])
    #expect(!exists(marker), "\(status)")
    #expect(!status.stdout.contains("hft"), "\(status)")
    // It did run, and read its own record (none): a status that failed early would pass the above.
    #expect(status.status == 2 && status.stdout.contains("nothing is enabled"), "\(status)")
  }

  @Test func runsWithDifferentStateDirectoriesExcludeEachOther() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let p = profile("p.profile")
    // flock(1) holds the host's lock as a run with another state directory would.
    let holder = try Background(
      ns.command(["sh", "-c", "mkdir -p /run/bpstune && exec flock /run/bpstune/lock sleep 10"]))
    #expect(holder.wait(seconds: 5) { ns.run(["flock", "-n", "/run/bpstune/lock", "true"]).status == 1 })
    let blocked = ns.run([
      Run.bpstune, "apply", p, "--state-dir", work.path + "/other-state", "--lock-timeout", "1", "--no-color",
    ])
    #expect(blocked.status == 2 && blocked.stderr.contains("holds /run/bpstune/lock"), "\(blocked)")
    #expect(ns.cat(Self.somaxconn) == before)
    holder.stop()
  }

  @Test func numbersOutOfRangeAreRefusedNotTrapped() throws {
    let ns = try NetworkNamespace()
    let p = profile("p.profile")
    let cases: [([String], String)] = [
      (
        ["apply", p, "--lock-timeout", "9223372036854775807"], "--lock-timeout 9223372036854775807: must be 0 to 86400"
      ),
      (["rollback", "--lock-timeout=-1"], "--lock-timeout -1: must be 0 to 86400"),
      (["enable", p, "--lock-timeout", "86401"], "--lock-timeout 86401"),
      (["apply", p, "--keep-snapshots", "0"], "--keep-snapshots 0: must be 1 to 1000000"),
      (["snapshots", "prune", "--keep", "99999999999"], "--keep 99999999999"),
      (["persist", "interface", "x", "--wait-up", "9223372036854775807"], "--wait-up"),
      (["apply", p, "--lock-timeout", "99999999999999999999"], "lock-timeout"),
    ]
    for (arguments, words) in cases {
      let r = bpstune(ns, arguments)
      #expect(refused(r, words), "\(arguments): \(r)")
    }
  }

  @Test func temporaryNamesCannotBeTakenBeforehand() throws {
    let ns = try NetworkNamespace()
    let p = profile("p.profile")
    let reports = directory("reports", mode: 0o755)
    let out = reports + "/out.xml"
    // Every name a FILE.tmp-PID scheme would use for the next 3,000 process ids, taken.
    let last =
      Int(
        (try String(contentsOfFile: "/proc/sys/kernel/ns_last_pid", encoding: .utf8)).trimmingCharacters(
          in: .whitespacesAndNewlines)) ?? 0
    for pid in last..<(last + 3000) { mkdir(out + ".tmp-\(pid)", 0o755) }
    let log = work.path + "/verify.log"
    for _ in 0..<2 {
      let r = ns.run(
        [
          "strace", "-f", "-qq", "-e", "trace=openat", "-o", log, "-A", Run.bpstune, "verify", p, "--format", "junit",
          "--output", out,
        ])
      #expect(r.status == 1, "\(r)")
    }
    #expect((try? String(contentsOfFile: out, encoding: .utf8))?.contains("<testsuite") == true)
    // Two runs drew two random names, created O_EXCL; neither is left behind.
    let trace = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    let names = trace.split(separator: "\n").filter { $0.contains("O_EXCL") && $0.contains(".out.xml.") }.compactMap {
      line -> String? in
      guard let start = line.range(of: "\".out.xml.") else { return nil }
      return String(line[start.upperBound...].prefix(20))
    }
    #expect(names.count == 2 && names[0] != names[1], "\(names)")
    #expect(names.allSatisfy { $0.count == 20 && $0.hasSuffix(".tmp") && $0.prefix(16).allSatisfy(\.isHexDigit) })
    let left = try FileManager.default.contentsOfDirectory(atPath: reports).filter { $0.hasPrefix(".") }
    #expect(left.isEmpty, "\(left)")
  }

  // MARK: Hot-plugged names and what is printed

  /// A TOML basic string of any name.
  func toml(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  @Test func hotPluggedInterfacesWhoseNamesSystemdManglesAreTuned() throws {
    let ns = try NetworkNamespace(bare: true)
    // Names the kernel allows with characters a unit name may not hold ("%" it refuses).
    let names = ["v+1", "v-1", "v.1", "v@1", "v\\x2b", "v|1", "v\"1"]
    func create() throws {
      for (i, name) in names.enumerated() {
        try ns.exec(["ip", "link", "add", name, "type", "veth", "peer", "name", "q\(i)"])
        try ns.exec(["ip", "link", "set", name, "up"])
        try ns.exec(["ip", "link", "set", "q\(i)", "up"])
      }
    }
    try create()
    let p = profile(
      "names.profile", names.map { "[[interface]]\nname = \(toml($0))\nnapi-defer-hard-irqs = 3\n" }.joined())
    let enable = bpstune(ns, ["enable", p, "--metrics-dir", metrics])
    #expect(enable.status == 0, "\(enable)")
    // The driver re-creates them: the kernel's defaults again, until the interface unit runs.
    for i in names.indices { try ns.exec(["ip", "link", "del", "q\(i)"]) }
    try create()
    for name in names {
      #expect(ns.cat("/sys/class/net/\(name)/napi_defer_hard_irqs") == "0")
      // The instance name systemd gives the unit udev asks for (systemd's own mangling).
      let unit = Run.command(["systemd-escape", "--mangle", "bpstune-interface@\(name).service"]).stdout
      let instance = String(unit.drop { $0 != "@" }.dropFirst().prefix { $0 != "\n" }.dropLast(".service".count))
      let r = bpstune(ns, ["persist", "interface", instance])
      #expect(r.status == 0 && r.stdout.contains("applied"), "\(name) as \(instance): \(r)")
      #expect(ns.cat("/sys/class/net/\(name)/napi_defer_hard_irqs") == "3", "\(name) as \(instance)")
    }
    #expect(bpstune(ns, ["disable", "--keep-settings"]).status == 0)
  }

  @Test func anEscapeSequenceInAnInterfaceNameIsPrintedEscaped() throws {
    let ns = try NetworkNamespace(bare: true)
    let evil = "v\u{1b}[31m"
    try ns.exec(["ip", "link", "add", evil, "type", "veth", "peer", "name", "q1"])
    try ns.exec(["ip", "link", "set", evil, "up"])
    let p = profile("glob.profile", "[[interface]]\nname = \"v*\"\nnapi-defer-hard-irqs = 2\n")
    for arguments in [["show"], ["diff", p], ["verify", p], ["apply", p], ["snapshots", "list"], ["rollback"]] {
      let r = bpstune(ns, arguments)
      #expect(!r.stdout.utf8.contains(0x1b) && !r.stderr.utf8.contains(0x1b), "\(arguments): \(r)")
      #expect((r.stdout + r.stderr).contains("v\\x1B[31m") || arguments[0] == "snapshots", "\(arguments): \(r)")
    }
    #expect(ns.cat("/sys/class/net/\(evil)/napi_defer_hard_irqs") == "0")
  }

  @Test func theRealRootSpelledOtherwiseStillNeedsPrivileges() throws {
    let ns = try NetworkNamespace()
    let p = profile("p.profile")
    for root in ["//", "/.", "/proc/.."] {
      let r = ns.run(
        PrivilegeTests.nobody + [Run.bpstune, "apply", p, "--root", root, "--state-dir", state, "--no-color"])
      #expect(refused(r, "apply needs root (uid 0)"), "--root \(root): \(r)")
    }
  }
}
