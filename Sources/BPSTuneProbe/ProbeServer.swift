import BPSTuneCore
import BPSTuneKernel
import Synchronization
import SystemPackage

/// `bpstune probe server`: answers every probe request with its echo (the reply flag set),
/// over UDP and TCP on the same port, with the same receive mode, busy polling and thread
/// placement as the client offers. Runs until SIGINT/SIGTERM or for `duration` seconds.
///
/// What it does not answer: a message that is itself a reply (two servers would otherwise
/// bounce one spoofed datagram between them forever), and a datagram from its own address and
/// port (it would answer itself forever). TCP is served by one epoll loop on the calling
/// thread, at most `maxConnections` peers at a time (more are accepted and closed at once),
/// each closed when `idleTimeout` seconds pass without a whole message answered (counted from
/// the connection's start, then from its last reply sent in full): a peer trickling a byte now
/// and then is closed like a silent one. Each wake-up answers at most
/// ``messagesPerWakeup`` messages of one connection and accepts at most ``acceptsPerWakeup``
/// connections, so neither a peer pipelining requests nor a connect flood holds the loop while
/// the others wait. The server has two threads whatever its peers do, and its memory is
/// bounded by the connection limit.
package struct ProbeServer {
  package struct Settings: Sendable {
    package var bind: SocketAddress
    package var socket = ProbeSocketSettings()
    /// Seconds to serve; nil until interrupted.
    package var duration: Double?
    /// TCP peers served at once; a connection beyond them is accepted and closed at once.
    package var maxConnections = 8
    /// Seconds a TCP peer may go without a whole message answered (from its connection's start,
    /// then from its last reply sent in full) before it is closed: sending a byte now and then,
    /// or taking its reply a byte at a time, does not keep it.
    package var idleTimeout = 10.0

    package init(bind: SocketAddress) { self.bind = bind }

    package static let maximumDuration = 31_536_000.0
    package static let connectionRange = 1...1024
    package static let maximumIdleTimeout = 86_400.0

    /// Every number in range; each refusal names its option.
    package func validate() throws(BPSTuneError) {
      try socket.validate()
      if let duration, !(duration > 0 && duration <= Self.maximumDuration) {
        throw .usage("--duration \(duration): must be above 0 and at most \(Int(Self.maximumDuration)) s")
      }
      if !Self.connectionRange.contains(maxConnections) {
        throw .usage(
          "--max-connections \(maxConnections): must be \(Self.connectionRange.lowerBound) to \(Self.connectionRange.upperBound)"
        )
      }
      if !(idleTimeout > 0 && idleTimeout <= Self.maximumIdleTimeout) {
        throw .usage("--idle-timeout \(idleTimeout): must be above 0 and at most \(Int(Self.maximumIdleTimeout)) s")
      }
    }
  }

  package var settings: Settings

  package init(settings: Settings) { self.settings = settings }

  /// Messages of one TCP connection answered in one wake-up of the loop; the rest wait for the
  /// next (epoll is level-triggered: what is left in the socket wakes it again at once), after
  /// every other ready peer has had its turn. A closed-loop peer then waits at most one batch
  /// of 16 per other ready connection (three system calls each: the header, the rest, the
  /// reply), while a pipelining peer still gets its requests answered 16 to a wake-up.
  package static let messagesPerWakeup = 16
  /// Connections accepted in one wake-up; a flood of connects waits for the next, after the
  /// connections already served have had their turn.
  package static let acceptsPerWakeup = 16

  /// What the server did.
  package struct Counts: Sendable, Equatable {
    /// Requests answered, by transport.
    package var udp: UInt64 = 0
    package var tcp: UInt64 = 0
    /// TCP connections served.
    package var connections: UInt64 = 0
    /// Messages not answered: replies, and datagrams from the server's own address and port.
    package var dropped: UInt64 = 0
    /// TCP connections closed at once: beyond the connection limit.
    package var refused: UInt64 = 0
    /// TCP connections closed after the idle timeout.
    package var idleClosed: UInt64 = 0
  }

  /// The UDP thread's counts, read after it is joined.
  private final class UDPCounts: Sendable {
    let answered = Atomic<UInt64>(0)
    let dropped = Atomic<UInt64>(0)
    let stop = Atomic<Bool>(false)
  }

  /// Binds UDP and TCP, calls `ready` with the bound address (the port the kernel chose for
  /// port 0), serves, and returns what it did.
  package func run(ready: (SocketAddress) -> Void) throws(BPSTuneError) -> Counts {
    try settings.validate()
    let wanted = settings.bind
    let udp: ProbeSocket
    let tcp: ProbeSocket
    var bound = wanted
    do {
      udp = try ProbeSocket.open(.udp, for: wanted)
    } catch {
      throw .probe(what: wanted.description, message: "\(error.operation): \(error.reason)")
    }
    defer { udp.close() }
    do {
      try udp.bind(wanted)
      if let local = udp.localAddress() { bound = local }
      tcp = try ProbeSocket.open(.tcp, for: bound)
    } catch {
      throw Self.bindError(error, wanted)
    }
    defer { tcp.close() }
    do {
      try tcp.bind(bound)
      try tcp.listen()
      try tcp.setNonBlocking()
    } catch {
      throw Self.bindError(error, bound)
    }
    // Every connection, the listener, the UDP socket, epoll and standard streams.
    Syscalls.raiseOpenFileLimit(to: settings.maxConnections + 32)
    try settings.socket.placeCallingThread()
    let udpReceiver = try settings.socket.prepare(udp, timeoutMilliseconds: 200)
    defer { udpReceiver.epoll?.close() }
    let loop = try TCPLoop(listener: tcp, settings: settings)
    defer { loop.close() }
    let udpCounts = UDPCounts()
    let placement = settings.socket
    let own = OwnEndpoint(bound)
    let udpThread: ProbeThread
    do {
      udpThread = try ProbeThread.start {
        try? placement.placeCallingThread()
        Self.serveUDP(udpReceiver, own: own, counts: udpCounts)
      }
    } catch {
      throw .probe(what: "server", message: "\(error.operation): \(error.reason)")
    }
    ready(bound)
    let end = settings.duration.map { Syscalls.monotonicNanoseconds() + UInt64($0 * 1e9) }
    var counts = Counts()
    let failure = loop.serve(until: end, counts: &counts)
    udpCounts.stop.store(true, ordering: .relaxed)
    udpThread.join()
    if let failure { throw .probe(what: "server", message: "\(failure.operation): \(failure.reason)") }
    counts.udp = udpCounts.answered.load(ordering: .relaxed)
    counts.dropped += udpCounts.dropped.load(ordering: .relaxed)
    return counts
  }

  /// The server's own address and port, for telling a datagram it sent itself (or one spoofed
  /// as if it had): a wildcard bind holds every local address of the namespace (getifaddrs,
  /// read again at most once a second, as addresses come and go) and all of 127.0.0.0/8.
  final class OwnEndpoint: @unchecked Sendable {
    let bound: SocketAddress
    private var locals: [[UInt8]] = []
    private var readAt: UInt64 = 0

    init(_ bound: SocketAddress) { self.bound = bound }

    /// Whether `source` is the server itself. Called from the UDP thread only.
    func contains(_ source: SocketAddress) -> Bool {
      guard source.port == bound.port else { return false }
      if !bound.isWildcard { return source.addressBytes == bound.addressBytes }
      var bytes = source.addressBytes
      // An IPv4 peer of an IPv6 wildcard socket arrives as ::ffff:a.b.c.d.
      if bytes.count == 16 && bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
        bytes = Array(bytes[12...])
      }
      if bytes.count == 4 && bytes[0] == 127 { return true }
      let now = Syscalls.monotonicNanoseconds()
      if readAt == 0 || now - readAt > 1_000_000_000 {
        locals = SocketAddress.localAddressBytes()
        readAt = now
      }
      return locals.contains(bytes)
    }
  }

  private static func serveUDP(_ receiver: Receiver, own: OwnEndpoint, counts: UDPCounts) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 8)
    defer { buffer.deallocate() }
    var from = SocketAddress.unset
    while !counts.stop.load(ordering: .relaxed) && !Syscalls.interruptRequested {
      let deadline = Syscalls.monotonicNanoseconds() + 200_000_000
      guard case .bytes(let n) = try? receiver.receive(into: buffer, deadline: deadline, from: &from),
        let header = ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: n)
      else { continue }
      if header.isReply || own.contains(from) {
        counts.dropped.add(1, ordering: .relaxed)
        continue
      }
      ProbeMessage.markReply(buffer)
      if (try? receiver.socket.send(UnsafeRawBufferPointer(rebasing: buffer[..<n]), to: from)) != nil {
        counts.answered.add(1, ordering: .relaxed)
      }
    }
  }

  static func bindError(_ error: SystemError, _ address: SocketAddress) -> BPSTuneError {
    if error.errno == .addressInUse {
      return .probe(
        what: "--bind \(address)", message: "address in use (EADDRINUSE): another server listens on that port")
    }
    return .probe(what: "--bind \(address)", message: "\(error.operation): \(error.reason)")
  }
}

