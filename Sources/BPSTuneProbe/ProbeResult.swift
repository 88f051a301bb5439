import BPSTuneCore
import Histogram

/// One measured probe run: round trips, messages, CPU, and the proof of how packets arrived.
package struct ProbeResult: Sendable {
  package var settings: ProbeClient.Settings
  package var local: String?
  package var interface: String?
  package var sent: UInt64
  package var received: UInt64
  package var elapsedNanoseconds: UInt64
  package var histogram: Histogram<UInt64>
  /// User plus system CPU time of the client process over the measured phase.
  package var cpuNanoseconds: UInt64
  package var proof: ProofDelta
  /// SO_INCOMING_NAPI_ID after the run: the NAPI the last reply came through; 0 for none.
  package var incomingNAPIID: Int
  /// SIGINT or SIGTERM ended the run early.
  package var interrupted: Bool

  package var lost: UInt64 { sent > received ? sent - received : 0 }

  /// Replies per second over the measured phase.
  package var achievedRate: Double {
    elapsedNanoseconds == 0 ? 0 : Double(received) / (Double(elapsedNanoseconds) / 1e9)
  }

  /// An open loop that got fewer than 90% of the replies its rate asked for: the host (or the
  /// path, or the server) cannot sustain the rate, and its latencies describe an overload.
  package var rateNotSustained: Bool {
    guard let rate = settings.rate, !interrupted else { return false }
    return achievedRate < 0.9 * Double(rate)
  }

  /// The percentiles reported, as labels and fractions.
  package static let percentiles: [(label: String, value: Double)] = [
    ("p5", 5), ("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p99.9", 99.9), ("p99.99", 99.99),
  ]

  /// A round-trip percentile in µs.
  package func microseconds(atPercentile p: Double) -> Double {
    Double(histogram.valueAtPercentile(p)) / 1000
  }

  package var maxMicroseconds: Double { Double(histogram.max) / 1000 }
  package var meanMicroseconds: Double { histogram.mean / 1000 }

  /// CPU µs per request/response.
  package var cpuPerTransaction: Double {
    received == 0 ? 0 : Double(cpuNanoseconds) / 1000 / Double(received)
  }

  /// CPU µs per request/response of the interface's NAPI kthreads (a busy-poll kthread's
  /// spinning included); nil when it has none.
  package var kthreadCPUPerTransaction: Double? {
    guard let ns = proof.kthreadNanoseconds, received > 0 else { return nil }
    return Double(ns) / 1000 / Double(received)
  }

  /// The one-line error for a rate not sustained, with the achieved rate.
  package var rateError: BPSTuneError? {
    guard rateNotSustained, let rate = settings.rate else { return nil }
    return .probe(
      what: "--rate \(rate)",
      message:
        "this host and path did not sustain \(rate)/s: achieved \(Int(achievedRate))/s (\(received) replies of \(sent) sent in \(ProbeText.seconds(elapsedNanoseconds)) s); the latencies above describe an overload"
    )
  }
}
