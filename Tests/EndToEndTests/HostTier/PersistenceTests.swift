import Foundation
import TestSupport
import Testing

/// enable, disable, status and what the units run (`persist boot|interface|check`), on a real
/// kernel in a network namespace. The record, the udev rule and the metrics go to a temporary
/// directory and systemctl is a recorder here (the VM tier runs them with real systemd and
/// udev); every value is checked with cat.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct PersistenceTests {
  let work = TemporaryDirectory("bpstune-persist")
  var state: String { work.path + "/state" }
  var etc: String { work.path + "/etc" }
  var rules: String { work.path + "/rules" }
  var metrics: String { work.path + "/metrics" }
  var systemctlLog: String { work.path + "/systemctl.log" }

  init() {
    let fake = work.write(
      "systemctl",
      """
      #!/bin/sh
      echo "$*" >> \(work.path)/systemctl.log
      case "$1" in is-enabled) echo enabled;; is-active) echo active;; esac
      """)
    chmod(fake, 0o755)
  }

  /// The record, rule, state and programs redirected to the scratch directory with the hidden
  /// options (bpstune takes none of them from the environment).
  var redirected: [String] {
    [
      "--config-dir", etc, "--udev-rules-dir", rules, "--systemctl", work.path + "/systemctl", "--udevadm", "/bin/true",
      "--state-dir", state,
    ]
  }

  func bpstune(_ ns: NetworkNamespace, _ arguments: [String]) -> Finished {
    ns.run([Run.bpstune] + arguments + ["--no-color"] + redirected)
  }

  func profile(_ ns: NetworkNamespace, extra: String = "") -> String {
    work.write(
      "p.profile",
      """
      [sysctl]
      net.core.somaxconn = 1024
      [[interface]]
      name = "\(ns.a)"
      napi-defer-hard-irqs = 3
      gro-flush-timeout = "20us"
      [[interface]]
      name = "vZ*"
      napi-defer-hard-irqs = 2
      \(extra)
      """)
  }

  func snapshotCount() -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []).count
  }

  func systemctlCalls() -> [String] {
    ((try? String(contentsOfFile: systemctlLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
      .filter { !$0.hasPrefix("is-") }
  }

  @Test func enableAppliesRecordsAndDisableUndoesEverything() throws {
    let ns = try NetworkNamespace()
    let dev = "/sys/class/net/\(ns.a)"
    let before = [
      ns.cat("/proc/sys/net/core/somaxconn"), ns.cat("\(dev)/napi_defer_hard_irqs"), ns.cat("\(dev)/gro_flush_timeout"),
    ]
    let p = profile(ns)
    let enable = bpstune(ns, ["enable", p, "--metrics-dir", metrics])
    #expect(enable.status == 0, "\(enable)")
    #expect(enable.stdout.contains("enabled \(p): applied 3 change(s)"))
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "1024")
    #expect(ns.cat("\(dev)/napi_defer_hard_irqs") == "3")
    #expect(ns.cat("\(dev)/gro_flush_timeout") == "20000")

    // The record: readable TOML naming the profile and the options.
    let record = try String(contentsOfFile: etc + "/enabled.toml", encoding: .utf8)
    #expect(record.contains("profile = \"\(p)\"") && record.contains("metrics-directory = \"\(metrics)\""))
    #expect(record.contains("reapply = false"))
    // The rule names the profile's interfaces (the glob as a udev glob), nothing else.
    let rule = try String(contentsOfFile: rules + "/80-bpstune.rules", encoding: .utf8)
    let matches = rule.split(separator: "\n").filter { !$0.hasPrefix("#") }
    #expect(matches.count == 2)
    #expect(matches[0].contains("KERNEL==\"\(ns.a)\"") && matches[1].contains("KERNEL==\"vZ*\""))
    #expect(matches.allSatisfy { $0.contains("ENV{SYSTEMD_WANTS}+=\"bpstune-interface@%k.service\"") })
    #expect(systemctlCalls() == ["enable --quiet bpstune.service", "enable --now --quiet bpstune-drift.timer"])

    let status = bpstune(ns, ["status"])
    #expect(status.status == 0, "\(status)")
    #expect(status.stdout.contains("enabled:  \(p)") && status.stdout.contains(" by enable, root"), "\(status)")
    #expect(status.stdout.contains("3 setting(s), snapshot ") && status.stdout.contains("; as applied"), "\(status)")
    #expect(status.stdout.contains("drift:    none"))

    let disable = bpstune(ns, ["disable"])
    #expect(disable.status == 0, "\(disable)")
    #expect(disable.stdout.contains("rolled back 1 apply(s) of this boot"))
    #expect(
      [
        ns.cat("/proc/sys/net/core/somaxconn"), ns.cat("\(dev)/napi_defer_hard_irqs"),
        ns.cat("\(dev)/gro_flush_timeout"),
      ]
        == before)
    #expect(!FileManager.default.fileExists(atPath: etc + "/enabled.toml"))
    #expect(!FileManager.default.fileExists(atPath: rules + "/80-bpstune.rules"))
    #expect(
      systemctlCalls().suffix(2) == ["disable --quiet bpstune.service", "disable --now --quiet bpstune-drift.timer"])
    let after = bpstune(ns, ["status"])
    #expect(after.status == 2 && after.stdout.contains("nothing is enabled"), "\(after)")
  }

  @Test func aRecreatedInterfaceIsTunedAgainAndOthersCostNothing() throws {
    let ns = try NetworkNamespace()
    let p = profile(ns)
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", metrics]).status == 0)
    // The driver re-creates the interface: its settings are the kernel's defaults again.
    try ns.exec(["ip", "link", "del", ns.a])
    try ns.exec(["ip", "link", "add", ns.a, "type", "veth", "peer", "name", ns.b])
    try ns.exec(["ip", "link", "add", "vZ1", "type", "veth", "peer", "name", "vY1"])
    for name in [ns.a, ns.b, "vZ1", "vY1"] { try ns.exec(["ip", "link", "set", name, "up"]) }
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "0")
    let count = snapshotCount()
    let again = bpstune(ns, ["persist", "interface", ns.a])
    #expect(again.status == 0, "\(again)")
    #expect(again.stdout.contains("interface \(ns.a): applied \(p): 2 change(s)"))
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "3")
    #expect(ns.cat("/sys/class/net/\(ns.a)/gro_flush_timeout") == "20000")
    // Only that interface: the sysctl is not part of an interface's unit.
    let snapshots = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots").sorted()
    let newest = try String(contentsOfFile: state + "/snapshots/" + snapshots.last!, encoding: .utf8)
    #expect(snapshotCount() == count + 1 && !newest.contains("somaxconn"))
    #expect(newest.contains("\"trigger\" : \"interface \(ns.a)\""))
    // A glob block renamed to the interface that matched it.
    let glob = bpstune(ns, ["persist", "interface", "vZ1"])
    #expect(glob.status == 0 && ns.cat("/sys/class/net/vZ1/napi_defer_hard_irqs") == "2", "\(glob)")
    // An interface the profile does not name: nothing read, nothing written.
    let other = bpstune(ns, ["persist", "interface", "vY1"])
    #expect(other.status == 0 && other.stdout.contains("not named by the enabled profile"), "\(other)")
    #expect(snapshotCount() == count + 2)
    #expect(ns.cat("/sys/class/net/vY1/napi_defer_hard_irqs") == "0")
    // Disable rolls back all three applies of this boot.
    let disable = bpstune(ns, ["disable"])
    #expect(disable.status == 0 && disable.stdout.contains("rolled back 3 apply(s)"), "\(disable)")
    #expect(ns.cat("/sys/class/net/vZ1/napi_defer_hard_irqs") == "0")
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "0")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
  }

  @Test func anInterfacesUnitWaitsUntilTheInterfaceIsUp() throws {
    let ns = try NetworkNamespace()
    let p = profile(ns)
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", metrics]).status == 0)
    try ns.exec(["ip", "link", "add", "vZ2", "type", "veth", "peer", "name", "vY2"])
    // Down: the boot unit leaves it to its own unit, which waits for it to be brought up.
    let boot = bpstune(ns, ["persist", "boot"])
    #expect(boot.status == 0 && boot.stdout.contains("vZ2 (down): bpstune-interface@vZ2.service"), "\(boot)")
    #expect(ns.cat("/sys/class/net/vZ2/napi_defer_hard_irqs") == "0")
    let later = Process()
    later.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    later.arguments = ["ip", "netns", "exec", ns.name, "sh", "-c", "sleep 2; ip link set vZ2 up"]
    try later.run()
    defer { later.waitUntilExit() }
    let waited = bpstune(ns, ["persist", "interface", "vZ2", "--wait-up", "20"])
    #expect(waited.status == 0 && waited.stdout.contains("waiting up to 20 s"), "\(waited)")
    #expect(waited.stdout.contains("interface vZ2: applied"), "\(waited)")
    #expect(ns.cat("/sys/class/net/vZ2/flags") == "0x1003" && ns.cat("/sys/class/net/vZ2/napi_defer_hard_irqs") == "2")
    // One that stays down gets what it takes while down, after the wait.
    try ns.exec(["ip", "link", "add", "vZ3", "type", "veth", "peer", "name", "vY3"])
    let down = bpstune(ns, ["persist", "interface", "vZ3", "--wait-up", "1"])
    #expect(down.status == 0 && down.stdout.contains("still down after 1 s"), "\(down)")
    #expect(ns.cat("/sys/class/net/vZ3/napi_defer_hard_irqs") == "2")
    #expect(bpstune(ns, ["disable"]).status == 0)
    #expect(ns.cat("/sys/class/net/vZ2/napi_defer_hard_irqs") == "0")
  }

  @Test func theDriftCheckWritesMetricsAndNamesEachSetting() throws {
    let ns = try NetworkNamespace()
    let p = profile(ns)
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", metrics]).status == 0)
    let clean = bpstune(ns, ["persist", "check"])
    #expect(clean.status == 0 && clean.stdout.contains("no drift"), "\(clean)")
    // Behind bpstune's back.
    try ns.exec(["sh", "-c", "echo 1 > /sys/class/net/\(ns.a)/napi_defer_hard_irqs"])
    let check = bpstune(ns, ["persist", "check"])
    #expect(check.status == 1, "\(check)")
    #expect(check.stdout.contains("drift: \(ns.a) napi-defer-hard-irqs is 1, profile \(p) sets 3"))
    // The textfile: complete lines only, the drifting setting at 1, no temporary file left.
    let prom = try String(contentsOfFile: metrics + "/bpstune.prom", encoding: .utf8)
    #expect(prom.hasSuffix("\n"))
    let name = ((p as NSString).lastPathComponent as NSString).deletingPathExtension
    #expect(
      prom.contains(
        "bpstune_setting_drift{profile=\"\(name)\",interface=\"\(ns.a)\",setting=\"napi-defer-hard-irqs\"} 1"),
      "\(prom)")
    #expect(
      prom.contains("bpstune_setting_drift{profile=\"\(name)\",interface=\"\(ns.a)\",setting=\"gro-flush-timeout\"} 0"))
    #expect(prom.contains("bpstune_verify_drift{profile=\"\(name)\"} 1"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: metrics) == ["bpstune.prom"])
    let status = bpstune(ns, ["status", "--format", "json"])
    #expect(status.status == 1, "\(status)")
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
    #expect(json["match"] as? Bool == false)
    #expect((json["drift"] as? [[String: Any]])?.first?["name"] as? String == "\(ns.a) napi-defer-hard-irqs")
    // It reports; it re-applies only when the record says so.
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "1")
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", metrics, "--reapply-on-drift"]).status == 0)
    try ns.exec(["sh", "-c", "echo 1 > /sys/class/net/\(ns.a)/napi_defer_hard_irqs"])
    let reapplied = bpstune(ns, ["persist", "check"])
    #expect(reapplied.status == 0 && reapplied.stdout.contains("drift: applied"), "\(reapplied)")
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "3")
    #expect(bpstune(ns, ["disable"]).status == 0)
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "0")
  }

  @Test func enableRefusesLikeApplyAndChangesNothing() throws {
    let ns = try NetworkNamespace()
    let bad = work.write(
      "bad.profile",
      "[sysctl]\nnet.core.somaxconn = 1024\n[[interface]]\nname = \"\(ns.a)\"\ncoalesce = { rx-usecs = 5 }\n")
    let refused = bpstune(ns, ["enable", bad])
    #expect(refused.status == 2, "\(refused)")
    #expect(refused.stderr.contains("\(ns.a) coalesce") && refused.stderr.split(separator: "\n").count == 1)
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
    #expect(!FileManager.default.fileExists(atPath: etc + "/enabled.toml"))
    #expect(!FileManager.default.fileExists(atPath: rules + "/80-bpstune.rules"))
    #expect(systemctlCalls().isEmpty && snapshotCount() == 0)
  }

  @Test func aDamagedRecordIsNamedAndDisableStillRemovesIt() throws {
    let ns = try NetworkNamespace()
    try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
    _ = work.write("etc/enabled.toml", "profile = \"nope-no-such-profile\"\nflavour = 1\n")
    for command in [["status"], ["persist", "boot"], ["persist", "check"]] {
      let r = bpstune(ns, command)
      #expect(r.status == 2, "\(command): \(r)")
      #expect(r.stderr.contains("\(etc)/enabled.toml: unknown key flavour"), "\(command): \(r)")
      #expect(r.stderr.split(separator: "\n").count == 1)
    }
    _ = work.write("etc/enabled.toml", "profile = \"nope-no-such-profile\"\n")
    let missing = bpstune(ns, ["persist", "boot"])
    #expect(missing.status == 2 && missing.stderr.contains("the enabled profile nope-no-such-profile cannot be loaded"))
    let disable = bpstune(ns, ["disable"])
    #expect(disable.status == 0, "\(disable)")
    #expect(!FileManager.default.fileExists(atPath: etc + "/enabled.toml"))
  }

  @Test func disableRefusesWhileAnApplyByHandIsOnTop() throws {
    let ns = try NetworkNamespace()
    let p = profile(ns)
    #expect(bpstune(ns, ["enable", p, "--metrics-dir", metrics]).status == 0)
    let byHand = work.write("hand.profile", "[sysctl]\nnet.core.somaxconn = 2048\n")
    #expect(bpstune(ns, ["apply", byHand]).status == 0)
    let refused = bpstune(ns, ["disable"])
    #expect(refused.status == 2 && refused.stderr.contains("made by hand"), "\(refused)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "2048")
    #expect(FileManager.default.fileExists(atPath: etc + "/enabled.toml"))
    #expect(bpstune(ns, ["rollback"]).status == 0)
    let disable = bpstune(ns, ["disable"])
    #expect(disable.status == 0, "\(disable)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "0")
  }
}
