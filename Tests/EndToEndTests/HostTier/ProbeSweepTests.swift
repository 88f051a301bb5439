import Foundation
import TestSupport
import Testing

/// `bpstune probe sweep` on a real path: the built binary in the client namespace of a veth
/// pair, the probe server in the other, every change on the client's veth. What each candidate
/// set is read with cat while the sweep runs, and the host's end state after it; the snapshots
/// with `snapshots list`; the written profile with lint and diff. Nothing outside the two
/// namespaces changes, and each run has a /run (lock) and state directory of its own.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"), .serialized)
struct ProbeSweepTests {
  let work = TemporaryDirectory("bpstune-sweep")

  func startServer(_ pair: NamespacePair) throws -> Background {
    let server = try Background([
      "ip", "netns", "exec", pair.server.name, Run.bpstune, "probe", "server", "--bind", "\(pair.serverAddress):7878",
    ])
    let up = server.wait(seconds: 10) { server.stdout.contains("listening on") }
    try #require(up, "server did not start: \(server.stdout) \(server.stderr)")
    return server
  }

  /// The swept profile: the client veth's hard-IRQ deferral and GRO flush timeout, both 0.
  var profile: String {
    work.write(
      "veth.profile",
      """
      [profile]
      description = "veth: interrupts only"
      [[interface]]
      name = "${iface}"
      napi-defer-hard-irqs = 0
      gro-flush-timeout = 0
      """)
  }

  /// The two interface settings with two values each: four candidates, the first of them the
  /// profile as written.
  static let varies = ["--vary", "napi-defer-hard-irqs=0,100", "--vary", "gro-flush-timeout=0,15us"]

  /// `probe sweep` of the profile against the pair's server, short: 0.1 s warm-up, 0.5 s
  /// measured, 0.1 s settle, one closed-loop workload, two repeats.
  func sweep(_ pair: NamespacePair, _ extra: [String], varies: [String] = varies) -> [String] {
    [Run.bpstune, "probe", "sweep", profile] + varies + [
      "--peer", "\(pair.serverAddress):7878", "-i", pair.clientIF, "--repeat", "2", "--duration", "0.5", "--warmup",
      "0.1", "--settle", "0.1", "--workload", "0:0", "--busy-poll", "50", "--no-color",
    ] + extra
  }

