import BPSTuneCore
import BPSTuneKernel
import SystemPackage

/// What both ends of the probe share: transport, receive mode, per-socket busy polling, and
/// where its threads run.
package struct ProbeSocketSettings: Sendable, Codable, Equatable {
  package var receiveMode: ReceiveMode = .blocking
  /// SO_BUSY_POLL µs (or the epoll instance's busy_poll_usecs); nil leaves the sysctl default
  /// (net.core.busy_read / busy_poll).
  package var busyPoll: Int?
  /// SO_PREFER_BUSY_POLL (or epoll's prefer_busy_poll).
  package var preferBusyPoll = false
  /// SO_BUSY_POLL_BUDGET (or epoll's busy_poll_budget); nil for the kernel's 8 (BUSY_POLL_BUDGET).
  package var busyPollBudget: Int?
  /// CPUs every probe thread is pinned to (sched_setaffinity); nil leaves them where they are.
  package var cpus: CPUSet?
  /// SCHED_FIFO priority of every probe thread; nil leaves SCHED_OTHER.
  package var fifo: Int?

  package init() {}

  enum CodingKeys: String, CodingKey {
    case receiveMode = "receive_mode"
    case busyPoll = "busy_poll_us"
    case preferBusyPoll = "prefer_busy_poll"
    case busyPollBudget = "busy_poll_budget"
    case cpus
    case fifo
  }

  /// One line for reports: "blocking, busy-poll 50 µs, prefer, budget 64, cpu 1, fifo 50".
  package var summary: String { summary(placement: true) }

  /// ``summary``, with the client thread's placement (cpu, fifo) or without it.
  package func summary(placement: Bool) -> String {
    var parts = [receiveMode.rawValue, busyPoll.map { "busy-poll \($0) µs" } ?? "no busy-poll option"]
    if preferBusyPoll { parts.append("prefer") }
    if let busyPollBudget { parts.append("budget \(busyPollBudget)") }
    if placement, let cpus { parts.append("cpu \(cpus)") }
    if placement, let fifo { parts.append("fifo \(fifo)") }
    return parts.joined(separator: ", ")
  }

  /// The checks the command line cannot express; each names its option. `combination: false`
  /// checks each number but not whether they go together (a profile's [probe] may complete
  /// them: ``ProbeApplication/validate(for:)`` checks the result).
  package func validate(combination: Bool = true) throws(BPSTuneError) {
    if let busyPoll, busyPoll < 0 || busyPoll > Int(Int32.max) {
      throw .usage("--busy-poll \(busyPoll): must be 0 to \(Int32.max) µs")
    }
    if let busyPollBudget, busyPollBudget < 1 || busyPollBudget > Int(UInt16.max) {
      throw .usage("--busy-poll-budget \(busyPollBudget): must be 1 to 65535")
    }
    if let fifo, fifo < 1 || fifo > 99 { throw .usage("--fifo \(fifo): SCHED_FIFO priority must be 1 to 99") }
    if combination && receiveMode == .epoll && busyPoll == nil && (preferBusyPoll || busyPollBudget != nil) {
      throw .usage("--prefer-busy-poll and --busy-poll-budget in epoll mode need --busy-poll USECS")
    }
  }

  /// Sets up a socket for receiving: the busy-poll options, non-blocking for spin, the epoll
  /// instance for epoll. Errors name the option and the kernel's reason.
  func prepare(_ socket: ProbeSocket, timeoutMilliseconds: Int) throws(BPSTuneError) -> Receiver {
    do throws(SystemError) {
      switch receiveMode {
      case .blocking:
        try socket.setBusyPoll(microseconds: busyPoll, prefer: preferBusyPoll, budget: busyPollBudget)
        try socket.setReceiveTimeout(milliseconds: timeoutMilliseconds)
        return Receiver(socket: socket, mode: .blocking, epoll: nil)
      case .spin:
        try socket.setBusyPoll(microseconds: busyPoll, prefer: preferBusyPoll, budget: busyPollBudget)
        try socket.setNonBlocking()
        return Receiver(socket: socket, mode: .spin, epoll: nil)
      case .epoll:
        try socket.setNonBlocking()
        let epoll = try EpollWaiter(watching: socket)
        if let busyPoll {
          do {
            try epoll.setBusyPoll(microseconds: busyPoll, budget: busyPollBudget ?? 8, prefer: preferBusyPoll)
          } catch {
            epoll.close()
            throw error
          }
        }
        return Receiver(socket: socket, mode: .epoll, epoll: epoll)
      }
    } catch {
      if error.errno == .inappropriateIOCTLForDevice && error.operation == "ioctl EPIOCSPARAMS" {
        throw .probe(
          what: "--receive epoll --busy-poll",
          message: "epoll busy-poll parameters (EPIOCSPARAMS) need Linux 6.9+; this is \(Syscalls.uname().release)")
      }
      throw .probe(what: error.operation, message: error.reason)
    }
  }

  /// Pins and raises the calling thread as the settings say (sched_setaffinity and
  /// sched_setscheduler of thread 0, the caller).
  func placeCallingThread() throws(BPSTuneError) {
    do {
      if let cpus { try Syscalls.setAffinity(of: 0, cpus) }
      if let fifo {
        try Syscalls.setSchedule(of: 0, policy: ThreadSchedule.policyNumber("fifo")!, priority: Int32(fifo))
      }
    } catch {
      let option = error.operation == "sched_setaffinity" ? "--cpu \(cpus?.description ?? "")" : "--fifo \(fifo ?? 0)"
      throw .probe(what: option, message: error.reason)
    }
  }
}

/// A socket set up for one receive mode; `receive` waits at most until `deadline`.
struct Receiver {
  let socket: ProbeSocket
  let mode: ReceiveMode
  let epoll: EpollWaiter?

  /// One receive: bytes, nothing by the deadline (monotonic ns), or the TCP peer closed.
  /// Blocking mode returns at the socket's receive timeout at the latest.
  @inline(__always)
  func receive(
    into buffer: UnsafeMutableRawBufferPointer, deadline: UInt64, from: UnsafeMutablePointer<SocketAddress>? = nil
  ) throws(SystemError) -> ProbeSocket.Received {
    switch mode {
    case .blocking:
      return try socket.receive(into: buffer, from: from)
    case .spin:
      while true {
        let r = try socket.receive(into: buffer, from: from)
        if r != .nothing || Syscalls.monotonicNanoseconds() >= deadline { return r }
      }
    case .epoll:
      while true {
        let r = try socket.receive(into: buffer, from: from)
        if r != .nothing { return r }
        let now = Syscalls.monotonicNanoseconds()
        if now >= deadline { return .nothing }
        _ = try epoll!.wait(milliseconds: Int(min((deadline - now) / 1_000_000 + 1, 100)))
      }
    }
  }

  func close() {
    epoll?.close()
    socket.close()
  }
}
