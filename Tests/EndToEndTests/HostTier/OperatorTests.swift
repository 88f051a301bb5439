import Foundation
import TestSupport
import Testing

/// What an operator leans on every day (issue 27), against the built binary as root on the real
/// kernel in a network namespace; the host's values are read with cat, never with bpstune.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct OperatorTests {
  let work: TemporaryDirectory = {
    let w = TemporaryDirectory("bpstune-ops")
    chmod(w.path, 0o755)
    return w
  }()
  var state: String { work.path + "/state" }
  var redirected: [String] {
    [
      "--config-dir", work.path + "/etc", "--udev-rules-dir", work.path + "/rules", "--systemctl", "/bin/true",
      "--udevadm", "/bin/true", "--state-dir", state,
    ]
  }
  static let somaxconn = "/proc/sys/net/core/somaxconn"

  func bpstune(_ ns: NetworkNamespace, _ arguments: [String]) -> Finished {
    // lint and profiles read profiles only: they take no state directory or persistence paths.
    let reads = ["lint", "profiles"].contains(arguments.first ?? "")
    return ns.run([Run.bpstune] + arguments + ["--no-color"] + (reads ? [] : redirected))
  }

  /// A profile with a typo (`somaxcon`, one letter short) beside a setting the host matches.
  func typo(_ ns: NetworkNamespace) -> String {
    let now = ns.cat(Self.somaxconn)
    return work.write(
      "typo.profile", "[sysctl]\nnet.core.somaxconn = \(now)\nnet.core.somaxcon = 8192\n", mode: 0o644)
  }

  @Test func aMisspeltSysctlFailsVerifyUnlessIgnored() throws {
    let ns = try NetworkNamespace()
    let p = typo(ns)
    let verify = bpstune(ns, ["verify", p])
    #expect(verify.status == 1, "\(verify)")
    #expect(verify.stdout.contains("UNSUP  net.core.somaxcon"), "\(verify)")
    #expect(verify.stdout.contains("no such sysctl on this kernel (did you mean net.core.somaxconn?)"), "\(verify)")
    #expect(verify.stdout.contains(": differs: 1 ok, 0 drift, 1 unsupported"), "\(verify)")

    let junit = work.path + "/verify.xml"
    #expect(bpstune(ns, ["verify", p, "--format", "junit", "--output", junit]).status == 1)
    let xml = try String(contentsOfFile: junit, encoding: .utf8)
    #expect(xml.contains("failures=\"1\" skipped=\"0\""), "\(xml)")
    #expect(xml.contains("<failure message=\"unsupported: no such sysctl"), "\(xml)")
    let node = Run.command(["uname", "-n"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(xml.contains("hostname=\"\(node)\""), "\(xml)")

    let json = bpstune(ns, ["verify", p, "--format", "json"])
    #expect(json.status == 1 && json.stdout.contains("\"match\" : false"), "\(json)")

    // tuned-adm verify --ignore-missing: the typo passes, said so, and JUnit skips it.
    let ignored = bpstune(ns, ["verify", p, "--ignore-unsupported"])
    #expect(ignored.status == 0 && ignored.stdout.contains("1 unsupported (ignored)"), "\(ignored)")
    #expect(bpstune(ns, ["verify", p, "--ignore-unsupported", "--format", "junit", "--output", junit]).status == 0)
    #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<skipped message=\"unsupported:"))
    // Drift still fails with --ignore-unsupported.
    let drifted = work.write("drift.profile", "[sysctl]\nnet.core.somaxconn = 4321\nnet.core.somaxcon = 1\n")
    #expect(bpstune(ns, ["verify", drifted, "--ignore-unsupported"]).status == 1)
  }

  @Test func lintWithHostNamesWhatTheKernelLacks() throws {
    let ns = try NetworkNamespace()
    let p = typo(ns)
    let sysfs = work.write("sysfs.profile", "[sysfs]\n\"class/net/lo/mtuu\" = 65536\n")
    // Without --host lint reads no host: a well-formed profile passes.
    #expect(bpstune(ns, ["lint", p, sysfs]).status == 0)
    let lint = bpstune(ns, ["lint", "--host", p, sysfs])
    #expect(lint.status == 2, "\(lint)")
    #expect(
      lint.stderr.contains(
        "typo.profile: net.core.somaxcon: no such sysctl on this kernel (did you mean net.core.somaxconn?)"), "\(lint)")
    #expect(
      lint.stderr.contains(
        "sysfs.profile: class/net/lo/mtuu: no such file /sys/class/net/lo/mtuu on this host (did you mean class/net/lo/mtu?)"
      ), "\(lint)")
    // A typo in a directory of the name is found too.
    let deep = work.write("deep.profile", "[sysctl]\nnet.cor.somaxconn = 1\n")
    let deepLint = bpstune(ns, ["lint", "--host", deep])
    #expect(deepLint.status == 2 && deepLint.stderr.contains("did you mean net.core.somaxconn?"), "\(deepLint)")
    let good = work.write("good.profile", "[sysctl]\nnet.core.somaxconn = 1\n")
    let ok = bpstune(ns, ["lint", "--host", good])
    #expect(ok.status == 0 && ok.stdout.contains("every name on this host"), "\(ok)")
  }

  @Test func statusSaysWhatEveryBootSkips() throws {
    let ns = try NetworkNamespace()
    let p = typo(ns)
    let metrics = work.path + "/metrics"
    let enable = bpstune(ns, ["enable", p, "--skip-unsupported", "--metrics-dir", metrics])
    #expect(enable.status == 0, "\(enable)")
    let status = bpstune(ns, ["status"])
    #expect(
      status.stdout.contains(
        "skipped:  1 setting(s) this host cannot take, at every boot (--skip-unsupported)\n  net.core.somaxcon: no such sysctl"
      ), "\(status)")
    let json = bpstune(ns, ["status", "--format", "json"])
    #expect(
      json.stdout.contains("\"unsupported\" : [") && json.stdout.contains("\"name\" : \"net.core.somaxcon\""), "\(json)"
    )
    #expect(bpstune(ns, ["disable"]).status == 0)
  }

  /// Snapshot ids in the state directory, oldest first.
  func snapshotIDs() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []).filter {
      $0.hasSuffix(".json")
    }.map { String($0.dropLast(5)) }.sorted()
  }

  @Test func theStateAnApplyLeftCannotBeDeletedWhileInEffect() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let p = work.write("p.profile", "[sysctl]\nnet.core.somaxconn = 1234\n")
    #expect(bpstune(ns, ["apply", p]).status == 0)
    let id = try #require(snapshotIDs().first)
    let delete = bpstune(ns, ["snapshots", "delete", id])
    #expect(delete.status == 2, "\(delete)")
    #expect(
      delete.stderr.contains(
        "snapshots delete \(id): an apply still in effect; rollback restores its 1 setting(s) from it (net.core.somaxconn); nothing was deleted (--force deletes it anyway)"
      ), "\(delete)")
    #expect(snapshotIDs() == [id])
    // Rolled back, the apply is settled: it goes without --force.
    #expect(bpstune(ns, ["rollback"]).status == 0)
    #expect(ns.cat(Self.somaxconn) == before)
    #expect(bpstune(ns, ["snapshots", "delete", id]).status == 0)
    #expect(!snapshotIDs().contains(id))
    // --force deletes one in effect, as asked.
    #expect(bpstune(ns, ["apply", p]).status == 0)
    let second = try #require(snapshotIDs().last)
    #expect(bpstune(ns, ["snapshots", "delete", second, "--force"]).status == 0)
    #expect(!snapshotIDs().contains(second))
    #expect(ns.run(["sh", "-c", "echo \(before) > \(Self.somaxconn)"]).status == 0)
  }

  @Test func aDryRunRollbackExitsAsTheRollbackWould() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let p = work.write("p.profile", "[sysctl]\nnet.core.somaxconn = 1234\nnet.ipv4.tcp_fin_timeout = 33\n")
    #expect(bpstune(ns, ["apply", p]).status == 0)
    // Someone changes one value by hand.
    #expect(ns.run(["sh", "-c", "echo 2345 > \(Self.somaxconn)"]).status == 0)
    let dry = bpstune(ns, ["rollback", "--dry-run"])
    #expect(dry.status == 2, "\(dry)")
    #expect(dry.stderr.contains("changed by someone else since the snapshot"), "\(dry)")
    #expect(dry.stderr.contains("net.core.somaxconn is 2345, bpstune set 1234"), "\(dry)")
    let json = bpstune(ns, ["rollback", "--dry-run", "--format", "json"])
    #expect(json.status == 2 && json.stdout.contains("\"error\""), "\(json)")
    let real = bpstune(ns, ["rollback"])
    #expect(real.status == dry.status && real.stderr == dry.stderr, "\(real)")
    #expect(ns.cat(Self.somaxconn) == "2345")
    let forced = bpstune(ns, ["rollback", "--dry-run", "--force"])
    #expect(forced.status == 0, "\(forced)")
    #expect(bpstune(ns, ["rollback", "--force"]).status == 0)
    #expect(ns.cat(Self.somaxconn) == before)
  }

  @Test func statusLeadsWithWhatIsAppliedByWhomAndWhy() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let text = "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"${iface}\"\nnapi-defer-hard-irqs = 2\n"
    let p = work.write("lab.profile", text, mode: 0o644)
    let sha = Run.command(["sha256sum", p]).stdout.prefix(64)
    let apply = ns.run(
      [Run.bpstune, "apply", p, "-i", ns.a, "--reason", "ticket 42", "--no-color"] + redirected,
      environment: ["SUDO_USER": "alice"])
    #expect(apply.status == 0, "\(apply)")
    let id = try #require(snapshotIDs().last)
    // What bpstune recorded, read from the file itself, not through bpstune.
    let file =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: state + "/snapshots/\(id).json"))) as? [String: Any]
    let origin = file?["origin"] as? [String: Any]
    #expect(
      origin?["sha256"] as? String == String(sha) && origin?["reason"] as? String == "ticket 42", "\(file ?? [:])")
    #expect(origin?["sudo_user"] as? String == "alice" && origin?["uid"] as? Int == 0, "\(file ?? [:])")
    #expect(origin?["interface"] as? String == ns.a, "\(file ?? [:])")

    // Nothing is enabled (exit 2, as documented), but status says what is applied.
    let status = bpstune(ns, ["status"])
    #expect(status.status == 2, "\(status)")
    #expect(status.stdout.contains("applied:  \(p) -i \(ns.a) at "), "\(status)")
    #expect(status.stdout.contains(" by root") && status.stdout.contains("sudo alice"), "\(status)")
    #expect(status.stdout.contains("          \(p) sha256 \(sha.prefix(16))"), "\(status)")
    #expect(status.stdout.contains("          why: ticket 42"), "\(status)")
    #expect(status.stdout.contains("2 setting(s), snapshot \(id); as applied"), "\(status)")
    #expect(status.stdout.contains("nothing is enabled"), "\(status)")
    // A value changed behind bpstune's back shows as drift of that apply.
    #expect(ns.run(["sh", "-c", "echo 999 > \(Self.somaxconn)"]).status == 0)
    #expect(bpstune(ns, ["status"]).stdout.contains("1 changed since by someone else"))
    let json = bpstune(ns, ["status", "--format", "json"])
    #expect(json.stdout.contains("\"sha256\" : \"\(sha)\""), "\(json)")
    #expect(
      json.stdout.contains("\"changed_since\" : 1") && json.stdout.contains("\"reason\" : \"ticket 42\""), "\(json)")

    let list = bpstune(ns, ["snapshots", "list"])
    #expect(
      list.stdout.contains("BY") && list.stdout.contains("REASON") && list.stdout.contains("ticket 42"), "\(list)")
    // The columns scripts read with awk stay where they were: the BOOT column is the fifth.
    let boot = list.stdout.split(separator: "\n").dropFirst().first?.split(
      separator: " ", omittingEmptySubsequences: true)
    #expect(boot?.count ?? 0 > 4 && boot?[4] == "this", "\(list)")
    // Ids: `latest`, a unique prefix, and an ambiguous one named.
    let latest = bpstune(ns, ["snapshots", "show", "latest"])
    #expect(latest.status == 0 && latest.stdout.contains("snapshot \(id)"), "\(latest)")
    #expect(latest.stdout.contains("sha256     \(sha)") && latest.stdout.contains("reason     ticket 42"), "\(latest)")
    #expect(latest.stdout.contains("profile    \(p) -i \(ns.a)"), "\(latest)")
    #expect(bpstune(ns, ["snapshots", "show", String(id.prefix(18))]).stdout.contains("snapshot \(id)"))
    #expect(ns.run(["sh", "-c", "echo \(before) > \(Self.somaxconn)"]).status == 0)
    #expect(bpstune(ns, ["rollback", "latest", "--reason", "done with 42"]).status == 0)
    let ambiguous = bpstune(ns, ["snapshots", "show", "2"])
    #expect(ambiguous.status == 2 && ambiguous.stderr.contains("the prefix matches 2 snapshots"), "\(ambiguous)")
    let none = bpstune(ns, ["snapshots", "show", "1999"])
    #expect(none.status == 2 && none.stderr.contains("no snapshot has this id or begins with it"), "\(none)")
    let reason = bpstune(ns, ["apply", p, "-i", ns.a, "--reason", "a\u{1b}[2Jb"])
    #expect(reason.status == 2 && reason.stderr.contains("--reason"), "\(reason)")
    #expect(bpstune(ns, ["status"]).stdout.contains("applied:  nothing in effect in this boot"))
  }

  /// promtool (Debian's prometheus package, unpacked by make test, never installed).
  static let promtoolPath = "/var/cache/bpstune-promtool/root/usr/bin/promtool"

  /// promtool check metrics: Prometheus's own parser and linter. Exit status and what it said.
  func promtool(_ file: String) -> Finished {
    Run.command(["sh", "-c", "\(Self.promtoolPath) check metrics < \"$0\" 2>&1", file])
  }

  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: OperatorTests.promtoolPath),
      "promtool checks the metrics: make test unpacks it into /var/cache/bpstune-promtool"))
  func theDriftMetricsAlertOnDriftOnABrokenCheckAndGoWithDisable() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let directory = work.path + "/profiles"
    mkdir(directory, 0o755)
    let text = "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"${iface}\"\nnapi-defer-hard-irqs = 2\n"
    let p = work.write("profiles/lab.profile", text, mode: 0o644)
    let metricsDirectory = work.path + "/metrics"
    let prom = metricsDirectory + "/bpstune.prom"
    #expect(bpstune(ns, ["enable", p, "-i", ns.a, "--metrics-dir", metricsDirectory]).status == 0)

    let check = bpstune(ns, ["persist", "check"])
    #expect(check.status == 0, "\(check)")
    var metrics = try String(contentsOfFile: prom, encoding: .utf8)
    var lint = promtool(prom)
    #expect(lint.status == 0 && lint.stdout.isEmpty, "\(lint)\n\(metrics)")
    #expect(metrics.contains("\nbpstune_verify_success{profile=\"lab\"} 1\n"), "\(metrics)")
    #expect(metrics.contains("\nbpstune_verify_last_run_timestamp_seconds{profile=\"lab\"} "), "\(metrics)")
    #expect(
      metrics.contains("bpstune_setting_drift{profile=\"lab\",interface=\"\",setting=\"net.core.somaxconn\"} 0"),
      "\(metrics)")
    #expect(
      metrics.contains(
        "bpstune_setting_drift{profile=\"lab\",interface=\"\(ns.a)\",setting=\"napi-defer-hard-irqs\"} 0"),
      "\(metrics)")

    // Drift: the setting and the count say so; the check itself succeeded.
    #expect(ns.run(["sh", "-c", "echo 999 > \(Self.somaxconn)"]).status == 0)
    #expect(bpstune(ns, ["persist", "check"]).status == 1)
    metrics = try String(contentsOfFile: prom, encoding: .utf8)
    #expect(
      metrics.contains("bpstune_setting_drift{profile=\"lab\",interface=\"\",setting=\"net.core.somaxconn\"} 1"),
      "\(metrics)")
    #expect(metrics.contains("\nbpstune_verify_drift{profile=\"lab\"} 1\n"), "\(metrics)")
    #expect(promtool(prom).status == 0)

    // The enabled profile moved: the check goes on with the content enabled, and says so.
    #expect(ns.run(["sh", "-c", "echo 1234 > \(Self.somaxconn)"]).status == 0)
    #expect(rename(p, directory + "/moved.profile") == 0)
    let moved = bpstune(ns, ["persist", "check"])
    #expect(moved.status == 0, "\(moved)")
    #expect(
      moved.stdout.contains("cannot be loaded (") && moved.stdout.contains("using the content enabled"), "\(moved)")
    #expect(try String(contentsOfFile: prom, encoding: .utf8).contains("\nbpstune_verify_success{profile=\"lab\"} 1\n"))
    // Moved, and its pinned copy gone too: the check fails, and the file says so rather than
    // staying healthy.
    let copy = work.path + "/etc/enabled.profile"
    #expect(rename(copy, copy + ".away") == 0)
    let broken = bpstune(ns, ["persist", "check"])
    #expect(broken.status == 2 && broken.stderr.contains("cannot be loaded"), "\(broken)")
    metrics = try String(contentsOfFile: prom, encoding: .utf8)
    lint = promtool(prom)
    #expect(lint.status == 0 && lint.stdout.isEmpty, "\(lint)\n\(metrics)")
    #expect(metrics.contains("bpstune_verify_success{profile=\"lab\",reason=\""), "\(metrics)")
    #expect(metrics.contains("cannot be loaded") && metrics.contains("\"} 0\n"), "\(metrics)")
    #expect(!metrics.contains("bpstune_setting_drift"), "\(metrics)")
    #expect(rename(directory + "/moved.profile", p) == 0)
    #expect(rename(copy + ".away", copy) == 0)

    // verify --format prometheus is the same format, also checked by promtool.
    let out = work.path + "/verify.prom"
    _ = bpstune(ns, ["verify", p, "-i", ns.a, "--format", "prometheus", "--output", out])
    #expect(promtool(out).status == 0)

    // disable takes the file away: nothing left to alert forever.
    #expect(bpstune(ns, ["disable", "--keep-settings"]).status == 0)
    #expect(!FileManager.default.fileExists(atPath: prom))
    #expect(ns.run(["sh", "-c", "echo \(before) > \(Self.somaxconn)"]).status == 0)
  }

  @Test func anEditedProfileIsToldApartFromDriftAndAdoptedByRefresh() throws {
    let ns = try NetworkNamespace()
    let before = ns.cat(Self.somaxconn)
    let p = work.write("pinned.profile", "[sysctl]\nnet.core.somaxconn = 1234\n", mode: 0o644)
    let metrics = work.path + "/metrics"
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", metrics]).status == 0)
    let record = try String(contentsOfFile: work.path + "/etc/enabled.toml", encoding: .utf8)
    let sha = String(Run.command(["sha256sum", p]).stdout.prefix(64))
    #expect(record.contains("sha256 = \"\(sha)\""), "\(record)")
    #expect(!bpstune(ns, ["status"]).stdout.contains("changed since enable"))

    let copy = work.path + "/etc/enabled.profile"
    let pinned = try String(contentsOfFile: copy, encoding: .utf8)
    #expect(pinned.contains("\"net.core.somaxconn\" = 1234"), "\(pinned)")
    #expect(record.contains("pinned-sha256 = \"\(Run.command(["sha256sum", copy]).stdout.prefix(64))\""), "\(record)")

    // Edited: status says the file changed, not that the host drifted; the units keep applying
    // the content enabled (pinned) until --refresh.
    _ = work.write("pinned.profile", "[sysctl]\nnet.core.somaxconn = 2345\n", mode: 0o644)
    let status = bpstune(ns, ["status"])
    #expect(status.status == 0, "\(status)")
    #expect(status.stdout.contains("the profile file changed since enable (sha256 \(sha.prefix(16)) -> "), "\(status)")
    #expect(status.stdout.contains("apply the content enabled, pinned in \(copy)"), "\(status)")
    #expect(status.stdout.contains("drift:    none"), "\(status)")
    let json = bpstune(ns, ["status", "--format", "json"])
    #expect(json.stdout.contains("\"profile_changed\" : true"), "\(json)")
    #expect(json.stdout.contains("\"pinned\" : \"\(copy)\""), "\(json)")
    // Host drift against the content enabled: the boot puts back 1234, not the edit's 2345.
    #expect(ns.run(["sh", "-c", "echo 999 > \(Self.somaxconn)"]).status == 0)
    let drifted = bpstune(ns, ["status"])
    #expect(drifted.status == 1 && drifted.stdout.contains("differ from the content enabled"), "\(drifted)")
    let boot = bpstune(ns, ["persist", "boot"])
    #expect(boot.status == 0 && boot.stdout.contains("using the content enabled, pinned in \(copy)"), "\(boot)")
    #expect(ns.cat(Self.somaxconn) == "1234")
    // The copy edited behind enable's back: named, refused, nothing changed.
    #expect(ns.run(["sh", "-c", "echo 999 > \(Self.somaxconn)"]).status == 0)
    try pinned.replacingOccurrences(of: "1234", with: "4321").write(toFile: copy, atomically: true, encoding: .utf8)
    let tampered = bpstune(ns, ["persist", "boot"])
    #expect(
      tampered.status == 2 && tampered.stderr.contains("the pinned copy of \(p) changed since enable"), "\(tampered)")
    #expect(ns.cat(Self.somaxconn) == "999")
    try pinned.write(toFile: copy, atomically: true, encoding: .utf8)
    #expect(bpstune(ns, ["persist", "boot"]).status == 0)
    #expect(ns.cat(Self.somaxconn) == "1234")

    // --refresh shows what the edit changes, then adopts it.
    let refresh = bpstune(ns, ["enable", "--refresh"])
    #expect(refresh.status == 0, "\(refresh)")
    #expect(refresh.stdout.contains("changed since it was enabled (sha256 \(sha.prefix(16)) -> "), "\(refresh)")
    #expect(refresh.stdout.contains("~ net.core.somaxconn") && refresh.stdout.contains("1234 -> 2345"), "\(refresh)")
    #expect(ns.cat(Self.somaxconn) == "2345")
    let after = bpstune(ns, ["status"])
    #expect(after.status == 0 && !after.stdout.contains("changed since enable"), "\(after)")
    let again = bpstune(ns, ["enable", "--refresh"])
    #expect(again.status == 0 && again.stdout.contains("is unchanged since it was enabled"), "\(again)")
    // The copy gone while the file is unchanged: status says so, and --refresh writes it again.
    #expect(unlink(copy) == 0)
    let noCopy = bpstune(ns, ["status"])
    #expect(noCopy.stdout.contains("the pinned copy \(copy) cannot be read: "), "\(noCopy)")
    let mend = bpstune(ns, ["enable", "--refresh"])
    #expect(
      mend.status == 0 && mend.stdout.contains("cannot be read: No such file or directory (ENOENT); writing it again"),
      "\(mend)")
    #expect(FileManager.default.fileExists(atPath: copy))
    #expect(!bpstune(ns, ["status"]).stdout.contains("pinned copy"))
    let both = bpstune(ns, ["enable", p, "--refresh"])
    #expect(both.status == 2 && both.stderr.contains("--refresh takes the profile"), "\(both)")
    #expect(try String(contentsOfFile: copy, encoding: .utf8).contains("\"net.core.somaxconn\" = 2345"))
    #expect(bpstune(ns, ["disable"]).status == 0)
    #expect(ns.cat(Self.somaxconn) == before)
    #expect(!FileManager.default.fileExists(atPath: copy))
  }

  @Test func theSmallInconsistenciesAreGone() throws {
    let ns = try NetworkNamespace()
    // Bare bpstune: usage on standard error, exit 2.
    let bare = ns.run([Run.bpstune])
    #expect(bare.status == 2 && bare.stdout.isEmpty && bare.stderr.contains("USAGE"), "\(bare)")
    // --interface beside -i, and did-you-mean in show as in diff.
    let typo = String(ns.a.dropLast()) + "x"
    let show = bpstune(ns, ["show", "--interface", typo])
    #expect(show.status == 2 && show.stderr.contains("(did you mean \(ns.a)?)"), "\(show)")
    #expect(bpstune(ns, ["show", "--interface", ns.a]).status == 0)
    // verify -q: only what fails, and the summary.
    let now = ns.cat(Self.somaxconn)
    let p = work.write("q.profile", "[sysctl]\nnet.core.somaxconn = \(now)\nnet.ipv4.tcp_fin_timeout = 7\n")
    let quiet = bpstune(ns, ["verify", p, "-q"])
    #expect(
      quiet.status == 1 && !quiet.stdout.contains("somaxconn") && quiet.stdout.contains("tcp_fin_timeout"), "\(quiet)")
    let full = bpstune(ns, ["verify", p])
    #expect(full.stdout.split(separator: "\n").count == quiet.stdout.split(separator: "\n").count + 1, "\(full)")
    // Without a running systemd, status says so once.
    let fake = work.write(
      "systemctl",
      "#!/bin/sh\necho 'System has not been booted with systemd as init system (PID 1). Can'\\''t operate.'\necho 'Failed to connect to bus: Host is down'\nexit 1\n",
      mode: 0o755)
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", work.path + "/metrics"]).status == 0)
    let status = ns.run(
      [
        Run.bpstune, "status", "--no-color", "--config-dir", work.path + "/etc", "--systemctl", fake, "--state-dir",
        state,
      ])
    #expect(
      status.stdout.contains("units:    systemd not running on this host: nothing runs bpstune's units\n"), "\(status)")
    #expect(!status.stdout.contains("Failed to connect"), "\(status)")
    #expect(bpstune(ns, ["disable"]).status == 0)
  }

  @Test func profilesShowGivesVariablesUsesAndEveryProblemAtOnce() throws {
    let ns = try NetworkNamespace()
    _ = work.write(
      "base.profile", "[variables]\nhk = \"0-4095\"\n[sysfs]\n\"devices/virtual/workqueue/cpumask\" = \"${hk}\"\n")
    let top = work.write(
      "top.profile",
      "[profile]\ninclude = [\"./base.profile\"]\n[variables]\niface = \"nonexist0\"\n[sysctl]\nnet.core.somaxcon = 1\n"
        + "[[interface]]\nname = \"${iface}\"\nnapi-defer-hard-irqs = 2\n")
    let show = bpstune(ns, ["profiles", "show", top])
    #expect(show.status == 1, "\(show)")
    #expect(show.stdout.contains("  includes: \(work.path)/base.profile"), "\(show)")
    #expect(
      show.stdout.contains("  hk = \"0-4095\" (default); used by sysfs.devices/virtual/workqueue/cpumask"), "\(show)")
    #expect(show.stdout.contains("  iface = \"nonexist0\" (default); used by interface[0]"), "\(show)")
    // Both problems at once, not one per run.
    #expect(show.stdout.contains("cannot take it with these values: 2 problem(s)"), "\(show)")
    #expect(show.stdout.contains("interface nonexist0 does not exist on this host"), "\(show)")
    #expect(show.stdout.contains("net.core.somaxcon: no such sysctl on this kernel"), "\(show)")
    // A CPU list cut to the CPUs that exist is a warning naming what was cut.
    #expect(show.stdout.contains("CPU list 0-4095 cut to "), "\(show)")
    let json = bpstune(ns, ["profiles", "show", top, "--format", "json"])
    #expect(json.stdout.contains("\"used_by\"") && json.stdout.contains("\"problems\""), "\(json)")
    // With -i naming a real interface, one problem is left.
    let withInterface = bpstune(ns, ["profiles", "show", top, "-i", ns.a])
    #expect(withInterface.stdout.contains("1 problem(s)"), "\(withInterface)")
    #expect(withInterface.stdout.contains("  iface = \"\(ns.a)\" (default \"nonexist0\")"), "\(withInterface)")
    // diff warns about the cut too.
    let diff = bpstune(
      ns, ["diff", work.write("cut.profile", "[sysfs]\n\"devices/virtual/workqueue/cpumask\" = \"0-4095\"\n")])
    #expect(diff.stdout.contains("warning: ") && diff.stdout.contains("CPU list 0-4095 cut to "), "\(diff)")
  }

  @Test func aRollbackAfterTheDeviceWasDeletedRestoresTheRest() throws {
    let ns = try NetworkNamespace(queues: 4)
    let before = ns.cat(Self.somaxconn)
    let p = work.write(
      "dev.profile", "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"0\"\n")
    #expect(bpstune(ns, ["apply", p]).status == 0)
    // The device goes away (a hot-unplug, a driver reset): its veth pair deleted.
    try ns.exec(["ip", "link", "del", ns.a])
    let dry = bpstune(ns, ["rollback", "--dry-run"])
    #expect(dry.status == 0, "\(dry)")
    let rollback = bpstune(ns, ["rollback"])
    #expect(rollback.status == 0, "\(rollback)")
    #expect(rollback.stdout.contains("\(ns.a) is gone: its 4 setting(s) went with it"), "\(rollback)")
    #expect(!rollback.stdout.contains("changed by someone else"), "\(rollback)")
    #expect(ns.cat(Self.somaxconn) == before)
  }

  @Test func listingCommandsTakeOnlyTheirOptionsAndSpeakJSON() throws {
    let ns = try NetworkNamespace()
    let p = work.write("j.profile", "[sysctl]\nnet.core.somaxconn = 1\n")
    let lint = bpstune(ns, ["lint", p, "--format", "json"])
    let doc = try JSONSerialization.jsonObject(with: Data(lint.stdout.utf8)) as? [String: Any]
    #expect(lint.status == 0 && doc?["command"] as? String == "lint", "\(lint)")
    #expect(((doc?["results"] as? [[String: Any]])?.first?["ok"] as? Bool) == true, "\(lint)")
    let profiles = bpstune(ns, ["profiles", "--format", "json"])
    let list = try JSONSerialization.jsonObject(with: Data(profiles.stdout.utf8)) as? [String: Any]
    #expect((list?["profiles"] as? [[String: Any]])?.contains { $0["name"] as? String == "hft" } == true, "\(profiles)")
    // No state directory, no "each write as it happens": lint and profiles write nothing.
    for arguments in [["lint", p, "--state-dir", "/tmp"], ["profiles", "--state-dir", "/tmp"]] {
      let r = ns.run([Run.bpstune] + arguments)
      #expect(r.status == 2 && r.stderr.contains("Unknown option '--state-dir'"), "\(arguments): \(r)")
    }
    #expect(bpstune(ns, ["profiles", "-v"]).stdout.contains("/hft.profile"))
  }

  /// 129 settings changed by hand since the apply: the refusal groups them by interface, kind
  /// and key in one line; -v and JSON give every one.
  @Test func aLongListOfConflictsIsGroupedByInterfaceAndKey() throws {
    let ns = try NetworkNamespace(queues: 64)
    let p = work.write(
      "queues.profile",
      "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"0\"\nxps-cpus = \"0\"\n")
    #expect(bpstune(ns, ["apply", p]).status == 0)
    // Someone else moves every queue to CPU 1, and somaxconn elsewhere.
    try ns.exec([
      "sh", "-c",
      "for f in /sys/class/net/\(ns.a)/queues/*/[rx]ps_cpus; do echo 2 > $f; done; echo 999 > \(Self.somaxconn)",
    ])
    let rollback = bpstune(ns, ["rollback"])
    #expect(rollback.status == 2, "\(rollback)")
    #expect(rollback.stderr.split(separator: "\n").count == 1, "\(rollback)")
    #expect(
      rollback.stderr.contains(
        "not overwritten without --force: sysctl: net.core.somaxconn is 999, bpstune set 1234; "
          + "\(ns.a): 64 rps-cpus (rx-0, rx-1, rx-2 and 61 more) is 1, bpstune set 0; "
          + "64 xps-cpus (tx-0, tx-1, tx-2 and 61 more) is 1, bpstune set 0 (-v lists every one); nothing was changed"),
      "\(rollback)")
    let verbose = bpstune(ns, ["rollback", "-v"])
    #expect(verbose.status == 2 && verbose.stderr.contains("\(ns.a) tx-63 xps-cpus is 1, bpstune set 0"), "\(verbose)")
    let json = bpstune(ns, ["rollback", "--format", "json"])
    let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    let conflicts = (document?["error"] as? [String: Any])?["conflicts"] as? [String]
    #expect(
      conflicts?.count == 129 && conflicts?.contains("\(ns.a) rx-63 rps-cpus is 1, bpstune set 0") == true, "\(json)")
    // Nothing was changed: read with cat.
    #expect(ns.cat("/sys/class/net/\(ns.a)/queues/rx-63/rps_cpus") == "2")
  }

  /// `ip link set IF name NEW` between apply and rollback: the rollback finds the device by the
  /// ifindex its snapshot recorded and restores its values there, naming the rename.
  @Test func aRollbackFollowsARenamedDeviceByItsIfindex() throws {
    let ns = try NetworkNamespace(queues: 4)
    let before = (ns.cat(Self.somaxconn), ns.cat("/sys/class/net/\(ns.a)/queues/rx-3/rps_cpus"))
    let p = work.write(
      "dev.profile", "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"0\"\n")
    #expect(bpstune(ns, ["apply", p]).status == 0)
    let ifindex = ns.cat("/sys/class/net/\(ns.a)/ifindex")
    let renamed = ns.a + "r"
    try ns.exec(["ip", "link", "set", ns.a, "down"])
    try ns.exec(["ip", "link", "set", ns.a, "name", renamed])
    // The device kept what bpstune wrote.
    #expect(ns.cat("/sys/class/net/\(renamed)/queues/rx-3/rps_cpus") != before.1)
    let dry = bpstune(ns, ["rollback", "--dry-run"])
    #expect(dry.status == 0, "\(dry)")
    #expect(
      dry.stdout.contains(
        "\(ns.a) was renamed to \(renamed) (ifindex \(ifindex)): its settings would be restored there"),
      "\(dry)")
    let rollback = bpstune(ns, ["rollback"])
    #expect(rollback.status == 0, "\(rollback)")
    #expect(
      rollback.stdout.contains(
        "restored 5 of 5 settings; \(ns.a) was renamed to \(renamed) (ifindex \(ifindex)): its settings are restored there"
      ),
      "\(rollback)")
    for q in 0..<4 { #expect(ns.cat("/sys/class/net/\(renamed)/queues/rx-\(q)/rps_cpus") == before.1) }
    #expect(ns.cat(Self.somaxconn) == before.0)
  }

  /// `ip link set IF netns OTHER`: from here the device is gone (moved or deleted, which this
  /// namespace cannot tell apart); the rest is restored, and the device is not written in its
  /// new namespace.
  @Test func aDeviceMovedToAnotherNamespaceIsGoneFromHere() throws {
    let ns = try NetworkNamespace(queues: 4)
    let other = try NetworkNamespace(bare: true)
    let before = ns.cat(Self.somaxconn)
    let p = work.write(
      "dev.profile", "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"0\"\n")
    #expect(bpstune(ns, ["apply", p]).status == 0)
    let tuned = ns.cat("/sys/class/net/\(ns.a)/queues/rx-0/rps_cpus")
    // From outside: the namespaces' names are in this host's /run, not in the commands' own.
    let move = Run.command(["ip", "-n", ns.name, "link", "set", ns.a, "netns", other.name])
    #expect(move.status == 0, "\(move)")
    let rollback = bpstune(ns, ["rollback"])
    #expect(rollback.status == 0, "\(rollback)")
    #expect(
      rollback.stdout.contains(
        "\(ns.a) is gone: its 4 setting(s) went with it (moved to another network namespace, or deleted)"),
      "\(rollback)")
    #expect(ns.cat(Self.somaxconn) == before)
    #expect(other.cat("/sys/class/net/\(ns.a)/queues/rx-0/rps_cpus") == tuned)
  }

  /// The name is another device's now (deleted and made again): the rollback does not write
  /// the old device's values into it, even where it holds what bpstune wrote to the old one.
  @Test func aNewDeviceGivenTheNameIsNotWrittenTheOldValues() throws {
    let ns = try NetworkNamespace(queues: 4)
    let before = ns.cat(Self.somaxconn)
    let p = work.write(
      "dev.profile", "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"0\"\n")
    #expect(bpstune(ns, ["apply", p]).status == 0)
    let tuned = ns.cat("/sys/class/net/\(ns.a)/queues/rx-0/rps_cpus")
    let old = ns.cat("/sys/class/net/\(ns.a)/ifindex")
    try ns.exec(["ip", "link", "del", ns.a])
    try ns.exec([
      "ip", "link", "add", ns.a, "numtxqueues", "4", "numrxqueues", "4", "type", "veth", "peer", "name", ns.b,
      "numtxqueues", "4", "numrxqueues", "4",
    ])
    try ns.exec(["sh", "-c", "for f in /sys/class/net/\(ns.a)/queues/rx-*/rps_cpus; do echo \(tuned) > $f; done"])
    let now = ns.cat("/sys/class/net/\(ns.a)/ifindex")
    #expect(now != old)
    let rollback = bpstune(ns, ["rollback"])
    #expect(rollback.status == 0, "\(rollback)")
    #expect(
      rollback.stdout.contains(
        "\(ns.a) was replaced by another device of that name (ifindex \(old), now ifindex \(now)): "
          + "its 4 setting(s) went with the old one, and the new \(ns.a) is left as it is"), "\(rollback)")
    for q in 0..<4 { #expect(ns.cat("/sys/class/net/\(ns.a)/queues/rx-\(q)/rps_cpus") == tuned) }
    #expect(ns.cat(Self.somaxconn) == before)
  }

  /// Renamed in the middle of an apply: strace holds bpstune's write of rx-2 while the device
  /// is renamed, the read-back finds no rx-2 by the old name, and the undo puts every value
  /// back on the device under its new name.
  @Test func aDeviceRenamedMidApplyIsUndoneUnderItsNewName() throws {
    let ns = try NetworkNamespace(queues: 4)
    let queue = "/sys/class/net/\(ns.a)/queues/rx-"
    let before = (ns.cat(Self.somaxconn), ns.cat(queue + "0/rps_cpus"))
    let p = work.write(
      "dev.profile", "[sysctl]\nnet.core.somaxconn = 1234\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"0\"\n")
    let held = "/sys/devices/virtual/net/\(ns.a)/queues/rx-2/rps_cpus"
    let apply = try Background(
      ns.command(
        [
          "strace", "-f", "-qq", "-o", "/dev/null", "-P", held, "-e", "trace=write", "-e",
          "inject=write:delay_enter=5000000", Run.bpstune, "apply", p, "--no-color",
        ] + redirected))
    // rx-0 and rx-1 are written; bpstune is held at rx-2.
    #expect(apply.wait(seconds: 30) { ns.cat(queue + "1/rps_cpus") != before.1 }, "\(apply.stderr)")
    let ifindex = ns.cat("/sys/class/net/\(ns.a)/ifindex")
    let renamed = ns.a + "r"
    try ns.exec(["ip", "link", "set", ns.a, "down"])
    try ns.exec(["ip", "link", "set", ns.a, "name", renamed])
    #expect(apply.wait(seconds: 30) { !apply.isRunning })
    let finished = apply.stop()
    #expect(finished.status == 3, "\(finished)")
    #expect(
      finished.stderr.contains(
        "\(ns.a) was renamed to \(renamed) during apply (ifindex \(ifindex)): its settings were put back there"),
      "\(finished)")
    #expect(
      finished.stderr.contains("the host is as before") && !finished.stderr.contains("disappeared"), "\(finished)")
    for q in 0..<4 { #expect(ns.cat("/sys/class/net/\(renamed)/queues/rx-\(q)/rps_cpus") == before.1) }
    #expect(ns.cat(Self.somaxconn) == before.0)
  }
}
