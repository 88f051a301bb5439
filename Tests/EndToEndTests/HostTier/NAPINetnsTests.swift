import Foundation
import TestSupport
import Testing

/// Per-NAPI settings and NAPI kthreads on a real kernel: a veth pair with GRO on (which gives
/// it NAPIs) in a fresh network namespace. Every value is checked with the tests' own netlink
/// reader (Tests/Tools/napi-dump.c, raw sockets, no libnl) and with chrt and taskset.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct NAPINetnsTests {
  let work = TemporaryDirectory("bpstune-napi")
  var state: String { work.path + "/state" }

  func profile(_ text: String) -> String { work.write("t.profile", text) }

  /// napi-dump's lines for the interface: "queue rx 0 napi -", "napi 459 irq - pid - ...".
  func dump(_ ns: NetworkNamespace, _ interface: String) -> [String] {
    let f = ns.run([Run.napiDump, interface])
    #expect(f.status == 0, "\(f)")
    return f.stdout.split(separator: "\n").map(String.init)
  }

  /// The NAPI lines, by ascending id, as field -> value.
  func napis(_ lines: [String]) -> [[String: String]] {
    lines.filter { $0.hasPrefix("napi ") }.map { line in
      let words = line.split(separator: " ").map(String.init)
      var fields: [String: String] = [:]
      for i in stride(from: 0, to: words.count - 1, by: 2) { fields[words[i]] = words[i + 1] }
      return fields
    }.sorted { Int($0["napi"]!)! < Int($1["napi"]!)! }
  }

  static var kernelBelow619: Bool {
    let release = Run.command(["uname", "-r"]).stdout.split(separator: ".").compactMap {
      Int($0.prefix { $0.isNumber })
    }
    return release.count >= 2 && (release[0], release[1]) < (6, 19)
  }

  @Test func perNAPISettingsAndAFIFOKthreadApplyAndRollBackExactly() throws {
    let ns = try NetworkNamespace(gro: true, queues: 2)
    let before = dump(ns, ns.a)
    let napis0 = napis(before)
    try #require(napis0.count == 2, "a veth with GRO on and 2 queues has 2 NAPIs: \(before)")
    #expect(napis0.allSatisfy { $0["pid"] == "-" && $0["threaded"] == "0" })
    let p = profile(
      """
      [[interface]]
      name = "\(ns.a)"
      [interface.napi]
      queues = [1]
      threaded = "enabled"
      defer-hard-irqs = 7
      gro-flush-timeout = "20us"
      irq-suspend-timeout = 1000
      kthread = { policy = "fifo", priority = 50, cpus = "1" }
      """)
    let apply = ns.bpstune(["apply", p], stateDir: state)
    #expect(apply.status == 0, "\(apply)")

    let napis1 = napis(dump(ns, ns.a))
    // veth does not link queues to NAPIs; rx-1 is its second NAPI by id.
    #expect(napis1[0] == napis0[0], "rx-0's NAPI is not touched")
    let served = napis1[1]
    #expect(served["threaded"] == "1" && served["defer-hard-irqs"] == "7", "\(served)")
    #expect(served["gro-flush-timeout"] == "20000" && served["irq-suspend-timeout"] == "1000", "\(served)")
    let pid = try #require(served["pid"].flatMap(Int.init), "a threaded NAPI has a kthread: \(served)")
    let chrt = Run.command(["chrt", "-p", "\(pid)"]).stdout
    #expect(chrt.contains("SCHED_FIFO") && chrt.contains("priority: 50"), "\(chrt)")
    #expect(Run.command(["taskset", "-pc", "\(pid)"]).stdout.contains("list: 1"))
    #expect((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("napi/\(ns.a)-") == true)

    let verify = ns.bpstune(["verify", p], stateDir: state)
    #expect(verify.status == 0, "\(verify)")
    let show = ns.bpstune(["show", "-i", ns.a], stateDir: state)
    let chain = "rx-1 napi"
    let line = show.stdout.split(separator: "\n").first { $0.contains(chain) }.map(String.init) ?? ""
    #expect(
      line.contains("NAPI \(served["napi"]!) -> no IRQ -> napi/\(ns.a)-\(served["napi"]!) pid \(pid) fifo 50 CPUs 1"),
      "\(show)")
    #expect(line.contains("threaded enabled, defer-hard-irqs 7, gro-flush-timeout 20000, irq-suspend-timeout 1000"))

    let rollback = ns.bpstune(["rollback"], stateDir: state)
    #expect(rollback.status == 0, "\(rollback)")
    #expect(dump(ns, ns.a) == before)
    #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"), "the kthread ended with threaded off")
  }

  @Test func switchingThreadedOffAndRollingBackGivesTheNewKthreadItsScheduling() throws {
    let ns = try NetworkNamespace(gro: true)
    let before = dump(ns, ns.a)
    let on = profile(
      "[[interface]]\nname = \"\(ns.a)\"\nnapi = { threaded = \"enabled\", kthread = { policy = \"rr\", priority = 20, cpus = \"0\" } }"
    )
    #expect(ns.bpstune(["apply", on], stateDir: state).status == 0)
    let first = try #require(napis(dump(ns, ns.a)).first?["pid"].flatMap(Int.init))
    let off = work.write("off.profile", "[[interface]]\nname = \"\(ns.a)\"\nnapi = { threaded = \"disabled\" }")
    let apply = ns.bpstune(["apply", off], stateDir: state)
    #expect(apply.status == 0, "\(apply)")
    #expect(napis(dump(ns, ns.a)).first?["pid"] == "-")
    #expect(ns.bpstune(["rollback"], stateDir: state).status == 0)
    let second = try #require(napis(dump(ns, ns.a)).first?["pid"].flatMap(Int.init))
    #expect(second != first, "threaded on again makes a new kthread")
    let chrt = Run.command(["chrt", "-p", "\(second)"]).stdout
    #expect(chrt.contains("SCHED_RR") && chrt.contains("priority: 20"), "\(chrt)")
    #expect(Run.command(["taskset", "-pc", "\(second)"]).stdout.contains("list: 0"))
    #expect(ns.bpstune(["rollback"], stateDir: state).status == 0)
    #expect(dump(ns, ns.a) == before)
  }

  @Test(.enabled(if: NAPINetnsTests.kernelBelow619, "busy-poll exists from Linux 6.19"))
  func busyPollIsReportedAsNeeding619AndNothingChanges() throws {
    // The kernel's own policy for napi-set says threaded takes at most 1 here.
    let ops = Run.command([Run.napiDump, "--ops"]).stdout
    #expect(ops.contains("attr 8 max 1"), "\(ops)")
    let ns = try NetworkNamespace(gro: true)
    let before = dump(ns, ns.a)
    let p = profile(
      """
      [[interface]]
      name = "\(ns.a)"
      [interface.napi]
      threaded = "busy-poll"
      defer-hard-irqs = 100
      kthread = { policy = "fifo", priority = 50, cpus = "1" }
      """)
    let diff = ns.bpstune(["diff", p], stateDir: state)
    #expect(
      diff.stdout.contains("! rx-0 threaded") && diff.stdout.contains("needs Linux 6.19+ (threaded busy-poll)"),
      "\(diff)")
    let apply = ns.bpstune(["apply", p], stateDir: state)
    #expect(apply.status == 2 && apply.stderr.contains("needs Linux 6.19+"), "\(apply)")
    #expect(dump(ns, ns.a) == before)
    let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []
    #expect(snapshots.isEmpty, "no snapshot: nothing was applied")
  }

  /// Only a kernel without busy-poll refuses a value bpstune itself lets through; from 6.19 the
  /// test is reported as skipped rather than checking bpstune's own validation instead.
  @Test(.enabled(if: NAPINetnsTests.kernelBelow619, "busy-poll is the value refused by netlink before 6.19"))
  func theKernelsExtendedAckReachesTheUser() throws {
    let ns = try NetworkNamespace(gro: true)
    let p = profile("[[interface]]\nname = \"\(ns.a)\"\nnapi = { threaded = \"enabled\" }")
    #expect(ns.bpstune(["apply", p], stateDir: state).status == 0)
    // Edit the snapshot so that rollback asks for a value this kernel refuses (busy-poll on a
    // kernel without it); the refusal must carry the kernel's own words.
    let dir = state + "/snapshots"
    let file =
      dir + "/" + (try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasSuffix("apply.json") }!)
    let text = try String(contentsOfFile: file, encoding: .utf8)
    try text.replacingOccurrences(of: "\"before\" : \"disabled\"", with: "\"before\" : \"busy-poll\"")
      .write(toFile: file, atomically: false, encoding: .utf8)
    let rollback = ns.bpstune(["rollback"], stateDir: state)
    #expect(rollback.status == 3, "\(rollback)")
    #expect(
      rollback.stderr.contains("rx-0 threaded") && rollback.stderr.contains("integer out of range"), "\(rollback)")
    #expect(napis(dump(ns, ns.a)).first?["threaded"] == "1", "a failed rollback leaves the host as it was")
  }
}
