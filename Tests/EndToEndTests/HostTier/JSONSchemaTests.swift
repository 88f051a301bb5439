import Foundation
import TestSupport
import Testing

/// Every command's `--format json` output, on success and on failure, against the shipped
/// schema (contrib/schema/bpstune-output.schema.json) with a real JSON Schema validator:
/// Debian's python3-jsonschema through Tests/Tools/validate-json (`make deps` installs it). The
/// commands run as users run them, as root inside a network namespace with a veth pair and a
/// /run of its own, the state, record, units and rules redirected to a temporary directory;
/// only the namespace's sysctls and veths change. The schema refuses unknown fields, so a
/// field added to a report and not to the schema fails here; the validator is shown to refuse
/// documents that do not match, so that this cannot pass vacuously.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"), .serialized)
struct JSONSchemaTests {
  let work: TemporaryDirectory = {
    let w = TemporaryDirectory("bpstune-schema")
    chmod(w.path, 0o755)
    return w
  }()
  var state: String { work.path + "/state" }

  static var repository: String { Run.repository }
  static var schema: String { repository + "/contrib/schema/bpstune-output.schema.json" }
  static var validator: String { repository + "/Tests/Tools/validate-json" }

  /// What a run must print on standard output.
  enum Expected: Equatable, CustomStringConvertible {
    /// The command's own document, with this exit status.
    case document(Int32)
    /// The error document, its `exit_code` the exit status.
    case error(Int32)
    /// Nothing (a command line the parser refuses): exit 2, the line on standard error.
    case nothing

    var description: String {
      switch self {
      case .document(let s): "its document, exit \(s)"
      case .error(let s): "the error document, exit \(s)"
      case .nothing: "no document, exit 2"
      }
    }
  }

  /// One run: the command (as `--experimental-dump-help` names it), what it printed, and what
  /// it had to print.
  struct Case {
    var command: String
    var arguments: [String]
    var expected: Expected
    var finished: Finished
    var file: String
  }

  /// Runs and records every case, then validates their documents in one validator run.
  final class Recorder: @unchecked Sendable {
    let work: TemporaryDirectory
    var cases: [Case] = []

    init(_ work: TemporaryDirectory) { self.work = work }

    /// Runs `bpstune ARGUMENTS --format json` with `ns.run` (a /run of the namespace's own),
    /// or outside any namespace when `ns` is nil (commands that read profiles only).
    @discardableResult
    func run(
      _ command: String, _ arguments: [String], in ns: NetworkNamespace?, options: [String] = [],
      expect expected: Expected, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Finished {
      let line = [Run.bpstune] + arguments + ["--format", "json"] + options
      let finished = ns.map { $0.run(line) } ?? Run.command(line)
      let file = work.write(
        "documents/\(cases.count)-\(command.replacingOccurrences(of: " ", with: "-")).json",
        finished.stdout)
      cases.append(Case(command: command, arguments: arguments, expected: expected, finished: finished, file: file))
      return finished
    }

    /// Each recorded document parsed (nil when standard output is not one JSON object).
    func document(_ c: Case) -> [String: Any]? {
      (try? JSONSerialization.jsonObject(with: Data(c.finished.stdout.utf8))) as? [String: Any]
    }
  }

  /// The validator's verdict on each file: "ok" or "invalid: why".
  static func validate(_ files: [String]) -> (Finished, [String: String]) {
    let result = Run.command([validator, schema] + files)
    var verdicts: [String: String] = [:]
    for line in result.stdout.split(separator: "\n").map(String.init) {
      if line.hasPrefix("ok ") {
        verdicts[String(line.dropFirst(3))] = "ok"
      } else if line.hasPrefix("invalid "), let colon = line.range(of: ": ") {
        verdicts[String(line[line.index(line.startIndex, offsetBy: 8)..<colon.lowerBound])] =
          "invalid: " + line[colon.upperBound...]
      }
    }
    return (result, verdicts)
  }

