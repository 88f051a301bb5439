import BPSTuneCore
import BPSTuneKernel

extension SweepReport {
  // MARK: JSON (schema 1)

  struct EstimateJSON: Encodable {
    var median: Double
    var low: Double
    var high: Double
  }

  struct CellJSON: Encodable {
    var objective_us: EstimateJSON
    var p50_us: Double
    var p99_us: Double
    var cpu_us_per_rt: Double
    var kthread_cpu_us_per_rt: Double?
    var queue_irqs_per_rt: Double?
    var busy_poll_rx_per_rt: Double?
    var net_rx_per_rt: Double?
    var repeats: Int
  }

  struct CandidateJSON: Encodable {
    var label: String
    var values: [String: String]
    var baseline: Bool
    /// One per workload, in the workloads' order; absent when not measured in every workload.
    var cells: [CellJSON]?
  }

  struct DecisionJSON: Encodable {
    var best: [Int]
    var indistinguishable: [[Int]]
    var chosen: Int
    var baseline_holds: Bool
  }

  struct VaryJSON: Encodable {
    var setting: String
    var values: [String]
  }

  struct Document: Encodable {
    var schema = 1
    var command = "probe sweep"
    var profile: String
    var objective: String
    var repeats: Int
    var seed: String
    var interval: String
    var varies: [VaryJSON]
    var workloads: [CompareReport.WorkloadJSON]
    var candidates: [CandidateJSON]
    var orders: [[Int]]
    var decision: DecisionJSON?
    var incomplete: String?
  }

  package func json() -> String {
    func r(_ v: Double) -> Double { ProbeText.round(v, 3) }
    let candidates = plan.candidates.indices.map { c in
      CandidateJSON(
        label: label(c),
        values: Dictionary(uniqueKeysWithValues: zip(plan.varies.map(\.setting), plan.candidates[c].values)),
        baseline: plan.candidates[c].isBaseline,
        cells: cells[c]?.map { cell in
          let o = cell.stats.objective
          return CellJSON(
            objective_us: EstimateJSON(median: r(o.median), low: r(o.low), high: r(o.high)), p50_us: r(cell.p50),
            p99_us: r(cell.p99), cpu_us_per_rt: r(cell.stats.cpuPerRoundTrip),
            kthread_cpu_us_per_rt: cell.stats.kthreadCPUPerRoundTrip.map(r),
            queue_irqs_per_rt: cell.queueIRQsPerRoundTrip.map(r),
            busy_poll_rx_per_rt: cell.busyPollRxPerRoundTrip.map(r), net_rx_per_rt: cell.netRxPerRoundTrip.map(r),
            repeats: cell.repeats)
        })
    }
    return ReportJSON.encode(
      Document(
        profile: plan.profile.name, objective: objective.rawValue, repeats: repeats, seed: String(seed),
        interval: intervalText, varies: plan.varies.map { VaryJSON(setting: $0.setting, values: $0.values) },
        workloads: workloads.map { CompareReport.WorkloadJSON(rate: $0.rate, delay_us: $0.delay) },
        candidates: candidates, orders: orders,
        decision: decision.map {
          DecisionJSON(
            best: $0.best, indistinguishable: $0.indistinguishable, chosen: $0.chosen, baseline_holds: $0.baselineHolds)
        }, incomplete: incomplete))
  }

  // MARK: SVG