  func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
  }

  /// The snapshots of a state directory, from `snapshots list --format json`.
  func snapshots(_ pair: NamespacePair, _ state: String) -> [[String: Any]] {
    let listed = pair.client.bpstune(["snapshots", "list", "--format", "json"], stateDir: state)
    return json(listed.stdout)["snapshots"] as? [[String: Any]] ?? []
  }

  /// The files in a state directory's snapshots/ (none when it was never made).
  func snapshotFiles(_ state: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []
  }

  /// The order the candidates ran in, from the progress lines ("repeat 1/2, candidate 3/4: ..."),
  /// 0-based per repeat.
  func ranOrder(_ stderr: String) -> [[Int]] {
    var orders: [[Int]] = []
    for line in stderr.split(separator: "\n") where line.hasPrefix("probe sweep: repeat ") {
      let fields = line.dropFirst("probe sweep: repeat ".count).split(whereSeparator: { " /,:".contains($0) })
      guard fields.count >= 5, let r = Int(fields[0]), let c = Int(fields[3]) else { continue }
      while orders.count < r { orders.append([]) }
      orders[r - 1].append(c - 1)
    }
    return orders
  }

  /// One line on stderr and exit 2, containing `fragment`.
  @Test func everyCandidateIsAppliedMeasuredAndRolledBackAndTheChoiceIsWrittenAsAProfile() throws {
    let pair = try NamespacePair()
    let server = try startServer(pair)
    defer { server.stop() }
    let sys = "/sys/class/net/\(pair.clientIF)/"
    // A value none of the candidates has, set by hand: the sweep must end with it.
    try pair.client.exec(["sh", "-c", "echo 7 > \(sys)napi_defer_hard_irqs"])
    // The candidates' values, read with cat every 20 ms while the sweep runs.
    let watcher = try Background(
      pair.client.command([
        "sh", "-c",
        "while :; do echo \"$(cat \(sys)napi_defer_hard_irqs) $(cat \(sys)gro_flush_timeout)\"; sleep 0.02; done",
      ]))
    let state = work.path + "/state"
    let svg = work.path + "/sweep.svg"
    let written = work.path + "/chosen.profile"
    let run = pair.client.run(
      sweep(pair, ["--seed", "7", "--format", "json", "--plot", svg, "--write", written, "--state-dir", state]))
    let seen = Set(watcher.stop(SIGKILL).stdout.split(separator: "\n").map(String.init))
    #expect(run.status == 0, "\(run)")

    // Each candidate's pair of values was on the veth while the sweep ran (15us is 15000 ns).
    for values in ["0 0", "0 15000", "100 0", "100 15000"] {
      #expect(seen.contains(values), "never saw \(values): \(seen.sorted())")
    }
    // The host as it began, read with cat.
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")
    #expect(pair.client.cat(sys + "gro_flush_timeout") == "0")

    // The JSON: four candidates (the profile as written is the first combination, not added),
    // a cell each for the one workload over both repeats, the orders and the decision.
    let doc = json(run.stdout)
    #expect(doc["command"] as? String == "probe sweep" && doc["seed"] as? String == "7", "\(run.stdout)")
    #expect(doc["repeats"] as? Int == 2 && doc["objective"] as? String == "p99")
    let candidates = try #require(doc["candidates"] as? [[String: Any]], "\(run.stdout)")
    #expect(candidates.count == 4)
    #expect(candidates.map { $0["baseline"] as? Bool } == [true, false, false, false])
    #expect(
      candidates.map { $0["values"] as? [String: String] } == [
        ["napi-defer-hard-irqs": "0", "gro-flush-timeout": "0"],
        ["napi-defer-hard-irqs": "0", "gro-flush-timeout": "15us"],
        ["napi-defer-hard-irqs": "100", "gro-flush-timeout": "0"],
        ["napi-defer-hard-irqs": "100", "gro-flush-timeout": "15us"],
      ])
    for candidate in candidates {
      let cells = candidate["cells"] as? [[String: Any]] ?? []
      #expect(cells.count == 1, "\(candidate)")
      for cell in cells {
        #expect(cell["repeats"] as? Int == 2, "\(cell)")
        let o = cell["objective_us"] as? [String: Double] ?? [:]
        #expect(o["low"] != nil && o["low"]! > 0 && o["low"]! <= o["median"]! && o["median"]! <= o["high"]!)
        #expect((cell["cpu_us_per_rt"] as? Double ?? 0) > 0, "\(cell)")
        #expect(cell["p50_us"] is Double && cell["p99_us"] is Double && cell["net_rx_per_rt"] is Double)
      }
    }
    let orders = try #require(doc["orders"] as? [[Int]])
    #expect(orders == [[1, 2, 0, 3], [0, 2, 1, 3]], "seed 7's order, as SplitMix64 gives it")
    #expect(ranOrder(run.stderr) == orders, "\(run.stderr)")
    #expect(run.stderr.contains("probe sweep: 4 candidates x 2 repeat(s), seed 7"), "\(run.stderr)")
    let decision = try #require(doc["decision"] as? [String: Any], "\(run.stdout)")
    let chosen = try #require(decision["chosen"] as? Int)
    #expect((0..<4).contains(chosen))
    let together = decision["indistinguishable"] as? [[Int]] ?? []
    #expect(together.count == 1 && together[0].contains(chosen), "\(decision)")
    let best = decision["best"] as? [Int] ?? []
    #expect(best.count == 1 && together[0].contains(best[0]), "\(decision)")
    #expect(decision["baseline_holds"] as? Bool == together[0].contains(0))

    // Every candidate run was an apply, rolled back, in the order the sweep ran them.
    let list = snapshots(pair, state)
    let applies = list.filter { $0["operation"] as? String == "apply" }
    let rollbacks = list.filter { $0["operation"] as? String == "rollback" }
    #expect(applies.count == 8 && rollbacks.count == 8, "\(list)")
    #expect(applies.allSatisfy { $0["state"] as? String == "rolled-back" }, "\(applies)")
    #expect(Set(rollbacks.compactMap { $0["restores"] as? String }) == Set(applies.compactMap { $0["id"] as? String }))
    let labels = candidates.map { ($0["label"] as? String ?? "").replacingOccurrences(of: " (as written)", with: "") }
    // Named by the profile and the values, without spaces: "veth@napi-defer-hard-irqs=0,gro-flush-timeout=15us".
    let names = candidates.map { c -> String in
      let values = c["values"] as? [String: String] ?? [:]
      return
        "veth@napi-defer-hard-irqs=\(values["napi-defer-hard-irqs"] ?? "?"),gro-flush-timeout=\(values["gro-flush-timeout"] ?? "?")"
    }
    #expect(applies.map { $0["profile"] as? String } == orders.flatMap { $0 }.map { names[$0] }, "\(applies)")

    // The chart: a point per candidate.
    let chart = try String(contentsOfFile: svg, encoding: .utf8)
    #expect(chart.hasPrefix("<svg") && chart.components(separatedBy: "<circle").count - 1 == 4)

    // The profile written: the chosen values over the swept profile, citing the measurement;
    // it lints clean and diffs at once (without -i: it sets ${iface} itself).
    let text = try String(contentsOfFile: written, encoding: .utf8)
    let values = candidates[chosen]["values"] as? [String: String] ?? [:]
    #expect(text.hasPrefix("# Chosen by measurement: `bpstune probe sweep \(profile) --vary"), "\(text)")
    #expect(text.contains("include = [\"\(profile)\"]") && text.contains("iface = \"\(pair.clientIF)\""), "\(text)")
    #expect(text.contains("napi-defer-hard-irqs = \(values["napi-defer-hard-irqs"] ?? "?")\n"), "\(text)")
    let flush = values["gro-flush-timeout"] == "15us" ? "\"15us\"" : "0"
    #expect(text.contains("gro-flush-timeout = \(flush)\n"), "\(text)")
    let lint = Run.command([Run.bpstune, "lint", written, "--no-color"])
    #expect(lint.status == 0 && lint.stdout.hasPrefix("ok "), "\(lint)")
    let diff = pair.client.bpstune(["diff", written], stateDir: state)
    #expect(diff.status == 0 || diff.status == 1, "\(diff)")
    #expect(
      diff.stdout.contains("interface \(pair.clientIF)") && diff.stdout.contains("napi-defer-hard-irqs"), "\(diff)")

    // --seed 7 again: the same order, run and reported; text this time, every candidate a row.
    let again = pair.client.run(sweep(pair, ["--seed", "7", "--state-dir", work.path + "/state2"]))
    #expect(again.status == 0, "\(again)")
    #expect(ranOrder(again.stderr) == orders, "\(again.stderr)")
    let table = again.stdout
    #expect(table.hasPrefix("probe sweep veth: objective p99, 2 repeat(s), seed 7 (--seed 7 replays the order)"))
    #expect(table.contains("| candidate | closed loop + 0 µs delay |"), "\(table)")
    for label in labels {
      let row = table.split(separator: "\n").first { $0.hasPrefix("| \(label)") }
      #expect(
        row.map { $0.contains("p99 ") && $0.contains("cpu ") && !$0.contains("not measured") } == true, "\(table)")
    }
    #expect(table.contains("| napi-defer-hard-irqs=0 gro-flush-timeout=0 (as written)"), "\(table)")
    #expect(table.components(separatedBy: "**chosen**").count - 1 == 1, "\(table)")
    #expect(table.contains("\nbest under closed loop + 0 µs delay: ") && table.contains("\nchosen: "), "\(table)")
    #expect(table.contains("covers the median with 50% only"), "\(table)")
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")

    // Without --seed: one drawn and printed, which replays its order.
    let drawn = pair.client.run(
      sweep(
        pair, ["--format", "json", "-q", "--state-dir", work.path + "/state3"],
        varies: ["--vary", "napi-defer-hard-irqs=0,100,200"]))
    #expect(drawn.status == 0, "\(drawn)")
    let seed = try #require(json(drawn.stdout)["seed"] as? String, "\(drawn)")
    let replay = pair.client.run(
      sweep(
        pair, ["--seed", seed, "--state-dir", work.path + "/state4"],
        varies: ["--vary", "napi-defer-hard-irqs=0,100,200"]))
    #expect(
      replay.status == 0 && replay.stdout.contains("seed \(seed) (--seed \(seed) replays the order)"), "\(replay)")
    #expect(ranOrder(replay.stderr) == json(drawn.stdout)["orders"] as? [[Int]], "\(replay.stderr)")
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")
  }

  /// A threaded NAPI has a kthread (napi-get's pid) whose CPU counts with the client's; without
  /// one the JSON has no kthread figure.
  @Test func theCPUOfTheNAPIKthreadIsCountedWhereThereIsOne() throws {
    let pair = try NamespacePair()
    let server = try startServer(pair)
    defer { server.stop() }
    let sys = "/sys/class/net/\(pair.clientIF)/"
    let threaded = work.write(
      "threaded.profile", "[[interface]]\nname = \"${iface}\"\nthreaded = 0\n")
    let run = pair.client.run(
      [Run.bpstune, "probe", "sweep", threaded, "--vary", "threaded=0,1", "--peer", "\(pair.serverAddress):7878"]
        + ["-i", pair.clientIF, "--repeat", "1", "--duration", "0.5", "--warmup", "0.1", "--settle", "0.1"]
        + ["--workload", "0:0", "--seed", "1", "--format", "json", "-q", "--state-dir", work.path + "/state"])
    #expect(run.status == 0, "\(run)")
    let candidates = json(run.stdout)["candidates"] as? [[String: Any]] ?? []
    #expect(candidates.map { $0["values"] as? [String: String] } == [["threaded": "0"], ["threaded": "1"]])
    let cells = candidates.map { ($0["cells"] as? [[String: Any]])?.first ?? [:] }
    #expect(cells.count == 2 && cells[0]["kthread_cpu_us_per_rt"] == nil, "\(run.stdout)")
    #expect(cells.count == 2 && (cells[1]["kthread_cpu_us_per_rt"] as? Double).map { $0 > 0 } == true, "\(run.stdout)")
    #expect(pair.client.cat(sys + "threaded") == "0")
  }

  /// Once planned, values are compared by meaning: the profile's gro-flush-timeout written
  /// "15us" is the --vary value 15000 (ns), measured once, as the profile as written; 15us and
  /// 15000 in one --vary are refused before any change.
  @Test func aValueWrittenAnotherWayIsTheProfileAsWritten() throws {
    let pair = try NamespacePair()
    let server = try startServer(pair)
    defer { server.stop() }
    let sys = "/sys/class/net/\(pair.clientIF)/"
    let units = work.write("units.profile", "[[interface]]\nname = \"${iface}\"\ngro-flush-timeout = \"15us\"\n")
    func sweep(_ values: String, _ state: String) -> Finished {
      pair.client.run(
        [Run.bpstune, "probe", "sweep", units, "--vary", "gro-flush-timeout=\(values)", "--peer"]
          + ["\(pair.serverAddress):7878", "-i", pair.clientIF, "--repeat", "1", "--duration", "0.3", "--warmup"]
          + ["0.1", "--settle", "0.1", "--workload", "0:0", "--seed", "1", "--format", "json", "--state-dir", state])
    }
    let run = sweep("0,15000", work.path + "/state")
    #expect(run.status == 0, "\(run)")
    let candidates = json(run.stdout)["candidates"] as? [[String: Any]] ?? []
    #expect(
      candidates.map { $0["values"] as? [String: String] } == [
        ["gro-flush-timeout": "0"], ["gro-flush-timeout": "15000"],
      ])
    #expect(candidates.map { $0["baseline"] as? Bool } == [false, true], "\(run.stdout)")
    #expect(candidates.last?["label"] as? String == "gro-flush-timeout=15000 (as written)", "\(run.stdout)")
    #expect(run.stderr.contains("probe sweep: 2 candidates x 1 repeat(s), seed 1"), "\(run.stderr)")
    #expect(pair.client.cat(sys + "gro_flush_timeout") == "0")

    let state = work.path + "/refused"
    expectOneLineError(
      sweep("15us,15000", state),
      "--vary gro-flush-timeout: 15us and 15000 are the same value on this host; give it once")
    #expect(snapshotFiles(state).isEmpty, "\(snapshotFiles(state))")
  }

  /// Every candidate is planned once before any change, and each run of it once more, by its
  /// apply, right before the snapshot (as `apply` plans, on the host the previous rollback left):
  /// not a third time in between. Counted with strace: the planner lists /sys/class/net once
  /// per plan.
  @Test func eachRunIsPlannedOnceByItsApply() throws {
    let pair = try NamespacePair()
    let server = try startServer(pair)
    defer { server.stop() }
    let sys = "/sys/class/net/\(pair.clientIF)/"
    // Neither candidate's value: each run changes something (an apply and a rollback).
    try pair.client.exec(["sh", "-c", "echo 7 > \(sys)napi_defer_hard_irqs"])
    let trace = work.path + "/sweep.trace"
    let run = pair.client.run(
      ["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace]
        + sweep(
          pair, ["--seed", "7", "--duration", "0.2", "-q", "--state-dir", work.path + "/state"],
          varies: ["--vary", "napi-defer-hard-irqs=0,100"]))
    #expect(run.status == 0, "\(run)")
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")
    let opens = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
    let plans = opens.filter { $0.contains("\"/sys/class/net\"") }.count
    // 2 candidates planned first, then 2 candidates x 2 repeats, each planned by its apply.
    #expect(plans == 2 + 2 * 2, "\(plans) listings of /sys/class/net")
  }

  @Test func whatCannotBeSweptIsRefusedBeforeAnyChange() throws {
    let pair = try NamespacePair()
    let sys = "/sys/class/net/\(pair.clientIF)/"
    try pair.client.exec(["sh", "-c", "echo 7 > \(sys)napi_defer_hard_irqs"])
    let state = work.path + "/state"
    // No server: nothing below gets as far as measuring.
    func run(_ extra: [String], varies: [String] = Self.varies) -> Finished {
      pair.client.run(sweep(pair, extra + ["--state-dir", state], varies: varies))
    }
    // --write to a file that exists: before anything is applied or measured.
    let existing = work.write("existing.profile", "# mine\n")
    expectOneLineError(run(["--write", existing]), "--write \(existing): exists; nothing was measured")
    // A directory that is not there: refused before anything is measured, not after the sweep.
    let nowhere = work.path + "/nosuch/chosen.profile"
    expectOneLineError(run(["--write", nowhere]), "--write \(nowhere): \(work.path)/nosuch is not a directory")
    expectOneLineError(
      run(["--plot", existing + "/x.svg"]), "--plot \(existing)/x.svg: \(existing) is not a directory")
    #expect(try String(contentsOfFile: existing, encoding: .utf8) == "# mine\n")
    // Candidates this host cannot take: a veth has no rings, and no such sysctl exists.
    expectOneLineError(run([], varies: ["--vary", "ring.rx=999999"]), "this host cannot take")
    let sysctl = run([], varies: ["--vary", "napi-defer-hard-irqs=0,100", "--vary", "net.core.nosuch=1,2"])
    expectOneLineError(sysctl, "net.core.nosuch: no such sysctl")
    #expect(sysctl.stderr.contains("nothing was changed"), "\(sysctl)")
    // --vary errors, each one line.
    for (vary, fragment) in [
      ("napi-defer-hard-irqs", "--vary napi-defer-hard-irqs: expected SETTING=V1,V2,..."),
      ("napi-defer-hard-irqs=1,,2", "an empty value"),
      ("napi-defer-hard-irqs=1,1", "a value is given twice"),
      ("napi-defer-hard-irq=1,2", "(did you mean napi-defer-hard-irqs?)"),
      ("napi.nosuch=1", "not a per-NAPI key"),
      ("napi-defer-hard-irqs=" + (0...16).map(String.init).joined(separator: ","), "17 values; at most 16"),
    ] {
      expectOneLineError(run([], varies: ["--vary", vary]), fragment)
    }
    expectOneLineError(
      run([], varies: ["--vary", "napi-defer-hard-irqs=0,1", "--vary", "napi-defer-hard-irqs=2"]), "given twice")
    let many = (0..<9).map(String.init).joined(separator: ",")
    expectOneLineError(
      run([], varies: ["--vary", "napi-defer-hard-irqs=" + many, "--vary", "gro-flush-timeout=" + many]),
      "9 x 9 = 81 candidates; at most 64")
    expectOneLineError(run([], varies: []), "give at least one --vary")
    expectOneLineError(run(["--repeat", "51"]), "--repeat")
    expectOneLineError(run(["--objective", "p42"]), "--objective p42")
    // Nothing was applied: no snapshot, the value set by hand still there.
    #expect(snapshotFiles(state).isEmpty, "\(snapshotFiles(state))")
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")
  }

  /// A sweep with seed 7 and long measurements (so that a signal comes while a candidate is
  /// applied and measured), on the client's veth with its deferral set to 7 by hand first;
  /// returned once it measures its first candidate.
  func measuringSweep(_ pair: NamespacePair, state: String, duration: String) throws -> Background {
    try pair.client.exec(["sh", "-c", "echo 7 > /sys/class/net/\(pair.clientIF)/napi_defer_hard_irqs"])
    let running = try Background(
      pair.client.command(sweep(pair, ["--duration", duration, "--seed", "7", "--state-dir", state])))
    let measuring = running.wait(seconds: 30) { running.stderr.contains("probe sweep:   measuring ") }
    #expect(measuring, "\(running.stderr)")
    usleep(300_000)
    return running
  }

  @Test func ctrlCRollsBackTheCandidateAppliedAndExits3() throws {
    let pair = try NamespacePair()
    let server = try startServer(pair)
    defer { server.stop() }
    let sys = "/sys/class/net/\(pair.clientIF)/"
    let state = work.path + "/state"
    let running = try measuringSweep(pair, state: state, duration: "20")
    // Seed 7 runs candidate 2 first (deferral 0, flush 15us), and it is on the veth now.
    #expect(pair.client.cat(sys + "gro_flush_timeout") == "15000")
    let ended = running.stop(SIGINT)
    // As compare: the candidate applied is rolled back, exit 3, what was measured shown.
    #expect(ended.status == 3, "\(ended)")
    // One line naming the candidate (as its snapshot does) and the reason, once.
    let line =
      "probe sweep: candidate veth@napi-defer-hard-irqs=0,gro-flush-timeout=15us: interrupted; undid 2 change(s), "
      + "the host is as before"
    #expect(ended.stderr.hasSuffix("bpstune: \(line)\n"), "\(ended)")
    #expect(!ended.stderr.contains("probe compare"), "\(ended)")
    #expect(ended.stdout.contains("| candidate |") && ended.stdout.contains("\nincomplete: \(line)"), "\(ended)")
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")
    #expect(pair.client.cat(sys + "gro_flush_timeout") == "0")
    let list = snapshots(pair, state)
    #expect(list.count == 2 && list.first?["state"] as? String == "rolled-back", "\(list)")
  }

  @Test func aSweepKilledWithSIGKILLIsUndoneByAPlainRollback() throws {
    let pair = try NamespacePair()
    let server = try startServer(pair)
    defer { server.stop() }
    let sys = "/sys/class/net/\(pair.clientIF)/"
    let state = work.path + "/state"
    let running = try measuringSweep(pair, state: state, duration: "30")
    running.stop(SIGKILL)
    // The candidate seed 7 runs first is left applied.
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "0")
    #expect(pair.client.cat(sys + "gro_flush_timeout") == "15000")
    let rollback = pair.client.bpstune(["rollback"], stateDir: state)
    #expect(rollback.status == 0, "\(rollback)")
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")
    #expect(pair.client.cat(sys + "gro_flush_timeout") == "0")
    // And the next sweep runs as usual on the same state.
    let next = pair.client.run(
      sweep(pair, ["-q", "--state-dir", state], varies: ["--vary", "gro-flush-timeout=0,20us"]))
    #expect(next.status == 0, "\(next)")
    #expect(pair.client.cat(sys + "napi_defer_hard_irqs") == "7")
  }
}
