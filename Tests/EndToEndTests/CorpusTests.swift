import Foundation
import TestSupport
import Testing

/// Every file of the hostile-input corpus (Tests/Corpus) given to the built bpstune, as users
/// would: a profile to `apply`, a snapshot to `rollback` and `snapshots show`. Each must be
/// refused with exit 2 and one line naming the problem (Tests/Corpus/expected.txt), with the
/// tree laid out like /proc and /sys byte-for-byte as before and no snapshot written.
@Suite struct CorpusTests {
  static let corpus = Run.repository + "/Tests/Corpus"

  /// "profiles/x.profile" -> the words its refusal must contain.
  static let expected: [String: String] = {
    let text = (try? String(contentsOfFile: corpus + "/expected.txt", encoding: .utf8)) ?? ""
    var result: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      result[String(line[..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
    }
    return result
  }()

  static func files(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: corpus + "/" + directory)) ?? []).sorted()
      .map { "\(directory)/\($0)" }
  }

  let kernel: FakeKernel = {
    let k = FakeKernel()
    k.set("/proc/sys/net/core/busy_read", "0")
    k.set("/proc/sys/net/core/somaxconn", "4096")
    k.addInterface("eth0", rx: 2, tx: 2)
    k.addInterface("va", rx: 2, tx: 2)
    return k
  }()
  let work = TemporaryDirectory("bpstune-corpus")

  /// Every file below `root` with its mode and content; the tree's run/bpstune/lock, which
  /// stands for the host's /run/bpstune/lock, is no kernel setting.
  static func tree(_ root: String) -> [String: String] {
    var result: [String: String] = [:]
    let fm = FileManager.default
    for relative in (fm.subpaths(atPath: root) ?? []) where relative != "run" && !relative.hasPrefix("run/") {
      let path = root + "/" + relative
      let mode = ((try? fm.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
      let content = fm.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "<dir>"
      result[relative] = "\(String(mode, radix: 8)) \(content)"
    }
    return result
  }

  func checkRefused(_ name: String, _ finished: Finished, before: [String: String]) {
    let lines = finished.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(finished.status == 2, "\(name): \(finished)")
    #expect(lines.count == 1 && lines[0].hasPrefix("bpstune: "), "\(name): one line: \(finished.stderr)")
    let words = Self.expected[name] ?? "<no expectation in expected.txt>"
    #expect(finished.stderr.contains(words), "\(name): expected \"\(words)\" in: \(finished.stderr)")
    #expect(Self.tree(kernel.root) == before, "\(name): the tree changed")
  }

  @Test func everyCorpusFileHasAnExpectationAndEveryExpectationAFile() {
    let files = Set(Self.files("profiles") + Self.files("snapshots"))
    #expect(files.count > 80)
    #expect(files == Set(Self.expected.keys))
  }

  @Test(arguments: files("profiles"))
  func hostileProfileIsRefusedAndNothingIsWritten(_ name: String) {
    let before = Self.tree(kernel.root)
    let state = work.path + "/state"
    let apply = Run.command(
      [Run.bpstune, "apply", Self.corpus + "/" + name, "--root", kernel.root, "--state-dir", state],
      cwd: Self.corpus + "/profiles")
    checkRefused(name, apply, before: before)
    let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []
    #expect(snapshots.isEmpty, "\(name): a snapshot was written: \(snapshots)")
  }

  @Test(arguments: files("snapshots"))
  func hostileSnapshotIsRefusedAndNothingIsWritten(_ name: String) throws {
    let before = Self.tree(kernel.root)
    let state = work.path + "/state"
    let id = "20260101T000000.000000Z-apply"
    try FileManager.default.createDirectory(
      atPath: state + "/snapshots", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    chmod(state, 0o700)
    let file = state + "/snapshots/\(id).json"
    try FileManager.default.copyItem(atPath: Self.corpus + "/" + name, toPath: file)
    chmod(file, 0o600)
    for command in [["rollback", id], ["snapshots", "show", id]] {
      let finished = Run.command(
        [Run.bpstune] + command + ["--root", kernel.root, "--state-dir", state])
      checkRefused(name, finished, before: before)
    }
    let snapshots = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")
    #expect(snapshots == ["\(id).json"], "\(name): rollback wrote a snapshot")
  }

  /// An apply through the binary on the tree: busy_read 0 -> 50; returns its snapshot id.
  func applyBusyRead(state: String) throws -> String {
    let p = work.write("busy.profile", "[sysctl]\nnet.core.busy_read = 50\n")
    let apply = Run.command([Run.bpstune, "apply", p, "--root", kernel.root, "--state-dir", state, "-q"])
    try #require(apply.status == 0, "\(apply)")
    let files = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots").sorted()
    return String(try #require(files.last).dropLast(5))
  }

  /// A plain rollback, its dry run and its JSON form refuse to guess past a damaged snapshot:
  /// exit 2, one line naming the file and what to do, nothing changed, no snapshot written.
  func checkPlainRollbackRefuses(_ name: String, state: String, damaged: String) throws {
    let before = Self.tree(kernel.root)
    let files = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots").sorted()
    for extra in [[], ["--dry-run"], ["--format", "json"]] {
      let rollback = Run.command([Run.bpstune, "rollback"] + extra + ["--root", kernel.root, "--state-dir", state])
      let lines = rollback.stderr.split(separator: "\n")
      #expect(rollback.status == 2, "\(name) \(extra): \(rollback)")
      #expect(
        lines.count == 1 && lines.first?.contains("snapshot \(state)/snapshots/\(damaged).json: ") == true,
        "\(name) \(extra): \(rollback.stderr)")
      #expect(rollback.stderr.contains("nothing was changed") && rollback.stderr.contains("--force"), "\(name)")
      if extra == ["--format", "json"] {
        #expect(rollback.stdout.contains("\"error\"") && rollback.stdout.contains("\"exit_code\" : 2"), "\(rollback)")
      } else {
        #expect(rollback.stdout.isEmpty, "\(name) \(extra): \(rollback.stdout)")
      }
      #expect(Self.tree(kernel.root) == before, "\(name): the tree changed")
      #expect(try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots").sorted() == files)
    }
  }

  /// Every hostile snapshot of the corpus, found newer than a real apply, stops a plain
  /// rollback; with --force the rollback passes over it, says so, and undoes the apply.
  @Test(arguments: files("snapshots"))
  func hostileNewestSnapshotStopsAPlainRollback(_ name: String) throws {
    let state = work.path + "/state"
    let applied = try applyBusyRead(state: state)
    let id = "20991231T235959.999999Z-apply"
    let file = state + "/snapshots/\(id).json"
    try FileManager.default.copyItem(atPath: Self.corpus + "/" + name, toPath: file)
    chmod(file, 0o600)
    try checkPlainRollbackRefuses(name, state: state, damaged: id)
    #expect(kernel.get("/proc/sys/net/core/busy_read") == "50")
    let forced = Run.command([Run.bpstune, "rollback", "--force", "--root", kernel.root, "--state-dir", state])
    #expect(forced.status == 0, "\(forced)")
    #expect(forced.stderr.contains("passed over damaged snapshot \(id)"), "\(forced)")
    #expect(forced.stdout.contains("rollback of \(applied)"), "\(forced)")
    #expect(kernel.get("/proc/sys/net/core/busy_read") == "0")
  }

  /// The newest snapshot itself damaged as users do it by hand: a key edited to leave its tree,
  /// group-writable, or replaced by a symlink.
  @Test(arguments: ["key", "mode", "symlink"])
  func damagedNewestSnapshotStopsAPlainRollback(_ damage: String) throws {
    try checkDamagedNewestSnapshot(damage)
  }

  /// The newest snapshot owned by nobody, as `chown` by hand leaves it.
  @Test(.enabled(if: geteuid() == 0, "chown to nobody needs root"))
  func newestSnapshotOwnedByNobodyStopsAPlainRollback() throws {
    try checkDamagedNewestSnapshot("owner")
  }

  /// The newest snapshot damaged (`damage`: key, mode, owner or symlink) stops a plain rollback;
  /// with --force it is passed over.
  func checkDamagedNewestSnapshot(_ damage: String) throws {
    let state = work.path + "/state"
    let id = try applyBusyRead(state: state)
    let file = state + "/snapshots/\(id).json"
    switch damage {
    case "key":
      let text = try String(contentsOfFile: file, encoding: .utf8)
      try text.replacingOccurrences(of: "net.core.busy_read", with: "../../tmp/x").write(
        toFile: file, atomically: false, encoding: .utf8)
    case "mode": chmod(file, 0o660)
    case "owner": chown(file, 65534, 65534)
    default:
      try FileManager.default.moveItem(atPath: file, toPath: work.path + "/moved.json")
      try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: work.path + "/moved.json")
    }
    try checkPlainRollbackRefuses(damage, state: state, damaged: id)
    #expect(kernel.get("/proc/sys/net/core/busy_read") == "50")
    // Passed over, nothing older is left to undo: said, exit 0, nothing written.
    let forced = Run.command([Run.bpstune, "rollback", "--force", "--root", kernel.root, "--state-dir", state])
    #expect(forced.status == 0 && forced.stdout.contains("nothing to roll back"), "\(forced)")
    #expect(forced.stderr.contains("passed over damaged snapshot \(id)"), "\(forced)")
  }

  /// Retention through the binary: after 12 applies each rolled back (the default keeps 20), an apply with
  /// --keep-snapshots 4 leaves the newest 4 (or 5, when that would split an apply from its
  /// rollback), keeps an old damaged file, and the kept history still rolls back.
  @Test func applyDeletesSettledSnapshotsBeyondTheNewestN() throws {
    let state = work.path + "/state"
    let p = work.write("busy.profile", "[sysctl]\nnet.core.busy_read = 50\n")
    func bpstune(_ arguments: [String]) -> Finished {
      Run.command([Run.bpstune] + arguments + ["--root", kernel.root, "--state-dir", state, "-q"])
    }
    for _ in 0..<12 {
      try #require(bpstune(["apply", p]).status == 0)
      try #require(bpstune(["rollback"]).status == 0)
    }
    let damaged = state + "/snapshots/20000101T000000.000000Z-apply.json"
    try "{".write(toFile: damaged, atomically: false, encoding: .utf8)
    chmod(damaged, 0o600)
    func files() throws -> [String] {
      try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots").sorted()
    }
    // 24 snapshots written; each apply kept the newest 20 (21 not to split a pair), the
    // damaged file, and the rollback written after it.
    let written = try files()
    #expect((21...23).contains(written.count), "\(written)")
    try #require(bpstune(["apply", p, "--keep-snapshots", "4"]).status == 0)
    let kept = try files()
    #expect(kept.first == "20000101T000000.000000Z-apply.json", "the damaged file stays: \(kept)")
    #expect(kept.count == 5 || kept.count == 6, "\(kept)")
    #expect(kept.last?.hasSuffix("-apply.json") == true)
    // The newest apply is still the one a plain rollback undoes (with --force past the damaged file).
    let forced = bpstune(["rollback", "--force"])
    #expect(forced.status == 0 && kernel.get("/proc/sys/net/core/busy_read") == "0", "\(forced)")
    // prune uses the same rule: nothing the stack needs, nothing damaged.
    #expect(bpstune(["snapshots", "prune", "--keep", "0"]).status == 0)
    #expect(try files() == ["20000101T000000.000000Z-apply.json"])
  }

  @Test func controlCharactersInSetValuesAreRefused() {
    let finished = Run.command(
      [Run.bpstune, "diff", "hft", "--set", "app-cpus=1\n0", "--root", kernel.root, "--state-dir", work.path])
    #expect(finished.status == 2 && finished.stderr.contains("control character"), "\(finished)")
    #expect(finished.stderr.split(separator: "\n").count == 1)
  }

  /// Every hostile profile of the corpus given to `init --base`: init loads its base as any
  /// profile is loaded, so it refuses the same files with the same one line, and writes
  /// nothing. A file only planning refuses (a sysctl that is a table) makes a site profile
  /// that `apply` then refuses with that line.
  @Test(arguments: files("profiles"))
  func hostileProfileAsInitsBaseIsRefused(_ name: String) {
    let before = Self.tree(kernel.root)
    let output = work.path + "/site.profile"
    let r = Run.command(
      [
        Run.bpstune, "init", "--root", kernel.root, "-i", "eth0", "--base", Self.corpus + "/" + name, "--output",
        output,
      ],
      cwd: Self.corpus + "/profiles")
    if r.status == 0 {
      let apply = Run.command([Run.bpstune, "apply", output, "--root", kernel.root, "--state-dir", work.path + "/s"])
      checkRefused(name, apply, before: before)
    } else {
      checkRefused(name, r, before: before)
      #expect(!FileManager.default.fileExists(atPath: output), "\(name): init wrote \(output)")
    }
  }

  /// A host whose kernel files hold text meant to break the profile init writes: a host name,
  /// a kernel release and a DMI vendor with newlines, quotes and would-be sections, a driver
  /// with a quote and an escape sequence, an isolcpus= flag with a backslash (which makes the
  /// kernel refuse the parameter: init keeps none of it and says so). The profile
  /// init prints lints, diffs without any setting the host's text tried to add, and the JSON
  /// document carries the host name as it is.
  @Test func hostileValuesOfTheHostCannotBreakInitsProfile() throws {
    let host = FakeKernel(cpus: "0-3")
    let hostname = "h\n[sysctl]\nnet.core.busy_read = 999\n\"x\\"
    host.set("/proc/sys/kernel/hostname", hostname)
    host.set("/proc/sys/kernel/osrelease", "6.12.0\"\n[cmdline]\nquiet=\"1")
    host.set("/proc/sys/net/core/busy_read", "0")
    host.set("/proc/cmdline", #"ro isolcpus=do\main,3 nohz_full=3"#)
    host.set("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu hypervisor sse\n")
    host.set("/sys/class/dmi/id/sys_vendor", "QEMU\n[sysfs]\n\"x\" = \"1\"")
    host.addInterface("eth0", rx: 2, tx: 2)
    host.set("/sys/class/net/eth0/device/uevent", "DRIVER=ig\"b]\u{1B}[31m\nPCI_SLOT_NAME=0000:03:00.0")
    host.set("/sys/class/net/eth0/device/numa_node", "-1")
    let before = Self.tree(host.root)
    let r = Run.command([Run.bpstune, "init", "--root", host.root, "-i", "eth0", "--no-color"])
    #expect(r.status == 0, "\(r)")
    // The comment's escapes mean one thing each: \n the newline the host name holds, \\ its backslash.
    #expect(r.stdout.hasPrefix(#"# Site profile for eth0 on h\n[sysctl]\nnet.core.busy_read = 999\n"x\\, "#), "\(r)")
    for line in r.stdout.split(separator: "\n") {
      #expect(
        line.hasPrefix("# ") || line.hasPrefix("[")
          || line.range(of: #"^[a-z_-]+ = "#, options: .regularExpression) != nil,
        "a line the profile did not mean: \(line)")
    }
    // The kernel refuses isolcpus= whole for a flag that is not letters and _: nothing of it is kept.
    #expect(r.stdout.contains(#"isolcpus = "1-2""#) && !r.stdout.contains(#"isolcpus = "do"#), "\(r)")
    let refused = #"# NOTE: /proc/cmdline has isolcpus=do\\main,3, which the kernel refuses whole"#
    #expect(r.stdout.contains(refused), "\(r)")
    let file = work.write("site.profile", r.stdout)
    let lint = Run.command([Run.bpstune, "lint", file])
    #expect(lint.status == 0 && lint.stdout.hasPrefix("ok \(file): "), "\(lint)")
    let diff = Run.command([
      Run.bpstune, "diff", file, "--root", host.root, "--state-dir", work.path + "/s", "--no-color",
    ])
    #expect(diff.status == 0 || diff.status == 1, "\(diff)")
    #expect(!diff.stdout.contains("999") && !diff.stdout.contains("quiet") && !diff.stdout.contains("\"x\""), "\(diff)")
    let json = Run.command([Run.bpstune, "init", "--root", host.root, "-i", "eth0", "--format", "json"])
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let topology = doc["topology"] as? [String: Any]
    #expect(topology?["hostname"] as? String == hostname, "\(json)")
    #expect((topology?["interfaces"] as? [[String: Any]])?.first?["driver"] as? String == "ig\"b]\u{1B}[31m")
    #expect(doc["profile"] as? String == r.stdout)
    #expect(Self.tree(host.root) == before, "init changed the tree")
  }

  /// init's own arguments, hostile: refused with exit 2 and one line, nothing written.
  @Test(arguments: [
    (["-i", "eth0\u{1B}[2J"], "control character"), (["-i", "../../etc"], "not an interface name"),
    (["-i", "${iface}"], "cannot be written into a profile"), (["-i", "eth[0]"], "cannot be written into a profile"),
    (["-i", "a-name-of-sixteen"], "not an interface name"), (["-i", "eth0", "--base", "hft\nx"], "control character"),
    (["-i", "eth0", "--output", "/tmp/x\n.profile"], "control character"),
    (["-i", "eth0", "--base", "/dev/zero"], "/dev/zero: not a regular file"),
    (["-i", "eth0", "--base", "/etc"], "/etc: not a regular file"),
    (["-i", "eth0", "--app-cpus", "99999999999999999999"], "--app-cpus"),
  ])
  func hostileInitArgumentsAreRefused(_ arguments: [String], _ words: String) {
    let before = Self.tree(kernel.root)
    let r = Run.command([Run.bpstune, "init", "--root", kernel.root] + arguments)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(r.status == 2 && r.stdout.isEmpty, "\(arguments): \(r)")
    #expect(lines.count == 1 && lines[0].hasPrefix("bpstune: ") && r.stderr.contains(words), "\(arguments): \(r)")
    #expect(Self.tree(kernel.root) == before, "\(arguments): the tree changed")
    #expect(!FileManager.default.fileExists(atPath: "/tmp/x\n.profile"))
  }

  /// Made here, not kept in the corpus: a profile one byte over the 1 MiB limit.
  @Test func profileOverTheSizeLimitIsRefused() {
    let before = Self.tree(kernel.root)
    let big = work.write("big.profile", "# " + String(repeating: "x", count: 1 << 20) + "\n")
    let apply = Run.command([Run.bpstune, "apply", big, "--root", kernel.root, "--state-dir", work.path + "/s"])
    #expect(apply.status == 2 && apply.stderr.contains("larger than the 1024 KiB profile limit"), "\(apply)")
    #expect(Self.tree(kernel.root) == before)
  }
}
