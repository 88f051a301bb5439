import Foundation
import TestSupport
import Testing

/// kill -9 at random points of an apply on real netns settings (a per-netns sysctl, RPS, ethtool
/// features and channels, per-NAPI values and a NAPI kthread), then `rollback`: every value is
/// as before, read with cat, ethtool, chrt/taskset and the tests' own netlink reader.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct CrashTests {
  let work = TemporaryDirectory("bpstune-crash")
  var state: String { work.path + "/state" }

  /// Everything the profile touches, read independently; NAPIs by value (ids and pids change).
  func snapshot(_ ns: NetworkNamespace) -> String {
    var lines = ["somaxconn " + ns.cat("/proc/sys/net/core/somaxconn")]
    for q in ["rx-0", "rx-1"] {
      lines.append("\(q) " + ns.cat("/sys/class/net/\(ns.a)/queues/\(q)/rps_cpus"))
    }
    lines.append(ns.run(["ethtool", "-k", ns.a]).stdout)
    lines.append(ns.run(["ethtool", "-l", ns.a]).stdout)
    let dump = ns.run([Run.napiDump, ns.a]).stdout.split(separator: "\n").map(String.init)
    for line in dump where line.hasPrefix("napi ") {
      var words = line.split(separator: " ").map(String.init)
      let pid = words[5]
      words[1] = "-"
      words[5] = pid == "-" ? "-" : "kthread"
      lines.append(words.joined(separator: " "))
      if pid != "-" {
        lines.append(Run.command(["chrt", "-p", pid]).stdout.replacingOccurrences(of: pid, with: "PID"))
        lines.append(Run.command(["taskset", "-pc", pid]).stdout.replacingOccurrences(of: pid, with: "PID"))
      }
    }
    return lines.joined(separator: "\n")
  }

  @Test func killDashNineAtFiftyPointsOfAnApplyThenRollbackRestoresEverything() throws {
    let ns = try NetworkNamespace(gro: true, queues: 2)
    let p = work.write(
      "crash.profile",
      """
      [sysctl]
      net.core.somaxconn = 1234
      [[interface]]
      name = "\(ns.a)"
      rps-cpus = "1"
      features = { tx-checksumming = false }
      [interface.napi]
      threaded = "enabled"
      defer-hard-irqs = 50
      kthread = { policy = "fifo", priority = 10, cpus = "1" }
      """)
    let before = snapshot(ns)
    // How long a whole apply takes here, to spread the kills over it.
    let t0 = Date()
    #expect(ns.bpstune(["apply", p], stateDir: state).status == 0)
    let duration = Date().timeIntervalSince(t0)
    #expect(ns.bpstune(["rollback"], stateDir: state).status == 0)
    try #require(snapshot(ns) == before, "a plain apply and rollback restore everything")

    var outcomes: [String: Int] = [:]
    var seen = Set<String>()
    for trial in 0..<50 {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      // `ip netns exec` execs the command, so the pid is bpstune's own.
      process.arguments = ["ip", "netns", "exec", ns.name, Run.bpstune, "apply", p, "--state-dir", state, "-q"]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      usleep(UInt32(Double.random(in: 0...1.2) * duration * 1_000_000))
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      let killed = process.terminationReason == .uncaughtSignal
      // The newest apply's snapshot: interrupted when the kill came mid-apply.
      let list = ns.bpstune(["snapshots", "list"], stateDir: state).stdout.split(separator: "\n")
      let newest = list.filter { $0.contains("-apply") }.max { $0.prefix(28) < $1.prefix(28) } ?? ""
      let interrupted = newest.contains("interrupted") && !seen.contains(String(newest.prefix(28)))
      seen.insert(String(newest.prefix(28)))
      outcomes[killed ? (interrupted ? "killed mid-apply" : "killed before or after") : "finished", default: 0] += 1
      let rollback = ns.bpstune(["rollback"], stateDir: state)
      #expect(rollback.status == 0, "trial \(trial): \(rollback)")
      let after = snapshot(ns)
      #expect(after == before, "trial \(trial) (\(killed ? "killed" : "finished"), interrupted: \(interrupted))")
      if after != before { break }
    }
    // Every kind of outcome should be seen over 50 trials; the counts go to the test log.
    print("crash trials over a \(Int(duration * 1000)) ms apply: \(outcomes)")
    #expect((outcomes["killed mid-apply"] ?? 0) > 0, "\(outcomes)")
  }
}
