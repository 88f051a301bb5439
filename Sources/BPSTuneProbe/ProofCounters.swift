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
/// - The CPU time of the interface's NAPI kthreads (threaded NAPI and threaded busy polling:
///   napi-get's pid), /proc/PID/schedstat's time on CPU in ns: what a busy-poll kthread costs.
package struct ProofCounters: Sendable, Equatable {
  package var busyPollRxPackets: UInt64?
  package var netRxSoftirqs: UInt64?
  /// Interrupt counts by IRQ number, for the interface's queue IRQs.
  package var queueIRQs: [Int: UInt64]
  /// ns on CPU by kthread pid.
  package var kthreadNanoseconds: [Int: UInt64] = [:]

  /// The pids of the interface's NAPI kthreads now (netdev napi-get, Linux 6.8+); empty for
  /// none, or a kernel without napi-get.
  package static func kthreadPIDs(of interface: String?, on host: KernelHost) -> Set<Int> {
    guard let interface, let ifindex = host.ifindex(of: interface),
      let napis = try? host.netdev.napis(interface, ifindex: ifindex)
    else { return [] }
    return Set(napis.compactMap { $0.pid.map(Int.init) }.filter { $0 > 0 })
  }

  /// The IRQ numbers of an interface's queue interrupts (empty for none, or no interface).
  /// Discovered once per run: counting them is then one read of /proc/interrupts.
  package static func queueIRQNumbers(of interface: String?, on host: KernelHost) -> Set<Int> {
    guard let interface, case .success(let queues) = QueueIRQs.discover(interface, on: host) else { return [] }
    return Set(queues.map(\.number))
  }

  /// Reads the counters now, counting the IRQs `irqs`; a file that cannot be read leaves its
  /// counter nil.
  package static func read(on host: KernelHost, irqs: Set<Int>, kthreads: Set<Int> = []) -> ProofCounters {
    let netstat = try? host.readFresh("/proc/net/netstat")
    let softirqs = try? host.readFresh("/proc/softirqs")
    let interrupts = irqs.isEmpty ? nil : try? host.readFresh("/proc/interrupts")
    var kthreadTime: [Int: UInt64] = [:]
    for pid in kthreads {
      if let text = try? host.readFresh("/proc/\(pid)/schedstat"),
        let ns = text.split(separator: " ").first.flatMap({ UInt64($0) })
      {
        kthreadTime[pid] = ns
      }
    }
    return ProofCounters(
      busyPollRxPackets: netstat.flatMap { Self.netstat($0, group: "TcpExt", name: "BusyPollRxPackets") },
      netRxSoftirqs: softirqs.flatMap { Self.softirqs($0, name: "NET_RX") },
      queueIRQs: interrupts.map { interruptCounts($0).filter { irqs.contains($0.key) } } ?? [:],
      kthreadNanoseconds: kthreadTime)
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
    // A kthread counted on both sides (one that was replaced in between is not comparable).
    let kthreads = after.kthreadNanoseconds.compactMap { pid, ns in
      kthreadNanoseconds[pid].map { ns >= $0 ? ns - $0 : 0 }
    }
    return ProofDelta(
      busyPollRxPackets: minus(busyPollRxPackets, after.busyPollRxPackets),
      netRxSoftirqs: minus(netRxSoftirqs, after.netRxSoftirqs), queueIRQs: irqs,
      kthreadNanoseconds: kthreads.isEmpty ? nil : kthreads.reduce(0, +))
  }
}

/// The rise of each counter over a measured run.
package struct ProofDelta: Sendable, Equatable {
  package var busyPollRxPackets: UInt64?
  package var netRxSoftirqs: UInt64?
  package var queueIRQs: [Int: UInt64]
  /// ns on CPU of the interface's NAPI kthreads together; nil when it has none.
  package var kthreadNanoseconds: UInt64? = nil

  package var queueIRQTotal: UInt64 { queueIRQs.values.reduce(0, +) }
}
