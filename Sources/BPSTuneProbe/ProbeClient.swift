import BPSTuneCore
import BPSTuneKernel
import Histogram
import SystemPackage

/// `bpstune probe client`: request/response round trips against `bpstune probe server`.
///
/// Closed loop (no rate): send, wait for the reply, record, spend `delay` µs, send the next.
/// Open loop (`rate`): a thread of its own sends on a fixed schedule; the receiving thread
/// records each reply's round trip from the time its request was *due*, so a host that falls
/// behind shows it in the latencies instead of hiding it (no coordinated omission), then
/// spends `delay` µs of application work before it receives the next, as xsk_rr does in the
/// threaded busy-poll series.
package struct ProbeClient {
  package struct Settings: Sendable {
    package var peer: SocketAddress
    package var transport: ProbeSocket.Kind = .udp
    /// Message size in bytes, header included.
    package var size = 64
    /// Requests per second for an open loop; nil for a closed loop.
    package var rate: Int?
    /// µs of busy application work after each reply.
    package var delay = 0
    /// Seconds of measuring; ignored when `count` is set.
    package var duration = 5.0
    package var count: Int?
    /// Seconds of the same workload before measuring, discarded.
    package var warmup = 0.5
    /// How long a request may wait for its reply before it counts as lost (ms).
    package var timeout = 1000
    package var socket = ProbeSocketSettings()
    /// The interface whose queue IRQs are counted; default the one holding the local address.
    package var interface: String?

    package init(peer: SocketAddress) { self.peer = peer }

    /// `combination: false`: see ``ProbeSocketSettings/validate(combination:)``.
    package func validate(combination: Bool = true) throws(BPSTuneError) {
      try socket.validate(combination: combination)
      if size < ProbeMessage.headerSize || size > ProbeMessage.maximumSize {
        throw .usage("--size \(size): must be \(ProbeMessage.headerSize) to \(ProbeMessage.maximumSize) bytes")
      }
      if let rate, rate < 1 || rate > 10_000_000 { throw .usage("--rate \(rate): must be 1 to 10000000 per second") }
      if delay < 0 || delay > 1_000_000 { throw .usage("--delay \(delay): must be 0 to 1000000 µs") }
      if !(duration > 0 && duration <= 86_400) {
        throw .usage("--duration \(duration): must be above 0 and at most 86400 s")
      }
      if let count, count < 1 || count > Self.maximumCount {
        throw .usage("--count \(count): must be 1 to \(Self.maximumCount)")
      }
      if !(warmup >= 0 && warmup <= 3600) { throw .usage("--warmup \(warmup): must be 0 to 3600 s") }
      if timeout < 1 || timeout > 60_000 { throw .usage("--timeout \(timeout): must be 1 to 60000 ms") }
    }

    /// The most round trips one run measures.
    package static let maximumCount = 1_000_000_000

    /// Requests of a measured phase: `count`, or rate × duration for an open loop; nil for a
    /// closed loop that runs for `duration`.
    var plannedRequests: Int? {
      if let count { return count }
      if let rate { return max(1, Int((Double(rate) * duration).rounded())) }
      return nil
    }
  }

  package var settings: Settings
  package var host: KernelHost

  package init(settings: Settings, host: KernelHost = KernelHost(root: "/")) {
    self.settings = settings
    self.host = host
  }

  /// Connects, warms up, measures, and reports. A peer that does not answer, refuses, or a
  /// socket option the kernel rejects is a ``BPSTuneError/probe(what:message:)``.
  package func run() throws(BPSTuneError) -> ProbeResult {
    try settings.validate()
    let peer = settings.peer
    let socket: ProbeSocket
    do {
      socket = try ProbeSocket.open(settings.transport, for: peer)
    } catch {
      throw .probe(what: peer.description, message: "\(error.operation): \(error.reason)")
    }
    defer { socket.close() }
    try settings.socket.placeCallingThread()
    do {
      if settings.transport == .tcp {
        try socket.setSendTimeout(milliseconds: settings.timeout)
        try socket.setNoDelay()
      }
      try socket.connect(peer)
    } catch {
      throw Self.peerError(error, peer: peer, timeout: settings.timeout)
    }
    let receiver = try settings.socket.prepare(socket, timeoutMilliseconds: min(settings.timeout, 100))
    defer { receiver.epoll?.close() }
    let local = socket.localAddress()
    let interface = settings.interface ?? local?.interfaceName
    var run = UInt32(truncatingIfNeeded: Syscalls.monotonicNanoseconds() ^ UInt64(Syscalls.processID) << 16)

    if settings.warmup > 0 {
      var discard = Histogram<UInt64>(highestTrackableValue: Self.highest)
      var warm = settings
      warm.count = settings.rate.map { max(1, Int(Double($0) * settings.warmup)) }
      warm.duration = settings.warmup
      let phase = try measure(receiver, warm, run: run, histogram: &discard)
      if phase.received == 0 { throw Self.noReply(peer, timeout: settings.timeout, interrupted: phase.interrupted) }
      run &+= 1
    }
    let irqs = ProofCounters.queueIRQNumbers(of: interface, on: host)
    let kthreads = ProofCounters.kthreadPIDs(of: interface, on: host)
    let before = ProofCounters.read(on: host, irqs: irqs, kthreads: kthreads)
    let cpuBefore = Syscalls.processCPUTime()
    var histogram = Histogram<UInt64>(highestTrackableValue: Self.highest)
    let phase = try measure(receiver, settings, run: run, histogram: &histogram)
    let cpu = Syscalls.processCPUTime() - cpuBefore
    let after = ProofCounters.read(on: host, irqs: irqs, kthreads: kthreads)
    if phase.received == 0 { throw Self.noReply(peer, timeout: settings.timeout, interrupted: phase.interrupted) }
    return ProbeResult(
      settings: settings, local: local?.description, interface: interface, sent: phase.sent,
      received: phase.received, elapsedNanoseconds: phase.elapsed, histogram: histogram,
      cpuNanoseconds: cpu, proof: before.delta(to: after), incomingNAPIID: socket.incomingNAPIID(),
      interrupted: phase.interrupted)
  }

  /// 60 s, the longest round trip the histogram holds (ns); longer ones count as 60 s.
  static let highest: UInt64 = 60_000_000_000

  struct Phase {
    var sent: UInt64
    var received: UInt64
    var elapsed: UInt64
    var interrupted: Bool
  }

  private func measure(_ receiver: Receiver, _ s: Settings, run: UInt32, histogram: inout Histogram<UInt64>)
    throws(BPSTuneError) -> Phase
  {
    do {
      return try s.rate == nil
        ? closedLoop(receiver, s, run: run, histogram: &histogram)
        : openLoop(receiver, s, run: run, histogram: &histogram)
    } catch let error as SystemError {
      throw Self.peerError(error, peer: s.peer, timeout: s.timeout)
    } catch let error as BPSTuneError {
      throw error
    } catch {
      throw .probe(what: s.peer.description, message: "\(error)")
    }
  }

  private func closedLoop(_ receiver: Receiver, _ s: Settings, run: UInt32, histogram: inout Histogram<UInt64>)
    throws -> Phase
  {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(s.size, 65_536), alignment: 8)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0)
    let start = Syscalls.monotonicNanoseconds()
    let end = start + UInt64(s.duration * 1e9)
    let timeout = UInt64(s.timeout) * 1_000_000
    var sequence: UInt64 = 0
    var received: UInt64 = 0
    var interrupted = false
    while s.count.map({ sequence < UInt64($0) }) ?? (Syscalls.monotonicNanoseconds() < end) {
      if Syscalls.interruptRequested {
        interrupted = true
        break
      }
      let sentAt = Syscalls.monotonicNanoseconds()
      ProbeMessage.write(buffer, length: s.size, run: run, sequence: sequence, sentAt: sentAt)
      try receiver.socket.send(UnsafeRawBufferPointer(rebasing: buffer[..<s.size]))
      sequence += 1
      if let reply = try receiveReply(receiver, buffer, s, run: run, deadline: sentAt + timeout, expect: sequence - 1) {
        let now = Syscalls.monotonicNanoseconds()
        _ = histogram.record(min(now - reply.sentAt, Self.highest))
        received += 1
        Self.work(microseconds: s.delay, from: now)
      } else if s.transport == .tcp {
        throw BPSTuneError.probe(
          what: s.peer.description, message: "no reply within \(s.timeout) ms on the TCP connection")
      }
    }
    return Phase(
      sent: sequence, received: received, elapsed: Syscalls.monotonicNanoseconds() - start, interrupted: interrupted)
  }

  /// What the open loop's sending thread did; read after it is joined.
  private final class SenderOutcome: @unchecked Sendable {
    var sent: UInt64 = 0
    var error: (any Error)?
  }

  private func openLoop(_ receiver: Receiver, _ s: Settings, run: UInt32, histogram: inout Histogram<UInt64>)
    throws -> Phase
  {
    let total = UInt64(s.plannedRequests ?? 1)
    let interval = 1e9 / Double(s.rate ?? 1)
    let start = Syscalls.monotonicNanoseconds() + 1_000_000
    let outcome = SenderOutcome()
    let socket = receiver.socket
    let placement = s.socket
    let size = s.size
    let sender = try ProbeThread.start {
      do {
        try placement.placeCallingThread()
        Syscalls.setTimerSlack(nanoseconds: 1)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        for i in 0..<total {
          if Syscalls.interruptRequested { break }
          let due = start + UInt64(Double(i) * interval)
          if Syscalls.monotonicNanoseconds() < due { Syscalls.sleep(untilMonotonic: due) }
          ProbeMessage.write(buffer, length: size, run: run, sequence: i, sentAt: due)
          try socket.send(UnsafeRawBufferPointer(buffer))
          outcome.sent = i + 1
        }
      } catch {
        outcome.error = error
      }
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(s.size, 65_536), alignment: 8)
    defer { buffer.deallocate() }
    let end = start + UInt64(Double(total) * interval) + UInt64(s.timeout) * 1_000_000
    var received: UInt64 = 0
    var interrupted = false
    var failure: (any Error)?
    while received < total {
      if Syscalls.interruptRequested {
        interrupted = true
        break
      }
      let now = Syscalls.monotonicNanoseconds()
      if now >= end { break }
      do {
        guard let reply = try receiveReply(receiver, buffer, s, run: run, deadline: min(end, now + 100_000_000))
        else { continue }
        let at = Syscalls.monotonicNanoseconds()
        _ = histogram.record(at > reply.sentAt ? min(at - reply.sentAt, Self.highest) : 0)
        received += 1
        Self.work(microseconds: s.delay, from: at)
      } catch {
        failure = error
        break
      }
    }
    sender.join()
    if let error = outcome.error ?? failure { throw error }
    // The schedule starts 1 ms ahead; an interrupt may come before it.
    let now = Syscalls.monotonicNanoseconds()
    return Phase(
      sent: outcome.sent, received: received, elapsed: now > start ? now - start : 0, interrupted: interrupted)
  }

  /// Receives until a reply of this run arrives (`expect`: of this sequence number, for the
  /// closed loop, which passes over late replies to requests it already counted as lost), or
  /// the deadline passes (nil).
  @inline(__always)
  private func receiveReply(
    _ receiver: Receiver, _ buffer: UnsafeMutableRawBufferPointer, _ s: Settings, run: UInt32, deadline: UInt64,
    expect: UInt64? = nil
  ) throws -> ProbeMessage.Header? {
    while Syscalls.monotonicNanoseconds() < deadline {
      var got = 0
      if s.transport == .tcp {
        // A stream: read exactly one message of our size.
        while got < s.size {
          let r = try receiver.receive(
            into: UnsafeMutableRawBufferPointer(rebasing: buffer[got..<s.size]), deadline: deadline)
          switch r {
          case .bytes(let n): got += n
          case .nothing: if Syscalls.monotonicNanoseconds() >= deadline { return nil }
          case .closed: throw BPSTuneError.probe(what: s.peer.description, message: "the server closed the connection")
          }
        }
      } else {
        switch try receiver.receive(into: buffer, deadline: deadline) {
        case .bytes(let n): got = n
        case .nothing, .closed: continue
        }
      }
      // Only the server's replies count: a request of ours reflected back unanswered (a path
      // that loops, a peer that is not a probe server) carries no reply flag.
      guard let header = ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: got), header.run == run,
        header.isReply
      else { continue }
      if let expect, header.sequence != expect { continue }
      return header
    }
    return nil
  }

  /// The application's processing: `microseconds` of busy work after a reply.
  @inline(__always)
  static func work(microseconds: Int, from now: UInt64) {
    guard microseconds > 0 else { return }
    let end = now + UInt64(microseconds) * 1000
    while Syscalls.monotonicNanoseconds() < end {}
  }

  static func noReply(_ peer: SocketAddress, timeout: Int, interrupted: Bool) -> BPSTuneError {
    .probe(
      what: peer.description,
      message: interrupted
        ? "interrupted before any reply"
        : "no reply within \(timeout) ms; is `bpstune probe server` running there and reachable?")
  }

  static func peerError(_ error: SystemError, peer: SocketAddress, timeout: Int) -> BPSTuneError {
    switch error.errno {
    case .connectionRefused:
      .probe(
        what: peer.description,
        message: "refused (\(error.errno.explained)): no `bpstune probe server` listens on that port")
    case .resourceTemporarilyUnavailable, .timedOut, .nowInProgress:
      .probe(what: peer.description, message: "no answer within \(timeout) ms (\(error.operation): \(error.reason))")
    default:
      .probe(what: peer.description, message: "\(error.operation): \(error.reason)")
    }
  }
}
