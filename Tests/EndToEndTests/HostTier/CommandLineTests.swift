import Foundation
import TestSupport
import Testing

/// The command line as scripts and operators use it, against the built binary as root in a
/// network namespace (whose /run is its own: no test takes this host's lock): flags as the
/// argument parser reads them, and `profiles show` planning the profile once. What bpstune
/// read is counted with strace, not with bpstune.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct CommandLineTests {
  let work: TemporaryDirectory = {
    let w = TemporaryDirectory("bpstune-cli")
    chmod(w.path, 0o755)
    return w
  }()
  var state: String { work.path + "/state" }

  /// `-v` as the argument parser reads it: combined with -q (`-qv`, `-vq`) as alone. Before,
  /// bpstune looked for the word "-v" in its arguments and gave `-qv` the summary.
  @Test func combinedShortFlagsWithVGiveEveryName() throws {
    let ns = try NetworkNamespace()
    let names = (1...7).map { "net.core.bpstune_absent_\($0)" }
    let p = work.write("absent.profile", "[sysctl]\n" + names.map { "\($0) = 1\n" }.joined())
    func apply(_ flags: [String]) -> Finished {
      ns.run([Run.bpstune, "apply", p] + flags + ["--state-dir", state, "--no-color"])
    }
    let summary = apply([])
    #expect(summary.status == 2 && summary.stderr.contains("and 2 more in sysctl (-v lists every one)"), "\(summary)")
    #expect(!summary.stderr.contains(names[6]), "\(summary)")
    for flags in [["-v"], ["-qv"], ["-vq"], ["-q", "--verbose"]] {
      let full = apply(flags)
      #expect(full.status == 2 && full.stderr.split(separator: "\n").count == 1, "\(flags): \(full)")
      #expect(names.allSatisfy { full.stderr.contains($0 + ":") }, "\(flags): \(full)")
      #expect(!full.stderr.contains("more (-v lists every one)"), "\(flags): \(full)")
    }
    // -q alone is not -v.
    #expect(apply(["-q"]).stderr.contains("and 2 more in sysctl (-v lists every one)"))
    #expect(!FileManager.default.fileExists(atPath: state + "/snapshots") || snapshots().isEmpty)
  }

  func snapshots() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []).filter {
      $0.hasSuffix(".json")
    }
  }

  /// `profiles show` plans the whole profile once: the host's checks run once (the IOMMU's
  /// groups and the .link directories read once, not once per setting, as when each setting
  /// was planned on its own), and two refusals by the same kind of setting are each named.
  @Test func profilesShowPlansOnceAndNamesEveryRefusal() throws {
    let ns = try NetworkNamespace()
    let p = work.write(
      "show.profile",
      """
      [sysctl]
      net.core.somaxconn = 1024
      net.ipv4.tcp_fin_timeout = 30
      net.core.somaxcon = 1
      [irq]
      default-affinity = "4000"
      [[interface]]
      name = "\(ns.a)"
      napi-defer-hard-irqs = 2
      gro-flush-timeout = 20000
      rps-cpus = "0"
      irq-affinity = "4001"

      """)
    let trace = work.path + "/show.trace"
    let show = ns.run([
      "strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace, Run.bpstune, "profiles", "show", p,
      "--no-color",
    ])
    #expect(show.status == 1, "\(show)")
    #expect(show.stdout.contains("cannot take it with these values: 3 problem(s)"), "\(show)")
    #expect(show.stdout.contains("irq.default-affinity: CPU 4000 is not online"), "\(show)")
    #expect(show.stdout.contains("\(ns.a) irq-affinity: CPU 4001 is not online"), "\(show)")
    #expect(show.stdout.contains("net.core.somaxcon: no such sysctl on this kernel"), "\(show)")
    let opens = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
    func count(_ path: String) -> Int { opens.filter { $0.contains("\"\(path)\"") }.count }
    // HostChecks reads the IOMMU's groups, Overwriters lists the .link directories and
    // sysctl.d, the planner lists the interfaces: once each for the one plan.
    #expect(count("/sys/kernel/iommu_groups") == 1, "\(count("/sys/kernel/iommu_groups")) reads")
    #expect(count("/etc/systemd/network") <= 1, "\(count("/etc/systemd/network")) reads")
    #expect(count("/sys/class/net") == 1, "\(count("/sys/class/net")) reads")
  }
}