  /// The commands `bpstune --experimental-dump-help` lists with a --format that takes json.
  static func commandsWithJSON() throws -> Set<String> {
    let dump = Run.command([Run.bpstune, "--experimental-dump-help"])
    let tool = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
    var found: Set<String> = []
    func walk(_ command: [String: Any], _ path: [String]) {
      for argument in command["arguments"] as? [[String: Any]] ?? [] {
        let names = (argument["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        if names.contains("format"), (argument["allValues"] as? [String])?.contains("json") == true {
          found.insert(path.joined(separator: " "))
        }
      }
      for sub in command["subcommands"] as? [[String: Any]] ?? [] {
        walk(sub, path + [sub["commandName"] as? String ?? "?"])
      }
    }
    walk(try #require(tool["command"] as? [String: Any]), [])
    return found
  }

  @Test func everyCommandsJSONMatchesTheShippedSchemaOnSuccessAndOnError() throws {
    let ns = try NetworkNamespace()
    let r = Recorder(work)
    let etc = work.path + "/etc"
    let fake = work.write(
      "systemctl",
      "#!/bin/sh\ncase \"$1\" in is-enabled) echo enabled;; is-active) echo active;; esac\n", mode: 0o755)
    // The state, record, rules and units of this test only (the hidden options; bpstune takes
    // none of them from the environment).
    let global = [
      "--no-color", "--state-dir", state, "--config-dir", etc, "--udev-rules-dir", work.path + "/rules",
      "--systemctl", fake, "--udevadm", "/bin/true",
    ]
    let dev = "/sys/class/net/\(ns.a)"
    let good = work.write(
      "good.profile",
      """
      [profile]
      description = "the namespace's veth and somaxconn"
      [sysctl]
      net.core.somaxconn = 1024
      [[interface]]
      name = "\(ns.a)"
      napi-defer-hard-irqs = 3
      gro-flush-timeout = "20us"
      rps-cpus = "0"
      """)
    // Every status a plan has: change, ok, unsupported (a misspelt sysctl), needs-reboot (a
    // boot parameter this kernel was not booted with).
    let mixed = work.write(
      "mixed.profile",
      """
      [variables]
      defer = "3"
      [sysctl]
      net.core.somaxconn = 1024
      net.core.somaxcon = 5
      [cmdline]
      bpstune_schema_missing = 1
      bpstune_schema_absent = false
      [[interface]]
      name = "\(ns.a)"
      napi-defer-hard-irqs = "${defer}"
      """)
    // threaded on a veth without GRO: the kernel refuses it after somaxconn was written (exit 3).
    let refused = work.write(
      "refused.profile",
      "[sysctl]\nnet.core.somaxconn = 777\n[[interface]]\nname = \"\(ns.a)\"\nthreaded = true\n")
    let invalid = work.write("invalid.profile", "[sysctl]\nnet.core.somaxconn = [1, 2]\n")

    // Reading profiles and the host: no change.
    r.run("diff", ["diff", good], in: ns, options: global, expect: .document(1))
    r.run("diff", ["diff", mixed], in: ns, options: global, expect: .document(1))
    r.run("diff", ["diff", "nosuch-profile"], in: ns, options: global, expect: .error(2))
    r.run("diff", ["diff", mixed, "--set", "nosuch=1"], in: ns, options: global, expect: .error(2))
    r.run("diff", ["diff", invalid], in: ns, options: global, expect: .error(2))
    r.run("diff", ["diff", good, "--no-such-option"], in: ns, options: global, expect: .nothing)
    r.run("apply", ["apply", good, "--dry-run"], in: ns, options: global, expect: .document(0))
    r.run("apply", ["apply", mixed, "--dry-run", "--skip-unsupported"], in: ns, options: global, expect: .document(0))
    r.run("apply", ["apply", mixed, "--dry-run"], in: ns, options: global, expect: .error(2))
    r.run("verify", ["verify", good], in: ns, options: global, expect: .document(1))
    let verifyMixed = r.run("verify", ["verify", mixed], in: ns, options: global, expect: .document(1))
    let diffMixed = r.run("diff", ["diff", mixed], in: ns, options: global, expect: .document(1))
    r.run("verify", ["verify", "nosuch-profile"], in: ns, options: global, expect: .error(2))
    r.run("verify", ["verify", good, "--lock-timeout", "5"], in: ns, options: global, expect: .nothing)
    r.run("show", ["show"], in: ns, options: global, expect: .document(0))
    r.run("show", ["show", "-i", ns.a], in: ns, options: global, expect: .document(0))
    r.run("show", ["show", "-i", "nosuch0"], in: ns, options: global, expect: .error(2))
    let cmdline = r.run("cmdline", ["cmdline", mixed], in: ns, options: global, expect: .document(1))
    r.run("cmdline", ["cmdline", mixed, "--all"], in: ns, options: global, expect: .document(1))
    r.run("cmdline", ["cmdline", good], in: ns, options: global, expect: .document(0))
    r.run("cmdline", ["cmdline", "nosuch-profile"], in: ns, options: global, expect: .error(2))
    r.run("profiles list", ["profiles"], in: nil, expect: .document(0))
    r.run("profiles list", ["profiles", "list"], in: nil, options: ["--no-color"], expect: .document(0))
    r.run("profiles show", ["profiles", "show", good], in: ns, expect: .document(0))
    r.run("profiles show", ["profiles", "show", mixed, "--set", "defer=4"], in: ns, expect: .document(1))
    r.run("profiles show", ["profiles", "show", "nosuch-profile"], in: ns, expect: .error(2))
    // A profile with [probe]: what the application must do (a veth cannot take the rest: exit 1).
    r.run("profiles show", ["profiles", "show", "irq-suspend", "-i", ns.a], in: ns, expect: .document(1))
    // init: the namespace's veth, read-only; to a file (with the base asked for); refused.
    let site = work.path + "/site.profile"
    r.run("init", ["init", "-i", ns.a], in: ns, expect: .document(0))
    let initOutput = r.run(
      "init", ["init", "-i", ns.a, "--output", site, "--base", "hft"], in: ns, expect: .document(0))
    #expect(initOutput.stdout.contains("\"output\" : \"\(site)\""), "\(initOutput)")
    r.run("init", ["init", "-i", ns.a, "--output", site], in: ns, expect: .error(2))
    r.run("init", ["init", "-i", "nosuch0"], in: ns, expect: .error(2))
    r.run("init", ["init", "-i", ns.a, "--poll-cpus", "8000"], in: ns, expect: .error(2))
    r.run("init", ["init", "-i", ns.a, "--force"], in: ns, expect: .nothing)
    r.run("lint", ["lint", good, mixed], in: nil, expect: .document(0))
    r.run("lint", ["lint", good, mixed, "--host"], in: ns, expect: .document(2))
    r.run("lint", ["lint", invalid, "nosuch-profile"], in: nil, expect: .document(2))
    r.run("lint", ["lint"], in: nil, expect: .nothing)

    // Nothing applied yet.
    r.run("snapshots list", ["snapshots", "list"], in: ns, options: global, expect: .document(0))
    r.run("rollback", ["rollback"], in: ns, options: global, expect: .document(0))
    r.run("rollback", ["rollback", "--dry-run"], in: ns, options: global, expect: .document(0))
    r.run("status", ["status"], in: ns, options: global, expect: .document(2))

    // Apply, a refused apply, an apply the kernel refuses halfway (undone, exit 3).
    r.run("apply", ["apply", good], in: ns, options: global, expect: .document(0))
    r.run("apply", ["apply", mixed], in: ns, options: global, expect: .error(2))
    r.run("apply", ["apply", refused], in: ns, options: global, expect: .error(3))
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "1024")
    r.run("verify", ["verify", good], in: ns, options: global, expect: .document(0))
    r.run("snapshots list", ["snapshots"], in: ns, options: global, expect: .document(0))
    r.run("snapshots list", ["snapshots", "list"], in: ns, options: global, expect: .document(0))
    r.run("snapshots show", ["snapshots", "show", "latest"], in: ns, options: global, expect: .document(0))
    r.run("snapshots show", ["snapshots", "show", "nosuch"], in: ns, options: global, expect: .error(2))
    let notADirectory = work.write("not-a-directory", "")
    r.run(
      "snapshots list", ["snapshots", "list", "--state-dir", notADirectory], in: ns, options: ["--no-color"],
      expect: .error(2))

    // Rollback: a dry run, a value changed since (refused, named), forced; then nothing left.
    r.run("rollback", ["rollback", "--dry-run"], in: ns, options: global, expect: .document(0))
    try ns.exec(["sh", "-c", "echo 9 > \(dev)/napi_defer_hard_irqs"])
    r.run("rollback", ["rollback", "--dry-run"], in: ns, options: global, expect: .error(2))
    r.run("rollback", ["rollback"], in: ns, options: global, expect: .error(2))
    r.run("rollback", ["rollback", "--force"], in: ns, options: global, expect: .document(0))
    r.run("rollback", ["rollback"], in: ns, options: global, expect: .document(0))
    r.run("rollback", ["rollback", "nosuch"], in: ns, options: global, expect: .error(2))
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")

    // Enabled: status with drift (the boot parameter) and what this host cannot take.
    let enable = ns.run(
      [Run.bpstune, "enable", mixed, "--skip-unsupported", "--metrics-dir", work.path + "/metrics"] + global)
    #expect(enable.status == 0, "\(enable)")
    let statusMixed = r.run("status", ["status"], in: ns, options: global, expect: .document(1))
    try ns.exec(["sh", "-c", "echo 5 > \(dev)/napi_defer_hard_irqs"])
    r.run("status", ["status"], in: ns, options: global, expect: .document(1))
    try ns.exec(["sh", "-c", "echo 3 > \(dev)/napi_defer_hard_irqs"])
    let disable = ns.run([Run.bpstune, "disable"] + global)
    #expect(disable.status == 0, "\(disable)")
    r.run("status", ["status"], in: ns, options: global, expect: .document(2))
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
    #expect(ns.cat("\(dev)/napi_defer_hard_irqs") == "0")
    // A record that cannot be read.
    _ = work.write("etc/enabled.toml", "not = [toml\n")
    r.run("status", ["status"], in: ns, options: global, expect: .error(2))

    // The probe, across a veth between two namespaces: the client, and compare applying a
    // profile to the client's veth (rolled back).
    let pair = try NamespacePair()
    let server = try Background(
      pair.server.command([Run.bpstune, "probe", "server", "--bind", "\(pair.serverAddress):7878"]))
    try #require(server.wait(seconds: 10) { server.stdout.contains("listening on") }, "\(server.stderr)")
    let peer = "\(pair.serverAddress):7878"
    let closed = "\(pair.serverAddress):7999"
    let quick = ["--warmup", "0", "--timeout", "500"]
    r.run("probe client", ["probe", "client", peer, "--count", "200"] + quick, in: pair.client, expect: .document(0))
    r.run(
      "probe client", ["probe", "client", peer, "--rate", "200", "--duration", "0.5", "--protocol", "tcp"] + quick,
      in: pair.client, expect: .document(0))
    r.run(
      "probe client", ["probe", "client", closed, "--protocol", "tcp", "--count", "10"] + quick, in: pair.client,
      expect: .error(2))
    r.run("probe client", ["probe", "client", peer, "--rate", "-1"], in: pair.client, expect: .nothing)
    let veth = work.write(
      "veth.profile", "[[interface]]\nname = \"\(pair.clientIF)\"\nnapi-defer-hard-irqs = 2\n")
    // The same with the application side of IRQ suspension in [probe], and the command line's
    // --busy-poll-budget over it: each column says what it ran with.
    let vethProbe = work.write(
      "veth-probe.profile",
      "[[interface]]\nname = \"\(pair.clientIF)\"\nnapi-defer-hard-irqs = 2\n[probe]\nreceive = \"epoll\"\n"
        + "busy-poll = 0\nbusy-poll-budget = 64\nprefer-busy-poll = true\n")
    let compare = ["--peer", peer, "-i", pair.clientIF, "--duration", "0.3", "--settle", "0", "-q"] + quick
    let both = r.run(
      "probe compare",
      ["probe", "compare", veth, vethProbe] + compare + ["--workload", "0:0", "--workload", "200:10"],
      in: pair.client, options: ["--state-dir", state], expect: .document(0))
    let overridden = r.run(
      "probe compare", ["probe", "compare", vethProbe, "--busy-poll-budget", "8"] + compare + ["--workload", "0:0"],
      in: pair.client, options: ["--state-dir", state], expect: .document(0))
    func columns(_ f: Finished) -> [[String: Any]] {
      let doc = (try? JSONSerialization.jsonObject(with: Data(f.stdout.utf8))) as? [String: Any]
      return doc?["profiles"] as? [[String: Any]] ?? []
    }
    func socket(_ column: [String: Any], _ key: String) -> Any? { (column["socket"] as? [String: Any])?[key] }
    let two = columns(both)
    #expect(two.map { socket($0, "receive_mode") as? String } == ["blocking", "epoll"], "\(both)")
    #expect(
      two.last?["from_probe_section"] as? [String] == ["receive", "busy-poll", "busy-poll-budget", "prefer-busy-poll"])
    // Each measurement of the profile ran with its [probe] (the probe client's own socket record).
    let runs = (two.last?["results"] as? [[String: Any]]) ?? []
    #expect(runs.count == 2 && runs.allSatisfy { socket($0, "busy_poll_budget") as? Int == 64 }, "\(both)")
    let one = columns(overridden).first ?? [:]
    #expect(socket(one, "busy_poll_budget") as? Int == 8 && one["overridden"] as? [String] == ["busy-poll-budget"])
    r.run(
      "probe compare", ["probe", "compare", veth, "nosuch-profile"] + compare, in: pair.client,
      options: ["--state-dir", state], expect: .error(2))
    r.run(
      "probe compare",
      ["probe", "compare", veth, "--peer", closed, "-i", pair.clientIF, "-q", "--settle", "0"] + quick,
      in: pair.client, options: ["--state-dir", state], expect: .error(3))
    // probe sweep of the same veth: two settings of two values, two repeats (and the profile as
    // written, which sets no flush timeout); stopped by a peer that refuses (its document with
    // why, exit 3: seed 7 runs a candidate that changes the veth first, 2 deferral and 20us); a
    // candidate this host cannot take (the error document, exit 2).
    let swept = work.write("swept.profile", "[[interface]]\nname = \"\(pair.clientIF)\"\nnapi-defer-hard-irqs = 0\n")
    let sweep =
      ["probe", "sweep", swept, "--vary", "napi-defer-hard-irqs=0,2", "--vary", "gro-flush-timeout=0,20us"]
      + ["--repeat", "2", "--seed", "7", "-i", pair.clientIF, "--duration", "0.2", "--settle", "0", "-q"] + quick
    r.run(
      "probe sweep", sweep + ["--peer", peer, "--workload", "0:0", "--workload", "200:10", "--objective", "p50"],
      in: pair.client, options: ["--state-dir", state], expect: .document(0))
    r.run(
      "probe sweep", sweep + ["--peer", closed], in: pair.client, options: ["--state-dir", state],
      expect: .document(3))
    r.run(
      "probe sweep", ["probe", "sweep", swept, "--vary", "net.core.nosuch=1,2", "--peer", peer, "-q"],
      in: pair.client, options: ["--state-dir", state], expect: .error(2))
    r.run("probe sweep", ["probe", "sweep", swept, "--peer", peer], in: pair.client, expect: .nothing)
    server.stop()
    #expect(pair.client.cat("/sys/class/net/\(pair.clientIF)/napi_defer_hard_irqs") == "0")

    // Each run printed what it had to, and the validator accepts every document.
    let documents = r.cases.filter { $0.expected != .nothing }
    let (validation, verdicts) = Self.validate(documents.map(\.file))
    #expect(validation.status == 0, "\(validation)")
    for c in r.cases {
      let what = "bpstune \(c.arguments.joined(separator: " ")) --format json: \(c.finished)"
      switch c.expected {
      case .nothing:
        #expect(c.finished.status == 2 && c.finished.stdout.isEmpty, "\(c.expected): \(what)")
        continue
      case .document(let status):
        // An open loop this loaded host could not keep up with still gives its document (probe
        // client exit 2; compare exit 3, the profile's column incomplete): validated all the same.
        let overload = c.finished.stderr.contains("did not sustain") && [2, 3].contains(c.finished.status)
        #expect(c.finished.status == status || overload, "\(c.expected): \(what)")
        #expect(r.document(c)?["error"] == nil, "\(c.expected): \(what)")
      case .error(let status):
        #expect(c.finished.status == status, "\(c.expected): \(what)")
        let error = r.document(c)?["error"] as? [String: Any]
        #expect(error?["exit_code"] as? Int == Int(status), "\(c.expected): \(what)")
      }
      #expect(verdicts[c.file] == "ok", "\(verdicts[c.file] ?? "no verdict"): \(what)")
      // Snapshots show prints the snapshot file, which names no command.
      if c.command != "snapshots show" || c.expected != .document(0) {
        let named = r.document(c)?["command"] as? String
        #expect(named.map { c.command.hasPrefix($0) || $0.hasPrefix(c.command) } == true, "\(what)")
      }
    }

    // Every command that takes --format json ran, to its document and to the error document;
    // but profiles list, which cannot fail, and lint, whose failures are its own document
    // (each profile's problems, exit 2; run above).
    let commands = try Self.commandsWithJSON()
    #expect(commands.count >= 14, "\(commands)")
    let succeeded = Set(r.cases.filter { if case .document = $0.expected { true } else { false } }.map(\.command))
    let failed = Set(r.cases.filter { if case .error = $0.expected { true } else { false } }.map(\.command))
    #expect(commands.subtracting(succeeded).isEmpty, "no document from: \(commands.subtracting(succeeded))")
    #expect(
      commands.subtracting(failed) == ["profiles list", "lint"],
      "no error document from: \(commands.subtracting(failed))")

