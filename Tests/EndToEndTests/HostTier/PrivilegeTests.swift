import Foundation
import TestSupport
import Testing

/// Unprivileged runs on the real kernel: an ordinary user (nobody, through setpriv) reads and
/// diffs but cannot write; root without CAP_NET_ADMIN or CAP_SYS_NICE (setpriv's bounding set,
/// as in a container) is told which capability is missing before anything is written. Each
/// "the kernel refuses this without it" is shown with ethtool or chrt under the same setpriv,
/// and each "nothing changed" with cat, ethtool and napi-dump.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces and setpriv"))
struct PrivilegeTests {
  let work: TemporaryDirectory = {
    let w = TemporaryDirectory("bpstune-priv")
    chmod(w.path, 0o755)
    return w
  }()
  var state: String { work.path + "/state" }

  static let nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
  static func without(_ capabilities: String) -> [String] {
    ["setpriv", "--bounding-set=\(capabilities)", "--inh-caps=\(capabilities)"]
  }

  func run(_ ns: NetworkNamespace, as prefix: [String], _ arguments: [String]) -> Finished {
    ns.run(prefix + [Run.bpstune] + arguments + ["--state-dir", state, "--no-color"])
  }

  /// A sysctl and an ethtool feature: root's and CAP_NET_ADMIN's.
  func featuresProfile(_ ns: NetworkNamespace) -> String {
    work.write(
      "features.profile",
      """
      [sysctl]
      net.core.somaxconn = 1234
      [[interface]]
      name = "\(ns.a)"
      features = { tx-checksumming = false }
      """)
  }

  /// What featuresProfile touches, read with cat and ethtool.
  func touched(_ ns: NetworkNamespace) -> [String] {
    [ns.cat("/proc/sys/net/core/somaxconn"), ns.run(["ethtool", "-k", ns.a]).stdout]
  }

  func oneLine(_ f: Finished) -> Bool {
    f.stderr.split(separator: "\n").count == 1 && f.stderr.hasPrefix("bpstune: ")
  }

  @Test func anOrdinaryUserReadsAndDiffsButCannotWrite() throws {
    let ns = try NetworkNamespace(gro: true)
    let p = featuresProfile(ns)
    let before = touched(ns)
    // An apply by root first, so that the state directory exists and is root's (0700).
    #expect(ns.bpstune(["apply", p], stateDir: state).status == 0)
    #expect(ns.bpstune(["rollback"], stateDir: state).status == 0)

    let diff = run(ns, as: Self.nobody, ["diff", p])
    #expect(
      diff.status == 1 && diff.stdout.contains("net.core.somaxconn") && diff.stdout.contains("-> 1234"), "\(diff)")
    let verify = run(ns, as: Self.nobody, ["verify", p])
    #expect(verify.status == 1 && verify.stdout.contains("features"), "\(verify)")
    let show = run(ns, as: Self.nobody, ["show", "-i", ns.a])
    #expect(show.status == 0 && show.stdout.contains("net.core.busy_read"), "\(show)")
    let dryRun = run(ns, as: Self.nobody, ["apply", p, "--dry-run"])
    #expect(dryRun.status == 0 && dryRun.stdout.contains("2 to change"), "\(dryRun)")
    // lint and profiles take no state directory: they write nothing.
    #expect(ns.run(Self.nobody + [Run.bpstune, "lint", p]).status == 0)
    #expect(ns.run(Self.nobody + [Run.bpstune, "profiles"]).stdout.contains("hft"))

    let list = run(ns, as: Self.nobody, ["snapshots", "list"])
    #expect(list.status == 2 && list.stderr.contains("Permission denied") && list.stderr.contains("root's"), "\(list)")
    #expect(oneLine(list))