  /// One panel per workload: each candidate's objective median as a point with its interval as
  /// a bar, on a linear µs axis from 0; the chosen candidate in red, the profile as written
  /// hollow. Candidates are numbered on the axis and named in a legend under each panel.
  package func svg() -> String {
    let n = plan.candidates.count
    let left = 70.0
    let top = 40.0
    let step = 60.0
    let plotWidth = max(Double(n) * step, 480)
    let width = max(left + plotWidth + 40, 820)
    let plotHeight = 200.0
    let panel = plotHeight + 60 + Double(n) * 16
    let f = ProbeText.svg
    let escape = ConfigText.xml
    var out = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(top + Double(workloads.count) * panel))\" font-family=\"sans-serif\" font-size=\"12\">",
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
      "<text x=\"\(f(left))\" y=\"22\" font-size=\"15\">bpstune probe sweep \(escape(ProbeCompare.title(plan.profile.name))): \(objective.rawValue) median and interval over \(repeats) repeat(s)</text>",
    ]
    for (w, workload) in workloads.enumerated() {
      let y0 = top + Double(w) * panel + 30
      let estimates = plan.candidates.indices.compactMap { c in cells[c]?[w].stats.objective }
      let high = max((estimates.map(\.high).max() ?? 1) * 1.1, 0.001)
      func y(_ us: Double) -> Double { y0 + plotHeight - min(max(us / high, 0), 1) * plotHeight }
      func x(_ c: Int) -> Double { left + plotWidth * (Double(c) + 0.5) / Double(max(n, 1)) }
      out.append("<text x=\"\(f(left))\" y=\"\(f(y0 - 10))\" font-size=\"13\">\(escape(workload.description))</text>")
      out.append(
        "<rect x=\"\(f(left))\" y=\"\(f(y0))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999\"/>"
      )
      for tick in 0...4 {
        let value = high * Double(tick) / 4
        out.append(
          "<line x1=\"\(f(left))\" y1=\"\(f(y(value)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y(value)))\" stroke=\"#eee\"/>"
        )
        out.append(
          "<text x=\"\(f(left - 6))\" y=\"\(f(y(value) + 4))\" text-anchor=\"end\">\(ProbeText.us(value))</text>")
      }
      out.append(
        "<text x=\"\(f(left - 52))\" y=\"\(f(y0 + plotHeight / 2))\" transform=\"rotate(-90 \(f(left - 52)) \(f(y0 + plotHeight / 2)))\" text-anchor=\"middle\">\(objective.rawValue) µs</text>"
      )
      for c in plan.candidates.indices {
        let color = decision?.chosen == c ? "#d62728" : "#1f77b4"
        out.append("<text x=\"\(f(x(c)))\" y=\"\(f(y0 + plotHeight + 16))\" text-anchor=\"middle\">#\(c + 1)</text>")
        let chosen = decision?.chosen == c ? " (chosen)" : ""
        out.append(
          "<text x=\"\(f(left))\" y=\"\(f(y0 + plotHeight + 40 + Double(c) * 16))\" fill=\"\(color)\">#\(c + 1) \(escape(label(c)))\(chosen)</text>"
        )
        guard let o = cells[c]?[w].stats.objective else { continue }
        out.append(
          "<line x1=\"\(f(x(c)))\" y1=\"\(f(y(o.low)))\" x2=\"\(f(x(c)))\" y2=\"\(f(y(o.high)))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
        )
        for end in [o.low, o.high] {
          out.append(
            "<line x1=\"\(f(x(c) - 6))\" y1=\"\(f(y(end)))\" x2=\"\(f(x(c) + 6))\" y2=\"\(f(y(end)))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
          )
        }
        let fill = plan.candidates[c].isBaseline ? "white" : color
        out.append(
          "<circle cx=\"\(f(x(c)))\" cy=\"\(f(y(o.median)))\" r=\"4\" fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
        )
      }
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  // MARK: The profile --write writes

  /// A profile that includes the swept one (by the name or path the user gave) and sets the
  /// chosen values, headed by the measurement it comes from; nil without a decision.
  package func chosenProfile(
    include: String, interfaceName: String, overrides: [String: String], command: String, date: String,
    kernel: String, driver: String?
  ) -> String? {
    guard let d = decision else { return nil }
    let candidate = plan.candidates[d.chosen]
    var lines: [String] = []
    func comment(_ text: String) { lines.append(ConfigText.comment(text)) }
    comment("Chosen by measurement: `\(command)` on \(date), Linux \(kernel)\(driver.map { ", driver \($0)" } ?? "").")
    comment("Objective \(objective.rawValue); \(repeats) repeat(s), seed \(seed); \(intervalText).")
    for (w, workload) in workloads.enumerated() {
      if let cell = cells[d.chosen]?[w] {
        let o = cell.stats.objective
        comment(
          "\(workload): \(objective.rawValue) \(ProbeText.us(o.median)) µs [\(ProbeText.us(o.low)), \(ProbeText.us(o.high))], "
            + "CPU \(ProbeText.us(cell.stats.totalCPUPerRoundTrip)) µs per round trip")
      }
    }
    for line in decisionLines() { comment(line) }
    comment("Emulated or virtual paths say nothing about real latency: measure on the real host and NIC.")
    var text = lines.joined(separator: "\n") + "\n\n"
    var body = plan.text(candidate, interfaceName: interfaceName)
    body = body.replacing(
      "include = [\(ConfigText.tomlString(plan.profile.path))]", with: "include = [\(ConfigText.tomlString(include))]")
    let variables = plan.overrides(candidate, base: overrides)
    if !variables.isEmpty {
      body += "\n[variables]\n"
      for name in variables.keys.sorted() { body += "\(name) = \(ConfigText.tomlString(variables[name]!))\n" }
    }
    text += body
    return text
  }
}