    // One shape for a setting: a setting reads the same in diff, verify, status and cmdline
    // (status plans the pinned copy, so its origin names that file).
    // Each setting as canonical JSON (sorted keys), without `dropping`.
    func settings(_ f: Finished, _ key: String, dropping: String? = nil) -> [String] {
      let doc = (try? JSONSerialization.jsonObject(with: Data(f.stdout.utf8))) as? [String: Any]
      return (doc?[key] as? [[String: Any]] ?? []).map { item in
        var item = item
        if let dropping { item[dropping] = nil }
        let data = (try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
      }
    }
    let planned = settings(diffMixed, "settings")
    #expect(planned.count == 5 && settings(verifyMixed, "settings") == planned, "\(verifyMixed)")
    let inStatus =
      settings(statusMixed, "drift", dropping: "origin") + settings(statusMixed, "unsupported", dropping: "origin")
    #expect(inStatus.count == 2, "\(statusMixed)")
    let plannedWithoutOrigin = settings(diffMixed, "settings", dropping: "origin")
    for s in inStatus { #expect(plannedWithoutOrigin.contains(s), "\(s) is not in diff's \(plannedWithoutOrigin)") }
    let parameters = settings(cmdline, "parameters")
    #expect(parameters.count == 2 && parameters.allSatisfy { planned.contains($0) }, "\(cmdline)")
  }

  /// The validator refuses what does not match: fields of schema 1 under schema 2, an unknown
  /// field in a setting, a missing field, a wrong type or value, two documents in one output;
  /// so the test above cannot pass with a validator that accepts anything.
  @Test func theValidatorRefusesDocumentsThatDoNotMatchTheSchema() throws {
    let setting = """
      {"name": "net.core.somaxconn", "kind": "sysctl", "key": "net.core.somaxconn", "status": "change",
       "current": "4096", "desired": "1024", "kernel_current": "4096", "kernel_desired": "1024",
       "origin": "p.profile: sysctl.net.core.somaxconn"}
      """
    let verify = { (settings: String, extra: String) in
      """
      {"schema": 2, "command": "verify", "profile": "p", "kernel": "6.1", "match": false\(extra),
       "settings": [\(settings)], "summary": {"total": 1, "ok": 0, "drift": 1, "unsupported": 0}}
      """
    }
    let initDocument = """
      {"schema": 1, "command": "init", "profile": "", "warnings": [],
       "topology": {"kernel": "6.12", "hostname": "h", "online_cpus": "0-3", "nodes": {"0": "0-3"},
        "cores": ["0", "1", "2", "3"], "l3_groups": ["0-3"], "irqbalance_pids": [], "netdev_family": true,
        "napi_get": true, "napi_set": false, "napi_threaded": false, "threaded_busy_poll": false,
        "irq_suspend_timeout": false, "epoll_busy_poll_params": true, "cpufreq": false,
        "interfaces": [{"name": "eth0", "channels": {"combined": {"current": 4, "max": 4}}, "queue_irqs": [40],
          "napi_defer_hard_irqs": true}]},
       "layout": {"base": "napi-busy-poll", "base_reason": "r", "housekeeping_cpus": "0,3", "poll_cpus": "1",
        "irq_cpus": "1", "app_cpus": "2", "idle_cpus": "", "kept_isolated_cpus": "", "cmdline": {"isolcpus": "1-2"},
        "interfaces": [{"name": "eth0", "poll_cpus": "1", "channels": {"combined": 1}}]},
       "decisions": [{"topic": "base", "value": "napi-busy-poll", "why": "r"}]}
      """
    let valid = work.write("valid.json", verify(setting, ""))
    let validInit = work.write("valid-init.json", initDocument)
    let wrong: [String: String] = [
      "unknown-field.json": verify(
        setting.replacingOccurrences(of: "\"status\"", with: "\"expected\": \"1\", \"status\""), ""),
      "old-status.json": verify(setting.replacingOccurrences(of: "\"change\"", with: "\"drift\""), ""),
      "old-schema.json": verify(setting, "").replacingOccurrences(of: "\"schema\": 2", with: "\"schema\": 1"),
      "schema-1-shape.json": verify(setting, "").replacingOccurrences(of: "\"settings\"", with: "\"results\""),
      "missing-kind.json": verify(setting.replacingOccurrences(of: "\"kind\": \"sysctl\",", with: ""), ""),
      "unknown-kind.json": verify(setting.replacingOccurrences(of: "\"sysctl\"", with: "\"sysctl-ish\""), ""),
      "wrong-type.json": verify(setting, "").replacingOccurrences(of: "\"match\": false", with: "\"match\": \"no\""),
      "unknown-top-field.json": verify(setting, ", \"results\": []"),
      "unknown-command.json": #"{"schema": 1, "command": "frobnicate", "error": {"message": "x", "exit_code": 2}}"#,
      "error-exit-1.json": #"{"schema": 1, "command": "diff", "error": {"message": "x", "exit_code": 1}}"#,
      "two-documents.json": verify(setting, "") + "\n" + verify(setting, ""),
      "init-unknown-field.json": initDocument.replacingOccurrences(
        of: "\"idle_cpus\"", with: "\"spare\": \"\", \"idle_cpus\""),
      "init-node-name.json": initDocument.replacingOccurrences(of: "{\"0\": \"0-3\"}", with: "{\"node0\": \"0-3\"}"),
      "init-cpu-list.json": initDocument.replacingOccurrences(
        of: "\"poll_cpus\": \"1\"", with: "\"poll_cpus\": \"1;2\""),
    ]
    var files: [String: String] = [:]
    for (name, text) in wrong { files[work.write(name, text)] = name }
    let (result, verdicts) = Self.validate([valid, validInit] + files.keys.sorted())
    #expect(verdicts[valid] == "ok" && verdicts[validInit] == "ok", "\(result)")
    #expect(result.status != 0, "\(result)")
    for (file, name) in files {
      #expect(verdicts[file]?.hasPrefix("invalid") == true, "\(name) was not refused: \(result)")
    }
    // A document that matches is accepted alone, with exit 0.
    #expect(Self.validate([valid]).0.status == 0)
  }
}