    let apply = run(ns, as: Self.nobody, ["apply", p])
    #expect(apply.status == 2, "\(apply)")
    #expect(apply.stderr.contains("apply needs root (uid 0)") && apply.stderr.contains("CAP_NET_ADMIN"), "\(apply)")
    #expect(apply.stderr.contains("runs as uid 65534") && oneLine(apply), "\(apply)")
    let rollback = run(ns, as: Self.nobody, ["rollback"])
    #expect(rollback.status == 2 && rollback.stderr.contains("rollback needs root (uid 0)"), "\(rollback)")
    #expect(touched(ns) == before)
  }

  @Test func rootWithoutNetAdminIsToldBeforeAnythingIsWritten() throws {
    let ns = try NetworkNamespace(gro: true)
    // The kernel's own refusal, shown by ethtool under the same restriction.
    let refused = ns.run(Self.without("-net_admin") + ["ethtool", "-K", ns.a, "tx", "off"])
    try #require(refused.status != 0, "ethtool -K without CAP_NET_ADMIN: \(refused)")

    let p = featuresProfile(ns)
    let before = touched(ns)
    let apply = run(ns, as: Self.without("-net_admin"), ["apply", p])
    #expect(apply.status == 2 && oneLine(apply), "\(apply)")
    #expect(apply.stderr.contains("apply needs CAP_NET_ADMIN for ethtool settings"), "\(apply)")
    #expect(apply.stderr.contains("this root process lacks it"), "\(apply)")
    #expect(touched(ns) == before)
    let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []
    #expect(snapshots.isEmpty, "no snapshot: \(snapshots)")

    // A rollback of an apply that changed features asks for it too, and changes nothing.
    #expect(ns.bpstune(["apply", p], stateDir: state).status == 0)
    let applied = touched(ns)
    let rollback = run(ns, as: Self.without("-net_admin"), ["rollback"])
    #expect(rollback.status == 2 && rollback.stderr.contains("rollback needs CAP_NET_ADMIN"), "\(rollback)")
    #expect(touched(ns) == applied)
    #expect(ns.bpstune(["rollback"], stateDir: state).status == 0)
    #expect(touched(ns) == before)
  }

  @Test func rootWithoutSysNiceIsToldBeforeTheKthreadIsTouched() throws {
    let ns = try NetworkNamespace(gro: true)
    let p = work.write(
      "kthread.profile",
      """
      [[interface]]
      name = "\(ns.a)"
      [interface.napi]
      threaded = "enabled"
      kthread = { policy = "fifo", priority = 10, cpus = "0" }
      """)
    let before = ns.run([Run.napiDump, ns.a]).stdout
    let apply = run(ns, as: Self.without("-sys_nice"), ["apply", p])
    #expect(apply.status == 2 && oneLine(apply), "\(apply)")
    #expect(apply.stderr.contains("apply needs CAP_SYS_NICE for NAPI kthread scheduling"), "\(apply)")
    #expect(ns.run([Run.napiDump, ns.a]).stdout == before, "threaded is not turned on either")

    // The kernel's own refusal: a NAPI kthread (threaded on by hand) cannot be made SCHED_FIFO
    // by chrt without CAP_SYS_NICE.
    try ns.exec(["sh", "-c", "echo 1 > /sys/class/net/\(ns.a)/threaded"])
    defer { _ = ns.run(["sh", "-c", "echo 0 > /sys/class/net/\(ns.a)/threaded"]) }
    let pid = ns.run([Run.napiDump, ns.a]).stdout.split(separator: "\n")
      .first { $0.hasPrefix("napi ") }.map { String($0.split(separator: " ")[5]) }
    let kthread = try #require(pid.flatMap { Int($0) }, "a NAPI kthread")
    let refused = Run.command(Self.without("-sys_nice") + ["chrt", "-f", "-p", "10", "\(kthread)"])
    #expect(refused.status != 0, "chrt without CAP_SYS_NICE: \(refused)")
  }

  /// Nothing is asked that a profile does not need: root without either capability applies
  /// and rolls back a per-namespace sysctl.
  @Test func aSysctlOnlyProfileNeedsNoCapabilityBeyondRoot() throws {
    let ns = try NetworkNamespace()
    let p = work.write("sysctl.profile", "[sysctl]\nnet.core.somaxconn = 1234\n")
    let before = ns.cat("/proc/sys/net/core/somaxconn")
    let restricted = Self.without("-net_admin,-sys_nice")
    let apply = run(ns, as: restricted, ["apply", p])
    #expect(apply.status == 0, "\(apply)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "1234")
    #expect(run(ns, as: restricted, ["rollback"]).status == 0)
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == before)
  }
}
