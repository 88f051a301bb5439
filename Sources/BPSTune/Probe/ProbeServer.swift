import Synchronization
import SystemPackage

/// `bpstune probe server`: echoes every probe request back unchanged, over UDP and TCP on the
/// same port, with the same receive mode, busy polling and thread placement as the client
/// offers. Runs until SIGINT/SIGTERM or for `duration` seconds.
public struct ProbeServer {
  public struct Settings: Sendable {
    public var bind: SocketAddress
    public var socket = ProbeSocketSettings()
    /// Seconds to serve; nil until interrupted.
    public var duration: Double?

    public init(bind: SocketAddress) { self.bind = bind }
  }

  public var settings: Settings

  public init(settings: Settings) { self.settings = settings }

  /// Requests echoed, by transport.
  private final class Counts: Sendable {
    let udp = Atomic<UInt64>(0)
    let tcp = Atomic<UInt64>(0)
    let connections = Atomic<UInt64>(0)
    let stop = Atomic<Bool>(false)
  }

  /// Binds UDP and TCP, calls `ready` with the bound address (the port the kernel chose for
  /// port 0), serves, and returns the counts of requests echoed (udp, tcp, connections).
  public func run(ready: (SocketAddress) -> Void) throws(BPSTuneError) -> (
    udp: UInt64, tcp: UInt64, connections: UInt64
  ) {
    try settings.socket.validate()
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
      try tcp.setReceiveTimeout(milliseconds: 200)
    } catch {
      throw Self.bindError(error, bound)
    }
    try settings.socket.placeCallingThread()
    let udpReceiver = try settings.socket.prepare(udp, timeoutMilliseconds: 200)
    defer { udpReceiver.epoll?.close() }
    let counts = Counts()
    let placement = settings.socket
    let udpThread: ProbeThread
    do {
      udpThread = try ProbeThread.start {
        try? placement.placeCallingThread()
        Self.serveUDP(udpReceiver, counts: counts)
      }
    } catch {
      throw .probe(what: "server", message: "\(error.operation): \(error.reason)")
    }
    ready(bound)
    let end = settings.duration.map { Syscalls.monotonicNanoseconds() + UInt64($0 * 1e9) }
    var connections: [ProbeThread] = []
    while !Syscalls.interruptRequested && end.map({ Syscalls.monotonicNanoseconds() < $0 }) ?? true {
      guard let connection = try? tcp.accept() else { continue }
      counts.connections.add(1, ordering: .relaxed)
      guard (try? connection.setNoDelay()) != nil,
        let receiver = try? placement.prepare(connection, timeoutMilliseconds: 200)
      else {
        connection.close()
        continue
      }
      if let thread = try? ProbeThread.start({
        try? placement.placeCallingThread()
        Self.serveTCP(receiver, counts: counts)
        receiver.close()
      }) {
        connections.append(thread)
      } else {
        receiver.close()
      }
    }
    counts.stop.store(true, ordering: .relaxed)
    udpThread.join()
    for thread in connections { thread.join() }
    return (
      counts.udp.load(ordering: .relaxed), counts.tcp.load(ordering: .relaxed),
      counts.connections.load(ordering: .relaxed)
    )
  }

  private static func serveUDP(_ receiver: Receiver, counts: Counts) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 8)
    defer { buffer.deallocate() }
    var from = SocketAddress.unset
    while !counts.stop.load(ordering: .relaxed) && !Syscalls.interruptRequested {
      let deadline = Syscalls.monotonicNanoseconds() + 200_000_000
      guard case .bytes(let n) = try? receiver.receive(into: buffer, deadline: deadline, from: &from),
        ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: n) != nil
      else { continue }
      if (try? receiver.socket.send(UnsafeRawBufferPointer(rebasing: buffer[..<n]), to: from)) != nil {
        counts.udp.add(1, ordering: .relaxed)
      }
    }
  }

  /// Reads whole messages (the header says each one's length) and writes each back.
  private static func serveTCP(_ receiver: Receiver, counts: Counts) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ProbeMessage.maximumSize, alignment: 8)
    defer { buffer.deallocate() }
    var need = ProbeMessage.headerSize
    var got = 0
    while !counts.stop.load(ordering: .relaxed) && !Syscalls.interruptRequested {
      let deadline = Syscalls.monotonicNanoseconds() + 200_000_000
      let r = try? receiver.receive(
        into: UnsafeMutableRawBufferPointer(rebasing: buffer[got..<need]), deadline: deadline)
      switch r {
      case .bytes(let n)?: got += n
      case .nothing?: continue
      case .closed?, nil: return
      }
      if got < need { continue }
      if need == ProbeMessage.headerSize {
        guard let header = ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: got) else { return }
        need = header.length
        if got < need { continue }
      }
      guard (try? receiver.socket.send(UnsafeRawBufferPointer(rebasing: buffer[..<need]))) != nil else { return }
      counts.tcp.add(1, ordering: .relaxed)
      need = ProbeMessage.headerSize
      got = 0
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
