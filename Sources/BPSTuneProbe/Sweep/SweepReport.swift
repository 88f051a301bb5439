import BPSTuneCore
import BPSTuneKernel

/// What a sweep measured and decided: per candidate and workload the objective's median over
/// the repeats with its interval, p50 and p99, CPU per round trip (client, and the NAPI
/// kthreads where there are any) and the proof counters per round trip; the decision; as a
/// table, JSON (schema 1), an SVG and the profile `--write` writes.
package struct SweepReport: Sendable {
  package enum Objective: String, Sendable, CaseIterable {
    case p50, p99
    case p999 = "p99.9"
    package var percentile: Double { self == .p50 ? 50 : self == .p99 ? 99 : 99.9 }
  }

  /// One candidate under one workload, over its repeats.
  package struct Cell: Sendable {
    package var stats: SweepStatistics.Cell
    package var p50: Double
    package var p99: Double
    package var queueIRQsPerRoundTrip: Double?
    package var busyPollRxPerRoundTrip: Double?
    package var netRxPerRoundTrip: Double?
    package var repeats: Int
  }

  package var plan: SweepPlan
  package var workloads: [ProbeCompare.Workload]
  package var objective: Objective
  package var repeats: Int
  package var seed: UInt64
  package var orders: [[Int]]
  /// `cells[candidate][workload]`; nil for a candidate not measured in every workload.
  package var cells: [[Cell]?]
  package var decision: SweepStatistics.Decision?
  package var incomplete: String?

  package init(
    plan: SweepPlan, runs: [ProbeSweep.Run], workloads: [ProbeCompare.Workload], objective: Objective, repeats: Int,
    seed: UInt64, incomplete: String?
  ) {
    self.plan = plan
    self.workloads = workloads
    self.objective = objective
    self.repeats = repeats
    self.seed = seed
    self.orders = ProbeSweep.orders(candidates: plan.candidates.count, repeats: repeats, seed: seed)
    self.incomplete = incomplete
    var cells: [[Cell]?] = []
    for c in plan.candidates.indices {
      let mine = runs.filter { $0.candidate == c && $0.results.count == workloads.count }
      guard !mine.isEmpty else {
        cells.append(nil)
        continue
      }
      cells.append(
        workloads.indices.map { w in
          let results = mine.map { $0.results[w] }
          func perRT(_ value: (ProbeResult) -> UInt64?) -> Double? {
            let v = results.compactMap { r in value(r).map { Double($0) / Double(max(r.received, 1)) } }
            return v.count == results.count ? SweepStatistics.median(v) : nil
          }
          let kthread = results.compactMap(\.kthreadCPUPerTransaction)
          return Cell(
            stats: SweepStatistics.Cell(
              objective: SweepStatistics.estimate(results.map { $0.microseconds(atPercentile: objective.percentile) }),
              cpuPerRoundTrip: SweepStatistics.median(results.map(\.cpuPerTransaction)),
              kthreadCPUPerRoundTrip: kthread.count == results.count ? SweepStatistics.median(kthread) : nil),
            p50: SweepStatistics.median(results.map { $0.microseconds(atPercentile: 50) }),
            p99: SweepStatistics.median(results.map { $0.microseconds(atPercentile: 99) }),
            queueIRQsPerRoundTrip: perRT { $0.proof.queueIRQs.isEmpty ? nil : $0.proof.queueIRQTotal },
            busyPollRxPerRoundTrip: perRT { $0.proof.busyPollRxPackets },
            netRxPerRoundTrip: perRT { $0.proof.netRxSoftirqs }, repeats: results.count)
        })
    }
    self.cells = cells
    // The decision among the candidates measured in full (all of them, unless interrupted).
    let measured = cells.indices.filter { cells[$0] != nil }
    let baseline = plan.candidates.firstIndex(where: \.isBaseline) ?? 0
    if !measured.isEmpty, measured.contains(baseline) {
      let d = SweepStatistics.decide(
        measured.map { cells[$0]!.map(\.stats) }, baseline: measured.firstIndex(of: baseline)!)
      decision = SweepStatistics.Decision(
        best: d.best.map { measured[$0] }, indistinguishable: d.indistinguishable.map { $0.map { measured[$0] } },
        chosen: measured[d.chosen], baselineHolds: d.baselineHolds)
    }
  }

  package func label(_ c: Int) -> String {
    let candidate = plan.candidates[c]
    let text = candidate.label(plan.varies)
    return candidate.isBaseline && !candidate.values.isEmpty ? "\(text) (as written)" : text
  }

  /// The interval's method and coverage, in words.
  package var intervalText: String {
    let coverage = cells.compactMap { $0?.first?.stats.objective.coverage }.min() ?? 0
    return "95% interval of the median from the order statistics of the \(repeats) repeat(s)"
      + (coverage < 0.95
        ? " (with \(repeats) repeat(s) [min, max] covers the median with \(Int((coverage * 1000).rounded()) / 10)% only; --repeat 6 or more for 95%)"
        : "")
  }

  // MARK: Text

  package func table() -> String {
    let name = ProbeCompare.title(plan.profile.name)
    var lines = [
      "probe sweep \(name): objective \(objective.rawValue), \(repeats) repeat(s), seed \(seed) (--seed \(seed) replays the order)",
      "",
      "| candidate | " + workloads.map(\.description).joined(separator: " | ") + " |",
      "|---|" + String(repeating: "---|", count: workloads.count),
    ]
    for c in plan.candidates.indices {
      let mark = decision?.chosen == c ? " **chosen**" : ""
      let row = workloads.indices.map { w -> String in
        guard let cell = cells[c]?[w] else { return "not measured" }
        let o = cell.stats.objective
        var parts: [String?] = [
          "\(objective.rawValue) \(ProbeText.us(o.median)) [\(ProbeText.us(o.low)), \(ProbeText.us(o.high))]",
          objective == .p50 ? nil : "p50 \(ProbeText.us(cell.p50))",
          objective == .p99 ? nil : "p99 \(ProbeText.us(cell.p99))",
          "cpu \(ProbeText.us(cell.stats.cpuPerRoundTrip))"
            + (cell.stats.kthreadCPUPerRoundTrip.map { "+\(ProbeText.us($0)) kthread" } ?? ""),
        ]
        if let irqs = cell.queueIRQsPerRoundTrip { parts.append("irq/rt \(Self.ratio(irqs))") }
        if let bp = cell.busyPollRxPerRoundTrip { parts.append("busy-poll rx/rt \(Self.ratio(bp))") }
        return parts.compactMap { $0 }.joined(separator: "; ")
      }
      lines.append("| \(label(c))\(mark) | " + row.joined(separator: " | ") + " |")
    }
    lines.append("")
    lines.append("µs; [low, high]: \(intervalText); cpu: µs of CPU per round trip (client + NAPI kthreads)")
    lines += decisionLines()
    if let incomplete { lines.append("incomplete: \(incomplete)") }
    return lines.joined(separator: "\n")
  }

  static func ratio(_ v: Double) -> String { String(ProbeText.round(v, 2)) }

  package func decisionLines() -> [String] {
    guard let d = decision else { return ["no decision: the profile as written was not measured in every workload"] }
    var lines: [String] = []
    for (w, workload) in workloads.enumerated() {
      let others = d.indistinguishable[w].filter { $0 != d.best[w] }.map(label)
      lines.append(
        "best under \(workload): \(label(d.best[w]))"
          + (others.isEmpty
            ? "; no other candidate within its interval" : "; indistinguishable: \(others.joined(separator: ", "))"))
    }
    lines.append(
      "chosen: \(label(d.chosen)): the least CPU per round trip among the candidates indistinguishable from the best in the most workloads"
    )
    let name = ProbeCompare.title(plan.profile.name)
    if d.baselineHolds {
      lines.append(
        "no candidate beats \(name)'s own values beyond noise"
          + (plan.candidates[d.chosen].isBaseline
            ? "" : "; \(label(d.chosen)) gets the same \(objective.rawValue) for less CPU"))
    }
    return lines
  }
}
