import Foundation
import TestSupport
import Testing

/// Real-kernel tests: bpstune runs inside a fresh network namespace (`ip netns exec`) on a
/// veth pair; every value is checked with `cat` inside the namespace, the kthread with ps,
/// the write order with strace, the lock with flock(1). Every namespace is removed when its
/// test ends, also on failure.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct NetnsTests {
  let work = TemporaryDirectory("bpstune-host")
  var state: String { work.path + "/state" }

  func profile(_ text: String) -> String { work.write("t.profile", text) }

  @Test func applyThenRollbackRestoresSomaxconnAndRPSAndTheSnapshotIsDurableFirst() throws {
    let ns = try NetworkNamespace()
    let rps = "/sys/class/net/\(ns.a)/queues/rx-0/rps_cpus"
    let somaxconn0 = ns.cat("/proc/sys/net/core/somaxconn")
    let rps0 = ns.cat(rps)
    #expect(somaxconn0 == "4096")
    let p = profile(
      """
      [sysctl]
      net.core.somaxconn = 1024
      [[interface]]
      name = "\(ns.a)"
      rps-cpus = "0-1"
      """)
    let log = work.path + "/strace.log"
    let apply = ns.run([
      "strace", "-f", "-qq", "-y", "-o", log, "-e", "trace=openat,rename,renameat,renameat2,fsync,write",
      Run.bpstune,
      "apply", p,
      "--state-dir", state, "--no-color",
    ])
    #expect(apply.status == 0, "\(apply)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "1024")
    #expect(ns.cat(rps) == "3")

    // strace: the snapshot was written (under a random temporary name, created O_EXCL in the
    // snapshot directory's descriptor), fsynced, renamed into place and its directory fsynced
    // before the first kernel file was opened for writing.
    let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").map(String.init)
    let firstKernelWrite = try #require(
      lines.firstIndex {
        $0.contains("openat(") && ($0.contains("\"/proc/sys/") || $0.contains("\"/sys/")) && $0.contains("O_WRONLY")
      })
    let rename = try #require(
      lines.firstIndex { $0.contains("renameat") && $0.contains(".tmp\"") && $0.contains("-apply.json\"") })
    let tmpOpen = try #require(
      lines.firstIndex {
        $0.contains("openat(") && $0.contains("-apply.json.") && $0.contains(".tmp\"") && $0.contains("O_EXCL")
      })
    #expect(tmpOpen < rename && rename < firstKernelWrite)
    #expect(lines[tmpOpen..<rename].contains { $0.contains("fsync(") })
    #expect(lines[rename..<firstKernelWrite].contains { $0.contains("fsync(") && $0.contains("/snapshots>)") })
    // The outcome (complete) is a later version of the same file: its content fsynced before it
    // is renamed over the first, and no second fsync of the directory (SnapshotStore.update).
    let fsyncs = lines.filter { $0.contains("fsync(") }
    #expect(fsyncs.filter { $0.contains("/snapshots>)") }.count == 1, "\(fsyncs)")
    let lastRename = try #require(
      lines.lastIndex { $0.contains("renameat") && $0.contains(".tmp\"") && $0.contains("-apply.json\"") })
    #expect(lastRename > firstKernelWrite)
    let lastTmpSync = lines[..<lastRename].lastIndex { $0.contains("fsync(") && $0.contains(".tmp>)") }
    #expect(lastTmpSync.map { $0 > firstKernelWrite } == true, "\(fsyncs)")
    #expect(fsyncs.count == 3, "\(fsyncs)")

    // The snapshot on disk records both values as they were.
    let snapshots = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")
    #expect(snapshots.count == 1)
    let json = try String(contentsOfFile: state + "/snapshots/" + snapshots[0], encoding: .utf8)
    #expect(json.contains("\"before\" : \"4096\"") && json.contains("\"status\" : \"complete\""))

    // The rollback's own snapshot likewise: created durably (its directory fsynced once)
    // before the first kernel write, its outcome fsynced and renamed after the last.
    let rollbackLog = work.path + "/strace-rollback.log"
    let rollback = ns.run([
      "strace", "-f", "-qq", "-y", "-o", rollbackLog, "-e", "trace=openat,rename,renameat,renameat2,fsync,write",
      Run.bpstune, "rollback", "--state-dir", state, "--no-color",
    ])
    #expect(rollback.status == 0, "\(rollback)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == somaxconn0)
    #expect(ns.cat(rps) == rps0)
    let rollbackLines = (try String(contentsOfFile: rollbackLog, encoding: .utf8)).split(separator: "\n")
      .map(String.init)
    let rollbackFirstWrite = try #require(
      rollbackLines.firstIndex {
        $0.contains("openat(") && ($0.contains("\"/proc/sys/") || $0.contains("\"/sys/")) && $0.contains("O_WRONLY")
      })
    let directorySyncs = rollbackLines.indices.filter {
      rollbackLines[$0].contains("fsync(") && rollbackLines[$0].contains("/snapshots>)")
    }
    #expect(directorySyncs.count == 1 && directorySyncs[0] < rollbackFirstWrite, "\(rollbackLines)")
    let outcome = try #require(
      rollbackLines.lastIndex { $0.contains("renameat") && $0.contains(".tmp\"") && $0.contains("-rollback.json\"") })
    #expect(outcome > rollbackFirstWrite)
    #expect(rollbackLines.filter { $0.contains("fsync(") }.count == 3, "\(rollbackLines)")
    let again = ns.bpstune(["rollback"], stateDir: state)
    #expect(again.status == 0 && again.stdout.contains("nothing to roll back"), "\(again)")
  }

  @Test func deviceAndQueueSettingsOfAVethWithNAPIs() throws {
    let ns = try NetworkNamespace(gro: true, queues: 2)
    let dev = "/sys/class/net/\(ns.a)"
    let files = [
      "threaded", "napi_defer_hard_irqs", "gro_flush_timeout", "queues/rx-0/rps_flow_cnt", "queues/rx-1/rps_flow_cnt",
      "queues/tx-0/xps_cpus", "queues/tx-1/xps_cpus", "queues/rx-0/rps_cpus", "queues/rx-1/rps_cpus",
    ]
    let before = files.map { ns.cat("\(dev)/\($0)") }
    let p = profile(
      """
      [[interface]]
      name = "\(ns.a)"
      threaded = true
      napi-defer-hard-irqs = 100
      gro-flush-timeout = "15us"
      rps-flow-cnt = 100
      xps-cpus = "1"
      rps-cpus = "@online"
      """)
    let diff = ns.bpstune(["diff", p], stateDir: state)
    #expect(diff.status == 1, "\(diff)")
    #expect(diff.stdout.contains("rx-1 rps-flow-cnt") && diff.stdout.contains("0 -> 128"))
    #expect(diff.stdout.contains("the kernel rounds 100 up to 128"))

    let apply = ns.bpstune(["apply", p], stateDir: state)
    #expect(apply.status == 0, "\(apply)")
    #expect(ns.cat("\(dev)/threaded") == "1")
    #expect(ns.cat("\(dev)/napi_defer_hard_irqs") == "100")
    #expect(ns.cat("\(dev)/gro_flush_timeout") == "15000")
    #expect(ns.cat("\(dev)/queues/rx-1/rps_flow_cnt") == "128")
    #expect(ns.cat("\(dev)/queues/tx-1/xps_cpus") == "2")
    #expect(ns.cat("\(dev)/queues/rx-0/rps_cpus") == "3")
    // threaded=1 started NAPI kthreads for the veth.
    #expect(Run.command(["ps", "-e", "-o", "comm="]).stdout.contains("napi/\(ns.a)-"))

    let verify = ns.bpstune(["verify", p, "--format", "json"], stateDir: state)
    #expect(verify.status == 0, "\(verify)")
    let doc = try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any]
    #expect(doc?["schema"] as? Int == 2 && doc?["match"] as? Bool == true)

    let rollback = ns.bpstune(["rollback"], stateDir: state)
    #expect(rollback.status == 0, "\(rollback)")
    #expect(files.map { ns.cat("\(dev)/\($0)") } == before)
    #expect(ns.bpstune(["verify", p], stateDir: state).status == 1)
  }

  @Test func aVethHasNoQueueIRQsAndSaysSo() throws {
    let ns = try NetworkNamespace()
    let p = work.write(
      "irq.profile", "[[interface]]\nname = \"\(ns.a)\"\nirq-affinity = { cpus = \"0\", mode = \"spread\" }\n")
    let diff = ns.bpstune(["diff", p], stateDir: state)
    #expect(
      diff.stdout.contains("! irq-affinity") && diff.stdout.contains("\(ns.a) has no queue IRQs (no MSI vectors"),
      "\(diff)")
    let apply = ns.bpstune(["apply", p], stateDir: state)
    #expect(apply.status == 2, "\(apply)")
  }

  @Test func aValueTheKernelRefusesUndoesEverythingWithExit3() throws {
    // threaded on a veth without GRO has no NAPI: the kernel answers EOPNOTSUPP.
    let ns = try NetworkNamespace(gro: false)
    let p = profile(
      """
      [sysctl]
      net.core.somaxconn = 777
      [[interface]]
      name = "\(ns.a)"
      napi-defer-hard-irqs = 5
      threaded = true
      """)
    let apply = ns.bpstune(["apply", p], stateDir: state)
    #expect(apply.status == 3, "\(apply)")
    #expect(apply.stderr.split(separator: "\n").count == 1)
    #expect(apply.stderr.contains("\(ns.a) threaded: the kernel refused 1: Operation not supported (EOPNOTSUPP)"))
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
    #expect(ns.cat("/sys/class/net/\(ns.a)/napi_defer_hard_irqs") == "0")
    let list = ns.bpstune(["snapshots", "list"], stateDir: state)
    #expect(list.stdout.contains("undone"), "\(list)")
    // With --format json the failure is one error document on standard output, for programs
    // (the Ansible module) that map exit codes to results.
    let json = ns.bpstune(["apply", p, "--format", "json"], stateDir: state)
    #expect(json.status == 3, "\(json)")
    let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    let error = try #require(doc?["error"] as? [String: Any], "\(json)")
    #expect(doc?["command"] as? String == "apply")
    #expect(error["exit_code"] as? Int == 3)
    #expect(error["setting"] as? String == "\(ns.a) threaded")
    #expect(error["undone"] as? Int == 2)
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
  }

  @Test func rollbackRefusesAValueChangedSinceAndForceRestoresIt() throws {
    let ns = try NetworkNamespace()
    let p = profile("[sysctl]\nnet.core.somaxconn = 1024\n")
    #expect(ns.bpstune(["apply", p], stateDir: state).status == 0)
    ns.run(["sh", "-c", "echo 2000 > /proc/sys/net/core/somaxconn"])
    let refused = ns.bpstune(["rollback"], stateDir: state)
    #expect(refused.status == 2, "\(refused)")
    #expect(refused.stderr.contains("net.core.somaxconn is 2000, bpstune set 1024"))
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "2000")
    let forced = ns.bpstune(["rollback", "--force"], stateDir: state)
    #expect(forced.status == 0, "\(forced)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
  }

  @Test func aSecondRunWaitsForTheLockThenFails() throws {
    let ns = try NetworkNamespace()
    let p = profile("[sysctl]\nnet.core.somaxconn = 1024\n")
    #expect(ns.bpstune(["diff", p], stateDir: state).status == 1)
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    chmod(state, 0o700)
    // flock(1) holds the lock as another bpstune run would.
    let holder = Process()
    holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
    holder.arguments = ["-x", state + "/lock", "sleep", "5"]
    try holder.run()
    defer { holder.terminate() }
    // Wait until flock(1) really holds it: `flock -n` fails (exit 1) while it does.
    var held = false
    for _ in 0..<50 where !held {
      held = Run.command(["flock", "-n", state + "/lock", "true"]).status == 1
      if !held { Thread.sleep(forTimeInterval: 0.1) }
    }
    #expect(held)
    let blocked = ns.run([Run.bpstune, "apply", p, "--state-dir", state, "--lock-timeout", "1"])
    #expect(blocked.status == 2, "\(blocked)")
    #expect(blocked.stderr.contains("another bpstune run") && blocked.stderr.contains("waiting up to 1s"))
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
  }

  /// Two applies started at the same moment, each under strace: the kernel files one opens
  /// for writing and the other's never interleave in time, and the second read its "before"
  /// values after the first had finished (its snapshot's before is the first's after).
  @Test func twoAppliesStartedTogetherNeverInterleave() throws {
    let ns = try NetworkNamespace(queues: 2)
    func profileText(_ somaxconn: Int, _ cpus: String) -> String {
      "[sysctl]\nnet.core.somaxconn = \(somaxconn)\nnet.ipv4.tcp_fin_timeout = \(somaxconn / 100)\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"\(cpus)\"\nxps-cpus = \"\(cpus)\"\n"
    }
    let profiles = [work.write("a.profile", profileText(1111, "0")), work.write("b.profile", profileText(2222, "1"))]
    let reset = work.write("reset.profile", profileText(4000, "0-1"))
    for trial in 0..<5 {
      // Each run has something to write, whichever goes first.
      #expect(ns.bpstune(["apply", reset, "-q"], stateDir: state).status == 0)
      var processes: [Process] = []
      for (n, p) in profiles.enumerated() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ns.command([
          "strace", "-f", "-qq", "-ttt", "-o", work.path + "/lock.\(n).log",
          "-e", "trace=openat", Run.bpstune, "apply", p, "--state-dir", state, "-q", "--lock-timeout", "30",
        ])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        processes.append(process)
      }
      for process in processes { try process.run() }
      for process in processes { process.waitUntilExit() }
      #expect(processes.allSatisfy { $0.terminationStatus == 0 }, "trial \(trial): both applies succeed")
      // The times each run opened a kernel file for writing.
      let spans = (0..<2).map { n -> ClosedRange<Double> in
        let log = (try? String(contentsOfFile: work.path + "/lock.\(n).log", encoding: .utf8)) ?? ""
        let times = log.split(separator: "\n").filter {
          ($0.contains("\"/proc/sys/") || $0.contains("\"/sys/")) && ($0.contains("O_WRONLY") || $0.contains("O_RDWR"))
        }.compactMap { Double($0.split(separator: " ")[1]) }
        return (times.min() ?? 0)...(times.max() ?? 0)
      }
      #expect(spans.allSatisfy { $0.lowerBound > 0 }, "trial \(trial): both runs wrote kernel files")
      #expect(!spans[0].overlaps(spans[1]), "trial \(trial): writes interleaved: \(spans)")
      // The later run's snapshot saw the earlier run's values as its "before".
      let names = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots").sorted().suffix(2)
      let somaxconn = try names.map { name -> (before: String, after: String) in
        let data = try Data(contentsOf: URL(fileURLWithPath: state + "/snapshots/" + name))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(json["entries"] as? [[String: Any]])
        let entry = try #require(
          entries.first { ($0["setting"] as? [String: Any])?["key"] as? String == "net.core.somaxconn" })
        return (entry["before"] as? String ?? "", entry["after"] as? String ?? "")
      }
      #expect(somaxconn[1].before == somaxconn[0].after, "trial \(trial): \(somaxconn)")
      let later = spans[0].lowerBound < spans[1].lowerBound ? "2222" : "1111"
      #expect(ns.cat("/proc/sys/net/core/somaxconn") == later, "trial \(trial): the later run's value stays")
    }
    for _ in 0..<15 { _ = ns.bpstune(["rollback", "-q"], stateDir: state) }
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
  }

  @Test func malformedInputChangesNothingAndExits2() throws {
    let ns = try NetworkNamespace()
    let cases = [
      "[sysctl]\nnet.core.somaxconn = 1024\nnet.core.busy_read = \"lots\"\n",
      "[sysctl]\nnet.core.somaxconn = 1024\n[[interface]]\nname = \"nosuchif0\"\nthreaded = true\n",
      "[sysctl]\nnet.core.somaxconn = 1024\n[sysfs]\n\"../etc/hostname\" = \"x\"\n",
      "[sysctl]\nnet.core.somaxconn = 1024\n[[interface]]\nname = \"\(ns.a)\"\nrps-cpus = \"0-63\"\n",
    ]
    for text in cases {
      let r = ns.bpstune(["apply", profile(text)], stateDir: state)
      #expect(r.status == 2, "\(text): \(r)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
      #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
    }
    // busy_read does not exist in a netns: unsupported, refused without --skip-unsupported.
    let unsupported = profile("[sysctl]\nnet.core.somaxconn = 1024\nnet.core.busy_read = 50\n")
    let refused = ns.bpstune(["apply", unsupported], stateDir: state)
    #expect(refused.status == 2 && refused.stderr.contains("net.core.busy_read"), "\(refused)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
    let skipped = ns.bpstune(["apply", unsupported, "--skip-unsupported"], stateDir: state)
    #expect(skipped.status == 0 && skipped.stdout.contains("skipped (unsupported): net.core.busy_read"), "\(skipped)")
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "1024")
    #expect(ns.bpstune(["rollback"], stateDir: state).status == 0)
    #expect(ns.cat("/proc/sys/net/core/somaxconn") == "4096")
    // Command-line mistakes are exit 2 too.
    #expect(ns.bpstune(["apply", unsupported, "--bogus"], stateDir: state).status == 2)
    #expect(ns.bpstune(["diff", unsupported, "--set", "novalue"], stateDir: state).status == 2)
  }
}