/// The server's TCP side: one epoll instance watching the listener and every connection, on
/// one thread. Each connection reads one whole message (the header says its length), writes
/// it back with the reply flag, and reads the next; a peer that does not take its reply
/// waits in EPOLLOUT without holding up the others.
final class TCPLoop {
  final class Connection {
    let socket: ProbeSocket
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ProbeMessage.maximumSize, alignment: 8)
    var got = 0
    var need = ProbeMessage.headerSize
    /// Bytes of the reply sent; nil while reading.
    var sent: Int?
    /// When the connection was accepted or its last reply went out in full: the idle timeout
    /// counts from here, whatever bytes arrived since.
    var lastAnswered: UInt64

    init(_ socket: ProbeSocket, now: UInt64) {
      self.socket = socket
      lastAnswered = now
    }

    deinit { buffer.deallocate() }
  }

  let listener: ProbeSocket
  let settings: ProbeServer.Settings
  let epoll: EpollSet
  private var connections: [Int32: Connection] = [:]
  private var listenerPausedUntil: UInt64?

  init(listener: ProbeSocket, settings: ProbeServer.Settings) throws(BPSTuneError) {
    self.listener = listener
    self.settings = settings
    let s = settings.socket
    do throws(SystemError) {
      epoll = try EpollSet()
      do {
        try epoll.add(listener.fd, events: EpollSet.readable)
        if s.receiveMode == .epoll, let busyPoll = s.busyPoll {
          try epoll.setBusyPoll(microseconds: busyPoll, budget: s.busyPollBudget ?? 8, prefer: s.preferBusyPoll)
        }
      } catch {
        epoll.close()
        throw error
      }
    } catch {
      if error.errno == .inappropriateIOCTLForDevice {
        throw .probe(
          what: "--receive epoll --busy-poll",
          message: "epoll busy-poll parameters (EPIOCSPARAMS) need Linux 6.9+; this is \(Syscalls.uname().release)")
      }
      throw .probe(what: error.operation, message: error.reason)
    }
  }

  func close() {
    for connection in connections.values { connection.socket.close() }
    connections.removeAll()
    epoll.close()
  }

  /// Serves until `end` (monotonic ns) or an interrupt; an error of epoll itself ends it.
  func serve(until end: UInt64?, counts: inout ProbeServer.Counts) -> SystemError? {
    let idle = UInt64(settings.idleTimeout * 1e9)
    // Spin: epoll_wait never sleeps while a peer is connected. Otherwise it wakes at least every
    // 100 ms, to see the end, an interrupt and idle peers.
    let spin = settings.socket.receiveMode == .spin
    var nextIdleCheck: UInt64 = 0
    var ready: [(Int32, UInt32)] = []
    ready.reserveCapacity(64)
    while !Syscalls.interruptRequested {
      let now = Syscalls.monotonicNanoseconds()
      if let end, now >= end { break }
      if let paused = listenerPausedUntil, now >= paused {
        listenerPausedUntil = nil
        try? epoll.modify(listener.fd, events: EpollSet.readable)
      }
      if now >= nextIdleCheck {
        for (fd, connection) in connections where now &- connection.lastAnswered > idle {
          drop(fd, connection)
          counts.idleClosed += 1
        }
        nextIdleCheck = now + min(idle / 4 + 1, 50_000_000)
      }
      ready.removeAll(keepingCapacity: true)
      do {
        try epoll.wait(milliseconds: spin && !connections.isEmpty ? 0 : 100) { fd, events in
          ready.append((fd, events))
        }
      } catch {
        return error
      }
      for (fd, events) in ready {
        if fd == listener.fd {
          acceptAll(counts: &counts)
        } else if let connection = connections[fd] {
          if !serve(connection, events: events, counts: &counts) { drop(fd, connection) }
        }
      }
    }
    return nil
  }

  /// Accepts pending connections, at most ``ProbeServer/acceptsPerWakeup`` (the listener
  /// stays readable for the rest): served while under the limit, closed at once beyond it.
  /// An accept that fails (no descriptor left: EMFILE, ENFILE) pauses the listener for 100 ms
  /// instead of waking the loop over and over.
  private func acceptAll(counts: inout ProbeServer.Counts) {
    for _ in 0..<ProbeServer.acceptsPerWakeup {
      let accepted: ProbeSocket?
      do {
        accepted = try listener.accept()
      } catch {
        try? epoll.modify(listener.fd, events: 0)
        listenerPausedUntil = Syscalls.monotonicNanoseconds() + 100_000_000
        return
      }
      guard let socket = accepted else { return }
      if connections.count >= settings.maxConnections {
        socket.close()
        counts.refused += 1
        continue
      }
      let s = settings.socket
      do {
        try socket.setNonBlocking()
        try socket.setNoDelay()
        if s.receiveMode != .epoll {
          try socket.setBusyPoll(microseconds: s.busyPoll, prefer: s.preferBusyPoll, budget: s.busyPollBudget)
        }
        try epoll.add(socket.fd, events: EpollSet.readable)
      } catch {
        socket.close()
        continue
      }
      connections[socket.fd] = Connection(socket, now: Syscalls.monotonicNanoseconds())
      counts.connections += 1
    }
  }

  private func drop(_ fd: Int32, _ connection: Connection) {
    epoll.remove(fd)
    connection.socket.close()
    connections[fd] = nil
  }

  /// Reads and answers what the peer sent, at most ``ProbeServer/messagesPerWakeup`` messages
  /// (the rest stay in the socket, which wakes the loop again); false when the connection is
  /// over (closed, reset, a message that is not a request).
  private func serve(_ c: Connection, events: UInt32, counts: inout ProbeServer.Counts) -> Bool {
    var answered = 0
    if c.sent != nil {
      guard events & (EpollSet.writable | EpollSet.failed) != 0 else { return true }
      switch flush(c, counts: &counts) {
      case nil: return false
      case false?: return true
      case true?: break
      }
      guard (try? epoll.modify(c.socket.fd, events: EpollSet.readable)) != nil else { return false }
      answered += 1
    }
    while answered < ProbeServer.messagesPerWakeup {
      let r = try? c.socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: c.buffer[c.got..<c.need]))
      switch r {
      case .bytes(let n)?: c.got += n
      case .nothing?: return true
      case .closed?, nil: return false
      }
      if c.got < c.need { continue }
      if c.need == ProbeMessage.headerSize {
        guard let header = ProbeMessage.read(UnsafeRawBufferPointer(c.buffer), count: c.got), !header.isReply else {
          counts.dropped += 1
          return false
        }
        c.need = header.length
        if c.got < c.need { continue }
      }
      ProbeMessage.markReply(c.buffer)
      c.sent = 0
      switch flush(c, counts: &counts) {
      case nil: return false
      case false?: return (try? epoll.modify(c.socket.fd, events: EpollSet.writable)) != nil
      case true?: answered += 1
      }
    }
    return true
  }

  /// Sends what is left of the reply: true when all of it went (and the connection reads the
  /// next message), false when the peer's window is full, nil on an error.
  private func flush(_ c: Connection, counts: inout ProbeServer.Counts) -> Bool? {
    while let sent = c.sent, sent < c.need {
      guard let n = try? c.socket.sendAvailable(UnsafeRawBufferPointer(rebasing: c.buffer[sent..<c.need])) else {
        return nil
      }
      if n == 0 { return false }
      c.sent = sent + n
    }
    counts.tcp += 1
    c.lastAnswered = Syscalls.monotonicNanoseconds()
    c.sent = nil
    c.got = 0
    c.need = ProbeMessage.headerSize
    return true
  }
}
