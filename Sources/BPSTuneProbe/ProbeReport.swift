import BPSTuneCore
import BPSTuneKernel

/// `bpstune probe client` output: text, or JSON (schema 1, in contrib/schema).
package enum ProbeReport {
  package static func text(_ r: ProbeResult) -> String {
    let s = r.settings
    var lines: [String] = []
    let loop = s.rate.map { "open loop at \($0)/s" } ?? "closed loop"
    let delay = s.delay > 0 ? ", \(s.delay) µs delay" : ""
    lines.append(
      "probe \(s.transport.rawValue) \(loop)\(delay) to \(s.peer) from \(r.local ?? "?")"
        + (r.interface.map { " (\($0))" } ?? "") + ", \(s.size) B, " + s.socket.summary)
    lines.append(
      "  round trip µs  "
        + ProbeResult.percentiles.map { "\($0.label) \(ProbeText.us(r.microseconds(atPercentile: $0.value)))" }
        .joined(separator: "  ") + "  max \(ProbeText.us(r.maxMicroseconds))")
    lines.append(
      "  messages       sent \(r.sent)  received \(r.received)  lost \(r.lost)  in \(ProbeText.seconds(r.elapsedNanoseconds)) s ("
        + "\(Int(r.achievedRate.rounded()))/s)" + (r.interrupted ? "  interrupted" : ""))
    lines.append("  cpu            \(ProbeText.us(r.cpuPerTransaction)) µs per transaction (client, user+system)")
    lines.append("  received by    " + ProbeText.proof(r))
    return lines.joined(separator: "\n")
  }

  package static func json(_ r: ProbeResult) -> String {
    ReportJSON.encode(ClientJSON(r))
  }

  struct WorkloadJSON: Encodable {
    var `protocol`: String
    var loop: String
    var rate: Int?
    var delay_us: Int
    var size: Int
    var duration_s: Double?
    var count: Int?
    var warmup_s: Double
    var timeout_ms: Int
  }

  struct ProofJSON: Encodable {
    var busy_poll_rx_packets: UInt64?
    var net_rx_softirqs: UInt64?
    var queue_irqs: [String: UInt64]
    var queue_irq_total: UInt64
    var incoming_napi_id: Int
  }

  struct ClientJSON: Encodable {
    var schema = 1
    var command = "probe client"
    var peer: String
    var local: String?
    var interface: String?
    var workload: WorkloadJSON
    var socket: ProbeSocketSettings
    var messages: [String: UInt64]
    var elapsed_s: Double
    var achieved_rate: Double
    var rate_sustained: Bool
    var rtt_us: [String: Double]
    var cpu_us_per_transaction: Double
    var proof: ProofJSON
    var interrupted: Bool

    init(_ r: ProbeResult) {
      let s = r.settings
      peer = s.peer.description
      local = r.local
      interface = r.interface
      workload = WorkloadJSON(
        protocol: s.transport.rawValue, loop: s.rate == nil ? "closed" : "open", rate: s.rate, delay_us: s.delay,
        size: s.size, duration_s: s.count == nil ? s.duration : nil, count: s.count, warmup_s: s.warmup,
        timeout_ms: s.timeout)
      socket = s.socket
      messages = ["sent": r.sent, "received": r.received, "lost": r.lost]
      elapsed_s = ProbeText.round(Double(r.elapsedNanoseconds) / 1e9, 3)
      achieved_rate = ProbeText.round(r.achievedRate, 1)
      rate_sustained = !r.rateNotSustained
      var rtt: [String: Double] = [:]
      for (label, p) in ProbeResult.percentiles { rtt[label] = ProbeText.round(r.microseconds(atPercentile: p), 2) }
      rtt["max"] = ProbeText.round(r.maxMicroseconds, 2)
      rtt["mean"] = ProbeText.round(r.meanMicroseconds, 2)
      rtt_us = rtt
      cpu_us_per_transaction = ProbeText.round(r.cpuPerTransaction, 2)
      proof = ProofJSON(
        busy_poll_rx_packets: r.proof.busyPollRxPackets, net_rx_softirqs: r.proof.netRxSoftirqs,
        queue_irqs: Dictionary(uniqueKeysWithValues: r.proof.queueIRQs.map { (String($0.key), $0.value) }),
        queue_irq_total: r.proof.queueIRQTotal, incoming_napi_id: r.incomingNAPIID)
      interrupted = r.interrupted
    }
  }
}

/// Number formatting shared by the probe's reports (no Foundation formatters).
enum ProbeText {
  /// A coordinate in the SVG charts: one decimal.
  static func svg(_ value: Double) -> String { String(round(value, 1)) }

  static func round(_ value: Double, _ digits: Int) -> Double {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (value * scale).rounded() / scale
  }

  /// µs with one decimal below 1000, whole above.
  static func us(_ value: Double) -> String {
    if value >= 1000 { return String(Int(value.rounded())) }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }

  static func seconds(_ nanoseconds: UInt64) -> String {
    let ms = Int((Double(nanoseconds) / 1e6).rounded())
    let rest = String(ms % 1000)
    return "\(ms / 1000)." + String(repeating: "0", count: 3 - rest.count) + rest
  }

  static func proof(_ r: ProbeResult) -> String {
    let busy = r.proof.busyPollRxPackets.map { "BusyPollRxPackets +\($0)" } ?? "BusyPollRxPackets unreadable"
    let softirq = r.proof.netRxSoftirqs.map { "NET_RX softirqs +\($0)" } ?? "NET_RX unreadable"
    let irqs =
      r.proof.queueIRQs.isEmpty
      ? "queue IRQs: none" + (r.interface.map { " (\($0) has none)" } ?? " (interface unknown)")
      : "queue IRQs +\(r.proof.queueIRQTotal) ("
        + r.proof.queueIRQs.sorted { $0.key < $1.key }.map { "\($0.key): +\($0.value)" }.joined(separator: ", ") + ")"
    return "\(busy)  \(softirq)  \(irqs)  NAPI id \(r.incomingNAPIID)"
  }
}
