import BPSTuneCore
import RealModule

/// `bpstune probe compare` output: the threaded busy-poll series' table (profiles as columns,
/// workloads as rows, p5/p50/p95/p99 round trips in µs) with the proof rows under each
/// workload and, first, the application side each profile ran with; JSON (schema 1), and an SVG
/// percentile-distribution chart.
package enum CompareReport {
  static let tablePercentiles: [(String, Double)] = [("p5", 5), ("p50", 50), ("p95", 95), ("p99", 99)]

  /// A Markdown table, readable as text and pasteable into a README.
  package static func table(_ columns: [ProbeCompare.Column], workloads: [ProbeCompare.Workload]) -> String {
    var lines = [
      "| round trip µs | "
        + columns.map { $0.profile + ($0.incomplete == nil ? "" : " (incomplete)") }.joined(separator: " | ") + " |"
    ]
    lines.append("|---|" + String(repeating: "---|", count: columns.count))
    lines.append("| application |" + columns.map { " \($0.application.summary) |" }.joined())
    for (w, workload) in workloads.enumerated() {
      lines.append("| \(workload) |" + String(repeating: " |", count: columns.count))
      func row(_ cell: (ProbeResult) -> String) {
        lines.append(
          "| |" + columns.map { " " + (w < $0.results.count ? cell($0.results[w]) : "not measured") + " |" }.joined())
      }
      for (label, p) in tablePercentiles {
        row { "\(label): \(ProbeText.us($0.microseconds(atPercentile: p)))" }
      }
      row { "busy-poll rx: +\($0.proof.busyPollRxPackets.map(String.init) ?? "?")" }
      row { "NET_RX: +\($0.proof.netRxSoftirqs.map(String.init) ?? "?")" }
      row { $0.proof.queueIRQs.isEmpty ? "queue IRQs: none" : "queue IRQs: +\($0.proof.queueIRQTotal)" }
      row { "\(Int($0.achievedRate.rounded()))/s, lost \($0.lost)" }
    }
    for column in columns { if let why = column.incomplete { lines.append("incomplete: \(column.profile): \(why)") } }
    return lines.joined(separator: "\n")
  }

  struct ColumnJSON: Encodable {
    var profile: String
    var snapshot: String?
    var changes: Int
    var results: [ProbeReport.ClientJSON]
    var incomplete: String?
    /// The client's socket settings for this profile's runs.
    var socket: ProbeSocketSettings
    /// The [probe] keys taken from the profile, and those the command line overrode.
    var from_probe_section: [String]?
    var overridden: [String]?
  }

  /// A workload: `rate` absent for a closed loop (as everywhere, not null).
  struct WorkloadJSON: Encodable {
    var rate: Int?
    var delay_us: Int
  }

  struct CompareJSON: Encodable {
    var schema = 1
    var command = "probe compare"
    var workloads: [WorkloadJSON]
    var profiles: [ColumnJSON]
  }

  package static func json(_ columns: [ProbeCompare.Column], workloads: [ProbeCompare.Workload]) -> String {
    ReportJSON.encode(
      CompareJSON(
        workloads: workloads.map { WorkloadJSON(rate: $0.rate, delay_us: $0.delay) },
        profiles: columns.map {
          ColumnJSON(
            profile: $0.profile, snapshot: $0.snapshot, changes: $0.changes,
            results: $0.results.map(ProbeReport.ClientJSON.init), incomplete: $0.incomplete,
            socket: $0.application.socket, from_probe_section: nonEmpty($0.application.fromProfile),
            overridden: nonEmpty($0.application.overridden))
        }))
  }

  /// A list, or nil (left out) when empty.
  static func nonEmpty(_ list: [String]) -> [String]? { list.isEmpty ? nil : list }

  /// Percentiles the chart samples: every 10 up to 90, then each further "nine" in ten steps.
  static let chartPercentiles: [Double] = {
    var out: [Double] = stride(from: 0.0, through: 90.0, by: 10.0).map { $0 }
    var base = 90.0
    var step = 1.0
    for _ in 0..<3 {
      for i in 1...9 { out.append(base + Double(i) * step) }
      base += 9 * step
      step /= 10
    }
    return out.filter { $0 <= 99.99 + 1e-9 }
  }()

  /// The x position of a percentile on the "nines" axis: log10(100 / (100 - p)); p90 is 1,
  /// p99 2, p99.9 3, p99.99 4.
  static func nines(_ p: Double) -> Double {
    Double.log10(100.0 / max(100 - p, 1e-6))
  }

  /// One panel per workload, one line per profile: round trip µs (log axis, so that the body
  /// and the tail both show) against the percentile on a log "nines" axis, as HdrHistogram's
  /// plots show latency.
  package static func svg(_ columns: [ProbeCompare.Column], workloads: [ProbeCompare.Workload]) -> String {
    let width = 760.0
    let panel = 340.0
    let left = 70.0
    let right = 180.0
    let top = 40.0
    let plotWidth = width - left - right
    let plotHeight = panel - 90
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    let f = ProbeText.svg
    let escape = ConfigText.xml
    let height = top + Double(workloads.count) * panel
    var out = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
      "<text x=\"\(f(left))\" y=\"22\" font-size=\"15\">bpstune probe compare: round-trip latency by percentile</text>",
    ]
    for (w, workload) in workloads.enumerated() {
      let y0 = top + Double(w) * panel + 30
      let values = columns.filter { w < $0.results.count }.flatMap { c in
        chartPercentiles.map { c.results[w].microseconds(atPercentile: $0) }
      }
      let lowDecade = Double.log10(max(values.min() ?? 1, 0.1)).rounded(.down)
      let highDecade = max(Double.log10(max(values.max() ?? 10, 1)).rounded(.up), lowDecade + 1)
      func x(_ p: Double) -> Double { left + nines(p) / 4 * plotWidth }
      func y(_ us: Double) -> Double {
        let fraction = (Double.log10(max(us, 0.1)) - lowDecade) / (highDecade - lowDecade)
        return y0 + plotHeight - min(max(fraction, 0), 1) * plotHeight
      }
      out.append("<text x=\"\(f(left))\" y=\"\(f(y0 - 10))\" font-size=\"13\">\(escape(workload.description))</text>")
      out.append(
        "<rect x=\"\(f(left))\" y=\"\(f(y0))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999\"/>"
      )
      for (p, label) in [(0.0, "p0"), (90, "p90"), (99, "p99"), (99.9, "p99.9"), (99.99, "p99.99")] {
        out.append(
          "<line x1=\"\(f(x(p)))\" y1=\"\(f(y0))\" x2=\"\(f(x(p)))\" y2=\"\(f(y0 + plotHeight))\" stroke=\"#ddd\"/>")
        out.append(
          "<text x=\"\(f(x(p)))\" y=\"\(f(y0 + plotHeight + 16))\" text-anchor=\"middle\">\(label)</text>")
      }
      for decade in Int(lowDecade)...Int(highDecade) {
        var value = 1.0
        for _ in 0..<abs(decade) { value = decade < 0 ? value / 10 : value * 10 }
        out.append(
          "<line x1=\"\(f(left))\" y1=\"\(f(y(value)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y(value)))\" stroke=\"#eee\"/>"
        )
        out.append(
          "<text x=\"\(f(left - 6))\" y=\"\(f(y(value) + 4))\" text-anchor=\"end\">\(value >= 1 ? String(Int(value)) : ProbeText.us(value))</text>"
        )
      }
      out.append(
        "<text x=\"\(f(left - 52))\" y=\"\(f(y0 + plotHeight / 2))\" transform=\"rotate(-90 \(f(left - 52)) \(f(y0 + plotHeight / 2)))\" text-anchor=\"middle\">round trip µs</text>"
      )
      for (c, column) in columns.enumerated() where w < column.results.count {
        let result = column.results[w]
        let points = chartPercentiles.map { "\(f(x($0))),\(f(y(result.microseconds(atPercentile: $0))))" }
        let color = colors[c % colors.count]
        out.append(
          "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
        )
        let ly = y0 + 14 + Double(c) * 18
        out.append(
          "<line x1=\"\(f(left + plotWidth + 12))\" y1=\"\(f(ly - 4))\" x2=\"\(f(left + plotWidth + 32))\" y2=\"\(f(ly - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
        )
        out.append("<text x=\"\(f(left + plotWidth + 38))\" y=\"\(f(ly))\">\(escape(column.profile))</text>")
      }
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }
}
