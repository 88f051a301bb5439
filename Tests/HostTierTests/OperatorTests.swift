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
    ns.run([Run.bpstune] + arguments + ["--no-color"] + redirected)
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
}
