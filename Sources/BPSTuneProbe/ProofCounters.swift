import BPSTuneCore
import BPSTuneKernel

/// How packets were received during a probe run, which latency alone does not show: counters
/// read before and after the measured phase, in the probe's own network namespace.
///
/// - TcpExt BusyPollRxPackets (/proc/net/netstat, per network namespace): packets the
///   busy-poll loop (napi_busy_loop) received; 0 when nothing busy-polled.
/// - NET_RX (/proc/softirqs): softirq runs of net_rx_action, summed over CPUs.
/// - The interface's queue IRQs (/proc/interrupts, summed over CPUs): what interrupt
///   deferral and busy polling should make fall.
package struct ProofCounters: Sendable, Equatable {
  package var busyPollRxPackets: UInt64?
  package var netRxSoftirqs: UInt64?
  /// Interrupt counts by IRQ number, for the interface's queue IRQs.
  package var queueIRQs: [Int: UInt64]

  /// The IRQ numbers of an interface's queue interrupts (empty for none, or no interface).
  /// Discovered once per run: counting them is then one read of /proc/interrupts.
  package static func queueIRQNumbers(of interface: String?, on host: KernelHost) -> Set<Int> {
    guard let interface, case .success(let queues) = QueueIRQs.discover(interface, on: host) else { return [] }
    return Set(queues.map(\.number))
  }

  /// Reads the counters now, counting the IRQs `irqs`; a file that cannot be read leaves its
  /// counter nil.
  package static func read(on host: KernelHost, irqs: Set<Int>) -> ProofCounters {
    let netstat = try? host.readFresh("/proc/net/netstat")
    let softirqs = try? host.readFresh("/proc/softirqs")
    let interrupts = irqs.isEmpty ? nil : try? host.readFresh("/proc/interrupts")
    return ProofCounters(
      busyPollRxPackets: netstat.flatMap { Self.netstat($0, group: "TcpExt", name: "BusyPollRxPackets") },
      netRxSoftirqs: softirqs.flatMap { Self.softirqs($0, name: "NET_RX") },
      queueIRQs: interrupts.map { interruptCounts($0).filter { irqs.contains($0.key) } } ?? [:])
  }

  /// A counter of /proc/net/netstat, whose groups are a line of names then a line of values.
  static func netstat(_ text: String, group: String, name: String) -> UInt64? {
    let lines = text.split(separator: "\n")
    let prefix = group + ":"
    for (i, line) in lines.enumerated() where line.hasPrefix(prefix) && i + 1 < lines.count {
      let names = line.split(separator: " ").dropFirst()
      let values = lines[i + 1].split(separator: " ").dropFirst()
      guard lines[i + 1].hasPrefix(prefix), names.count == values.count else { continue }
      if let index = names.firstIndex(where: { $0 == name }) {
        return UInt64(values[values.startIndex + (index - names.startIndex)])
      }
    }
    return nil
  }

  /// A row of /proc/softirqs, summed over CPUs.
  static func softirqs(_ text: String, name: String) -> UInt64? {
    for line in text.split(separator: "\n") {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      if words.first == Substring(name + ":") {
        return words.dropFirst().reduce(0) { $0 + (UInt64($1) ?? 0) }
      }
    }
    return nil
  }

  /// /proc/interrupts as IRQ number -> count summed over CPUs.
  static func interruptCounts(_ text: String) -> [Int: UInt64] {
    var lines = text.split(separator: "\n")
    guard let header = lines.first else { return [:] }
    let cpus = header.split(separator: " ").count
    lines.removeFirst()
    var out: [Int: UInt64] = [:]
    for line in lines {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard let first = words.first, first.hasSuffix(":"), let irq = Int(first.dropLast()) else { continue }
      out[irq] = words.dropFirst().prefix(cpus).reduce(0) { $0 + (UInt64($1) ?? 0) }
    }
    return out
  }

  /// What rose between `self` (before) and `after`; a counter missing on either side is nil.
  package func delta(to after: ProofCounters) -> ProofDelta {
    func minus(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
      guard let a, let b else { return nil }
      return b >= a ? b - a : 0
    }
    var irqs: [Int: UInt64] = [:]
    for (irq, count) in after.queueIRQs { irqs[irq] = count - min(count, queueIRQs[irq] ?? count) }
    return ProofDelta(
      busyPollRxPackets: minus(busyPollRxPackets, after.busyPollRxPackets),
      netRxSoftirqs: minus(netRxSoftirqs, after.netRxSoftirqs), queueIRQs: irqs)
  }
}

/// The rise of each counter over a measured run.
package struct ProofDelta: Sendable, Equatable {
  package var busyPollRxPackets: UInt64?
  package var netRxSoftirqs: UInt64?
  package var queueIRQs: [Int: UInt64]

  package var queueIRQTotal: UInt64 { queueIRQs.values.reduce(0, +) }
}
