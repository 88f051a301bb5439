import Foundation
import TestSupport
import Testing

/// `bpstune init` on the real kernel, as root: on a veth inside a network namespace (whose /run
/// is its own), and on this host's own eth0, read-only. What init read and wrote is checked with
/// tools independent of bpstune: strace for what it opened for writing and which netdev
/// commands it sent, cat, ethtool and stat for the values and the --output file. init takes no
/// lock and has no state directory: nothing of the host's /run/bpstune or /var/lib/bpstune is
/// touched.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct InitTests {
  let work: TemporaryDirectory = {
    let w = TemporaryDirectory("bpstune-init")
    chmod(w.path, 0o755)
    return w
  }()

  /// `stat -c FORMAT PATH` (of the name itself, not what a symlink points to).
  static func stat(_ format: String, _ path: String) -> String {
    Run.command(["stat", "-c", format, path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// `bpstune lint FILE`: the profile loads (read-only, the host not read).
  static func expectLintClean(_ file: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let lint = Run.command([Run.bpstune, "lint", file, "--no-color"])
    #expect(lint.status == 0 && lint.stdout.hasPrefix("ok \(file): "), "\(lint)", sourceLocation: sourceLocation)
    #expect(lint.stderr.isEmpty, "\(lint)", sourceLocation: sourceLocation)
  }

  /// Every line of standard error is one of init's notes.
  static func expectOnlyNotes(_ f: Finished, sourceLocation: SourceLocation = #_sourceLocation) {
    let lines = f.stderr.split(separator: "\n")
    #expect(lines.allSatisfy { $0.hasPrefix("bpstune: note: ") }, "\(f)", sourceLocation: sourceLocation)
  }

  /// The namespace's values init could have touched: its sysctls, the veth's files and channels.
  static func values(_ ns: NetworkNamespace) -> String {
    let dev = "/sys/class/net/\(ns.a)"
    return [
      "/proc/sys/net/core/somaxconn", "\(dev)/napi_defer_hard_irqs", "\(dev)/gro_flush_timeout", "\(dev)/threaded",
    ]
    .map { ns.cat($0) }.joined(separator: " ") + "\n" + ns.run(["ethtool", "-l", ns.a]).stdout
      + ns.run(["ethtool", "-k", ns.a]).stdout
  }

  @Test func initOfAVethInANamespacePrintsAProfileThatLintsAndDiffs() throws {
    let ns = try NetworkNamespace()
    let before = Self.values(ns)
    let r = ns.run([Run.bpstune, "init", "-i", ns.a, "--no-color"])
    #expect(r.status == 0, "\(r)")
    #expect(r.stdout.hasPrefix("# Site profile for \(ns.a) on "), "\(r)")
    #expect(r.stdout.contains("written by `bpstune init -i \(ns.a)` on "), "\(r)")
    #expect(r.stdout.contains("\niface = \"\(ns.a)\"\n") && r.stdout.contains("\n[[interface]]\nname = \"${iface}\""))
    // A veth has rx and tx channels and no queue IRQs: said, and no irq-affinity written. The
    // base (napi-busy-poll or napi-threaded, through seed002-host) asks combined = 1, which a veth has not: the
    // site profile's rx and tx replace it, with combined 0, and nothing of the channels is a
    // setting this host cannot take.
    #expect(r.stdout.contains("channels = { rx = 1, tx = 1, combined = 0 }"), "\(r)")
    #expect(!r.stdout.contains("channels.combined"), "\(r)")
    #expect(!r.stderr.contains("channels"), "\(r)")
    #expect(r.stdout.contains("# irq-affinity \(ns.a) = (left): \(ns.a) has no queue IRQs"), "\(r)")
    #expect(!r.stdout.contains("\nirq-affinity = "), "\(r)")
    Self.expectOnlyNotes(r)
    let file = work.write("veth.profile", r.stdout)
    Self.expectLintClean(file)
    // diff of it at once: exit 0 or 1 (what differs), never 2; no state written.
    let state = work.path + "/state"
    let diff = ns.run([Run.bpstune, "diff", file, "--state-dir", state, "--no-color"])
    #expect(diff.status == 0 || diff.status == 1, "\(diff)")
    #expect(diff.stdout.contains("interface \(ns.a)") && diff.stdout.contains("napi-defer-hard-irqs"), "\(diff)")
    #expect(!diff.stdout.contains("channels.") && !diff.stderr.contains("channels"), "\(diff)")
    #expect(!FileManager.default.fileExists(atPath: state))
    #expect(Self.values(ns) == before, "init or diff changed the namespace")

    // --format json: the topology read and the decisions, and the same profile.
    let json = ns.run([Run.bpstune, "init", "-i", ns.a, "--format", "json"])
    #expect(json.status == 0 && json.stderr.isEmpty, "\(json)")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(doc["command"] as? String == "init" && doc["profile"] as? String == r.stdout)
    let nic = try #require(((doc["topology"] as? [String: Any])?["interfaces"] as? [[String: Any]])?.first)
    #expect(nic["name"] as? String == ns.a && nic["driver"] == nil && nic["queue_irqs"] as? [Int] == [])
    #expect((nic["channels"] as? [String: [String: Int]])?["rx"]?["current"] == 1, "\(nic)")
    let layout = try #require(doc["layout"] as? [String: Any])
    #expect((layout["poll_cpus"] as? String).map { !$0.isEmpty } == true, "\(layout)")
    #expect((doc["decisions"] as? [[String: String]])?.first?["topic"] == "base", "\(doc)")

    // Without -i, a namespace of veths has no NIC to choose: one line, exit 2.
    let none = ns.run([Run.bpstune, "init"])
    #expect(none.status == 2 && none.stdout.isEmpty, "\(none)")
    #expect(none.stderr == "bpstune: init: this host has no NIC with a device; name the interface with -i IF\n")
  }

  /// A veth whose name holds a quote, braces and a written backslash-n (the kernel allows any
  /// byte but "/", ":", white space and NUL): init writes it as a TOML string that loads to that
  /// name, its comments say it with the backslash escaped, and diff plans that interface.
  @Test func initOfAnOddlyNamedVethWritesItsNameAsItIs() throws {
    let ns = try NetworkNamespace()
    let name = #"v"{1}\n"#
    try ns.exec(["ip", "link", "set", ns.a, "down"])
    try ns.exec(["ip", "link", "set", ns.a, "name", name])
    try ns.exec(["ip", "link", "set", name, "up"])
    let r = ns.run([Run.bpstune, "init", "-i", name, "--no-color"])
    #expect(r.status == 0, "\(r)")
    Self.expectOnlyNotes(r)
    #expect(r.stdout.contains("\n" + #"iface = "v\"{1}\\n""# + "\n"), "\(r)")
    #expect(r.stdout.contains("\n" + #"# irq-affinity v"{1}\\n = (left): v"{1}\\n has no queue IRQs"#), "\(r)")
    #expect(!r.stdout.contains("channels."), "\(r)")
    let file = work.write("odd.profile", r.stdout)
    Self.expectLintClean(file)
    // profiles show, in the namespace: the variable's value is the name, and the profile names
    // an interface this host has (exit 1: a veth in a namespace cannot take all of the base).
    let show = ns.run([Run.bpstune, "profiles", "show", file, "--format", "json"])
    #expect(show.status == 0 || show.status == 1, "\(show)")
    #expect(show.stdout.contains(#""value" : "v\"{1}\\n""#) && !show.stdout.contains("does not exist"), "\(show)")
    let diff = ns.run([Run.bpstune, "diff", file, "--state-dir", work.path + "/odd-state", "--no-color"])
    #expect(diff.status == 0 || diff.status == 1, "\(diff)")
    #expect(diff.stdout.contains("interface \(name)") && !diff.stdout.contains("channels."), "\(diff)")
  }

  /// What init could change on the host, read with cat and ethtool.
  static func hostValues() -> [String: String] {
    var values: [String: String] = [:]
    func cat(_ path: String) -> String {
      (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        ?? "<unreadable>"
    }
    for name in ["busy_read", "busy_poll", "rps_sock_flow_entries"] {
      values[name] = cat("/proc/sys/net/core/\(name)")
    }
    values["timer_migration"] = cat("/proc/sys/kernel/timer_migration")
    values["sched_rt_runtime_us"] = cat("/proc/sys/kernel/sched_rt_runtime_us")
    values["smt"] = cat("/sys/devices/system/cpu/smt/control")
    values["workqueue"] = cat("/sys/devices/virtual/workqueue/cpumask")
    let dev = "/sys/class/net/eth0"
    for file in ["napi_defer_hard_irqs", "gro_flush_timeout", "threaded", "queues/rx-0/rps_cpus"] {
      values[file] = cat("\(dev)/\(file)")
    }
    for option in ["-l", "-g", "-c", "-k"] {
      values["ethtool \(option)"] = Run.command(["ethtool", option, "eth0"]).stdout
    }
    // Every IRQ's affinity, eth0's among them (irqbalance, when it runs, moves them itself).
    if Run.command(["pgrep", "-x", "irqbalance"]).status != 0 {
      for irq in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/irq")) ?? [] where Int(irq) != nil {
        values["irq \(irq)"] = cat("/proc/irq/\(irq)/smp_affinity_list")
      }
    }
    for path in ["/run/bpstune", "/var/lib/bpstune"] {
      values[path] = FileManager.default.fileExists(atPath: path) ? "exists" : "absent"
    }
    return values
  }

  /// bpstune run under strace: what it printed, every traced call, and those that change a
  /// file system (an open for writing or creating, mkdir, rename, unlink, chmod, ...).
  func traced(_ arguments: [String]) throws -> (Finished, [Substring], [Substring]) {
    let trace = work.path + "/init.trace"
    let r = Run.command(
      [
        "strace", "-f", "-qq", "-o", trace, "-e",
        "trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,rmdir,truncate,"
          + "ftruncate,link,linkat,symlink,symlinkat,chmod,fchmod,fchmodat,chown,fchown,fchownat,sendmsg,sendto",
        Run.bpstune,
      ] + arguments)
    let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
    try FileManager.default.removeItem(atPath: trace)
    // "PID syscall(arguments) = result".
    let changing: Set<String> = [
      "creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir", "truncate",
      "ftruncate", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown",
      "fchownat",
    ]
    let writes = lines.filter { line in
      // strace pads the pid ("7251  openat(" has two spaces, "12345 openat(" one).
      let rest = line.split(separator: " ", maxSplits: 1).last?.drop { $0 == " " }
      let call = rest?.prefix { $0 != "(" }.description ?? ""
      return changing.contains(call)
        || (call.hasPrefix("open") && ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"].contains { line.contains($0) })
    }
    return (r, lines, writes)
  }

  /// This host's own eth0, outside any namespace: init only reads. Under strace, it opens
  /// nothing for writing, creates, renames or removes nothing, and sends no netdev napi-set;
  /// the sysctls, eth0's files, `ethtool -l/-g/-c/-k eth0` and every IRQ's affinity read the
  /// same after; no /run/bpstune or state directory appears. The profile lints and diffs.
  @Test(
    .enabled(if: FileManager.default.fileExists(atPath: "/sys/class/net/eth0/device"), "this host has no NIC eth0"),
    .enabled(if: ThisHost.has("strace"), "strace checks what init opens"))
  func initOfThisHostsEth0IsReadOnly() throws {
    let before = Self.hostValues()
    let (r, lines, writes) = try traced(["init", "-i", "eth0", "--no-color"])
    #expect(r.status == 0, "\(r)")
    #expect(r.stdout.hasPrefix("# Site profile for eth0 on "), "\(r)")
    Self.expectOnlyNotes(r)
    #expect(lines.contains { $0.contains("\"/sys/class/net/eth0/") }, "strace saw no read of eth0")
    #expect(writes.isEmpty, "init wrote: \(writes)")
    // netdev generic netlink: napi-get and the like, never napi-set (NETDEV_CMD_NAPI_SET, 13).
    let napiSet = lines.filter { $0.contains("nlmsg_type=netdev") && $0.contains("}, \"\\x0d\\x01") }
    #expect(napiSet.isEmpty, "\(napiSet)")
    // The same trace sees the writes of --output, so that the check above is not vacuous.
    let written = work.path + "/traced.profile"
    let (w, _, outputWrites) = try traced(["init", "-i", "eth0", "--output", written, "-q"])
    #expect(w.status == 0, "\(w)")
    // (A temporary name in the directory's descriptor, linked to the name: nothing else.)
    #expect(outputWrites.contains { $0.contains("traced.profile") && $0.contains("O_CREAT") }, "\(outputWrites)")
    #expect(outputWrites.allSatisfy { $0.contains("traced.profile") || $0.contains(" fchmod(") }, "\(outputWrites)")

    let file = work.write("eth0.profile", r.stdout)
    Self.expectLintClean(file)
    let state = work.path + "/state"
    let diff = Run.command([Run.bpstune, "diff", file, "--state-dir", state, "--no-color"])
    #expect(diff.status == 0 || diff.status == 1, "\(diff)")
    #expect(diff.stdout.contains("interface eth0"), "\(diff)")
    #expect(!FileManager.default.fileExists(atPath: state))
    let after = Self.hostValues()
    for key in Set(before.keys).union(after.keys).sorted() where before[key] != after[key] {
      Issue.record("\(key) changed: \(before[key] ?? "absent") -> \(after[key] ?? "absent")")
    }
  }

  /// --output: a new file, root's, mode 0644, with the profile init prints; the summary on
  /// standard output. An existing file is kept without --force (exit 2, one line), replaced
  /// with it.
  @Test func outputWritesARootOwned0644FileAndReplacesItOnlyWithForce() throws {
    let ns = try NetworkNamespace()
    let file = work.path + "/site.profile"
    func initOutput(_ extra: [String]) -> Finished {
      ns.run([Run.bpstune, "init", "-i", ns.a, "--output", file, "--no-color"] + extra)
    }
    let printed = ns.run([Run.bpstune, "init", "-i", ns.a]).stdout
    let first = initOutput([])
    #expect(first.status == 0, "\(first)")
    #expect(first.stdout.hasPrefix("wrote \(file): base "), "\(first)")
    #expect(first.stdout.contains("\n  \(ns.a): node unknown, poll and IRQ CPUs "), "\(first)")
    #expect(
      first.stdout.hasSuffix(
        "next: bpstune diff \(file); bpstune apply \(file); bpstune cmdline \(file) for the boot parameters\n"),
      "\(first)")
    Self.expectOnlyNotes(first)
    #expect(Self.stat("%a %u:%g %F", file) == "644 0:0 regular file")
    // The profile printed is the one written (but for the date, should a day have passed).
    let written = try String(contentsOfFile: file, encoding: .utf8)
    #expect(written.split(separator: "\n").dropFirst() == printed.split(separator: "\n").dropFirst())
    Self.expectLintClean(file)

    // The admin edits it; init again without --force keeps the edit.
    let edited = written + "# mine: keep this\n"
    try edited.write(toFile: file, atomically: false, encoding: .utf8)
    let again = initOutput([])
    #expect(again.status == 2 && again.stdout.isEmpty, "\(again)")
    #expect(again.stderr == "bpstune: --output \(file): exists; --force replaces it\n", "\(again)")
    #expect(try String(contentsOfFile: file, encoding: .utf8) == edited)
    // --force replaces it, 0644 again; -q prints nothing but the notes.
    chmod(file, 0o600)
    let forced = initOutput(["--force", "-q"])
    #expect(forced.status == 0 && forced.stdout.isEmpty, "\(forced)")
    #expect(try String(contentsOfFile: file, encoding: .utf8) == written)
    #expect(Self.stat("%a %u:%g %F", file) == "644 0:0 regular file")
    // With --format json, the document names the file.
    let json = initOutput(["--force", "--format", "json"])
    let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect(json.status == 0 && doc?["output"] as? String == file, "\(json)")
    // Nothing but the file was made beside it.
    #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["site.profile"])
  }

  /// --output naming a symlink planted to a file that stands for /etc/shadow: refused without
  /// --force, the target untouched; with --force the name itself is replaced, never the file
  /// it pointed to.
  @Test func outputNeverWritesThroughASymlink() throws {
    let ns = try NetworkNamespace()
    let secrets = TemporaryDirectory("bpstune-init-etc")
    let shadow = secrets.write("shadow", "root:$y$j9T$secret:20000:0:99999:7:::\n", mode: 0o640)
    let link = work.path + "/site.profile"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: shadow)
    let refused = ns.run([Run.bpstune, "init", "-i", ns.a, "--output", link])
    #expect(refused.status == 2 && refused.stdout.isEmpty, "\(refused)")
    #expect(refused.stderr == "bpstune: --output \(link): exists; --force replaces it\n", "\(refused)")
    #expect(Self.stat("%F", link) == "symbolic link")
    #expect(secrets.read("shadow") == "root:$y$j9T$secret:20000:0:99999:7:::\n")
    #expect(Self.stat("%a", shadow) == "640")

    let forced = ns.run([Run.bpstune, "init", "-i", ns.a, "--output", link, "--force", "-q"])
    #expect(forced.status == 0, "\(forced)")
    #expect(Self.stat("%a %u:%g %F", link) == "644 0:0 regular file")
    #expect(try String(contentsOfFile: link, encoding: .utf8).hasPrefix("# Site profile for \(ns.a) on "))
    #expect(secrets.read("shadow") == "root:$y$j9T$secret:20000:0:99999:7:::\n")
    #expect(Self.stat("%a %h", shadow) == "640 1")
  }

  @Test func outputIntoAMissingDirectoryIsOneLine() throws {
    let ns = try NetworkNamespace()
    let file = work.path + "/nosuch/dir/site.profile"
    let r = ns.run([Run.bpstune, "init", "-i", ns.a, "--output", file])
    #expect(r.status == 2 && r.stdout.isEmpty, "\(r)")
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
    #expect(r.stderr.hasPrefix("bpstune: --output \(file): cannot write it: ") && r.stderr.contains("ENOENT"), "\(r)")
    #expect(!FileManager.default.fileExists(atPath: work.path + "/nosuch"))
  }

  /// Command lines init refuses: exit 2, nothing on standard output, one line naming what is
  /// wrong, and no file written.
  @Test func commandLineErrorsAreOneLineNamingTheProblem() throws {
    let ns = try NetworkNamespace()
    let output = work.path + "/never.profile"
    let cases: [([String], String)] = [
      (["-i", "a$b"], "-i a$b: a name with $, *, ? or [ cannot be written into a profile"),
      (["-i", "eth*"], "-i eth*: a name with $, *, ? or [ cannot be written into a profile"),
      (["-i", "nosuch0"], "-i nosuch0: no such interface (/sys/class/net/nosuch0)"),
      (["-i", "../../etc"], "-i ../../etc: not an interface name"),
      (["-i", ns.a, "-i", ns.a], "-i: an interface is given twice"),
      (["-i", ns.a, "--poll-cpus", "0"], "--poll-cpus 0: must be 1 to 8191"),
      (["-i", ns.a, "--app-cpus=-1"], "--app-cpus -1: must be 0 to 8191"),
      (["-i", ns.a, "--app-cpus", "-1"], "--app-cpus"),
      (["-i", ns.a, "--poll-cpus", "9000"], "--poll-cpus 9000: must be 1 to 8191"),
      (["-i", ns.a, "--force"], "--force: only with --output"),
      (["-i", ns.a, "--output", ""], "--output: an empty path"),
      (["-i", ns.a, "--output", output + "\n"], "control character"),
      (["-i", ns.a, "--base", "nosuch-base-profile"], "nosuch-base-profile"),
      (["-i", ns.a, "--poll-cpus", "8000", "--output", output], "too few CPUs"),
      (["-i", ns.a, "--format", "yaml"], "yaml"),
    ]
    for (arguments, words) in cases {
      let r = ns.run([Run.bpstune, "init"] + arguments)
      let what = "init \(arguments): \(r)"
      #expect(r.status == 2 && r.stdout.isEmpty, "\(what)")
      #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("bpstune: "), "\(what)")
      #expect(r.stderr.contains(words), "expected \"\(words)\": \(what)")
    }
    #expect(!FileManager.default.fileExists(atPath: output))
  }
}
