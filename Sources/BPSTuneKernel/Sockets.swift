import CLinux
import Synchronization
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// An IPv4 or IPv6 socket address with its port: "10.0.0.2:7878", "[fd00::2]:7878",
/// "host.example:7878" (getaddrinfo(3), first answer).
package struct SocketAddress: Sendable, CustomStringConvertible {
  var storage: sockaddr_storage
  var length: socklen_t

  /// Why a text is not a socket address: one line naming the text.
  package struct ParseError: Error, Sendable, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
  }

  /// Parses `text`; an empty or "*" host means every address (for bind). Throws a one-line
  /// reason naming the text.
  package init(parsing text: String) throws(ParseError) {
    var host: String
    var port: Substring
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
      host = String(text[text.index(after: text.startIndex)..<close])
      let rest = text[text.index(after: close)...]
      guard rest.hasPrefix(":") else { throw ParseError("\(text): expected [ADDRESS]:PORT") }
      port = rest.dropFirst()
    } else {
      guard let colon = text.lastIndex(of: ":") else { throw ParseError("\(text): expected ADDRESS:PORT") }
      host = String(text[..<colon])
      port = text[text.index(after: colon)...]
      if host.contains(":") { throw ParseError("\(text): write an IPv6 address as [ADDRESS]:PORT") }
    }
    guard let number = UInt16(port) else { throw ParseError("\(text): port must be 0 to 65535") }
    if host.isEmpty || host == "*" { host = "0.0.0.0" }
    var hints = addrinfo()
    hints.ai_flags = AI_NUMERICSERV
    hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(number), &hints, &result)
    guard status == 0, let first = result, let address = first.pointee.ai_addr else {
      let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
      throw ParseError("\(text): \(reason)")
    }
    defer { freeaddrinfo(result) }
    storage = sockaddr_storage()
    length = first.pointee.ai_addrlen
    withUnsafeMutableBytes(of: &storage) {
      $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length)))
    }
  }

  init(storage: sockaddr_storage, length: socklen_t) {
    self.storage = storage
    self.length = length
  }

  /// No address yet: what recvfrom fills in.
  package static var unset: SocketAddress { SocketAddress(storage: sockaddr_storage(), length: 0) }

  var family: Int32 { Int32(storage.ss_family) }

  /// The numeric host (getnameinfo(3)).
  package var host: String {
    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    var copy = storage
    let status = withUnsafePointer(to: &copy) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        getnameinfo($0, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
      }
    }
    guard status == 0 else { return "?" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  package var port: Int {
    withUnsafeBytes(of: storage) { raw in
      // sin_port and sin6_port both follow the 2-byte family, in network byte order.
      Int(raw[2]) << 8 | Int(raw[3])
    }
  }

  package var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

  func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    var copy = storage
    return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
  }

  /// The address without the port, as the kernel holds it: sin_addr's 4 bytes or sin6_addr's 16.
  package var addressBytes: [UInt8] {
    withUnsafeBytes(of: storage) { raw in
      family == AF_INET6 ? Array(raw[8..<24]) : family == AF_INET ? Array(raw[4..<8]) : []
    }
  }

  /// The wildcard address (0.0.0.0 or ::): a bind to every local address.
  package var isWildcard: Bool { addressBytes.allSatisfy { $0 == 0 } }

  /// Every address of this family the interfaces of this network namespace hold, with the
  /// interface's name (getifaddrs(3)), port 0; empty when getifaddrs fails.
  static func interfaceAddresses(family: Int32) -> [(name: String, address: SocketAddress)] {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { return [] }
    defer { freeifaddrs(list) }
    var found: [(name: String, address: SocketAddress)] = []
    var cursor = list
    while let entry = cursor {
      defer { cursor = entry.pointee.ifa_next }
      guard let address = entry.pointee.ifa_addr, Int32(address.pointee.sa_family) == family else { continue }
      let size = family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
      var other = sockaddr_storage()
      withUnsafeMutableBytes(of: &other) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: size)) }
      found.append((String(cString: entry.pointee.ifa_name), SocketAddress(storage: other, length: socklen_t(size))))
    }
    return found
  }

  /// Every address of this family the interfaces of this network namespace hold, port 0.
  static func localAddresses(family: Int32) -> [SocketAddress] {
    interfaceAddresses(family: family).map(\.address)
  }

  /// The address bytes (``addressBytes``) of every IPv4 and IPv6 address of this network
  /// namespace's interfaces (getifaddrs(3)).
  package static func localAddressBytes() -> [[UInt8]] {
    (localAddresses(family: AF_INET) + localAddresses(family: AF_INET6)).map(\.addressBytes)
  }

  /// The interface holding this (local) address (getifaddrs(3)); nil for a wildcard address or
  /// one no interface of this network namespace has.
  package var interfaceName: String? {
    let mine = addressBytes
    return Self.interfaceAddresses(family: family).first { $0.address.addressBytes == mine }?.name
  }
}

/// A UDP or TCP socket of the latency probe. Every call retries EINTR and throws a
/// ``SystemError`` naming the call and the address.
package struct ProbeSocket: Sendable {
  package enum Kind: String, Sendable, Codable { case udp, tcp }

  package let fd: Int32
  package let kind: Kind

  init(fd: Int32, kind: Kind) {
    self.fd = fd
    self.kind = kind
  }

  /// socket(2) of the address's family.
  package static func open(_ kind: Kind, for address: SocketAddress) throws(SystemError) -> ProbeSocket {
    let type = kind == .udp ? SOCK_DGRAM : SOCK_STREAM
    let fd = socket(address.family, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw SystemError("socket", address.description, Errno(rawValue: Glibc.errno)) }
    return ProbeSocket(fd: fd, kind: kind)
  }

  package func close() { _ = Glibc.close(fd) }

  /// setsockopt(2) of an int option; `name` says which in errors ("SO_BUSY_POLL").
  package func set(_ level: Int32, _ option: Int32, _ value: Int32, name: String) throws(SystemError) {
    var v = value
    if setsockopt(fd, level, option, &v, socklen_t(MemoryLayout<Int32>.size)) < 0 {
      throw SystemError("setsockopt \(name)", "\(value)", Errno(rawValue: Glibc.errno))
    }
  }

  /// getsockopt(2) of an int option.
  package func get(_ level: Int32, _ option: Int32, name: String) throws(SystemError) -> Int32 {
    var v: Int32 = 0
    var size = socklen_t(MemoryLayout<Int32>.size)
    if getsockopt(fd, level, option, &v, &size) < 0 {
      throw SystemError("getsockopt \(name)", "socket", Errno(rawValue: Glibc.errno))
    }
    return v
  }

  /// SO_BUSY_POLL (µs the socket's receive busy-polls its NAPI; above net.core.busy_read needs
  /// CAP_NET_ADMIN), SO_PREFER_BUSY_POLL and SO_BUSY_POLL_BUDGET (Linux 5.11+;
  /// a budget above net.core.busy_poll's default needs CAP_NET_ADMIN), from asm-generic/socket.h.
  package func setBusyPoll(microseconds: Int?, prefer: Bool, budget: Int?) throws(SystemError) {
    if let microseconds { try set(SOL_SOCKET, SO_BUSY_POLL, Int32(microseconds), name: "SO_BUSY_POLL") }
    if prefer { try set(SOL_SOCKET, SO_PREFER_BUSY_POLL, 1, name: "SO_PREFER_BUSY_POLL") }
    if let budget { try set(SOL_SOCKET, SO_BUSY_POLL_BUDGET, Int32(budget), name: "SO_BUSY_POLL_BUDGET") }
  }

  /// SO_INCOMING_NAPI_ID: the NAPI instance the last received packet came through; 0 when none
  /// (a veth without GRO, loopback).
  package func incomingNAPIID() -> Int {
    Int(UInt32(bitPattern: (try? get(SOL_SOCKET, SO_INCOMING_NAPI_ID, name: "SO_INCOMING_NAPI_ID")) ?? 0))
  }

  /// TCP_NODELAY: a request is sent at once, not held back by Nagle's algorithm.
  package func setNoDelay() throws(SystemError) {
    try set(Int32(IPPROTO_TCP), TCP_NODELAY, 1, name: "TCP_NODELAY")
  }

  /// fcntl(O_NONBLOCK).
  package func setNonBlocking() throws(SystemError) {
    let flags = fcntl(fd, F_GETFL)
    if flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 {
      throw SystemError("fcntl O_NONBLOCK", "socket", Errno(rawValue: Glibc.errno))
    }
  }

  /// SO_RCVTIMEO: a blocking receive returns EAGAIN after this long.
  package func setReceiveTimeout(milliseconds: Int) throws(SystemError) {
    var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    if setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) < 0 {
      throw SystemError("setsockopt SO_RCVTIMEO", "\(milliseconds) ms", Errno(rawValue: Glibc.errno))
    }
  }

  /// SO_SNDTIMEO: a send, and a TCP connect(2), give up with EAGAIN / EINPROGRESS after this long.
  package func setSendTimeout(milliseconds: Int) throws(SystemError) {
    var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    if setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) < 0 {
      throw SystemError("setsockopt SO_SNDTIMEO", "\(milliseconds) ms", Errno(rawValue: Glibc.errno))
    }
  }

  /// bind(2), with SO_REUSEADDR for a TCP listener (a restarted server binds at once).
  package func bind(_ address: SocketAddress) throws(SystemError) {
    if kind == .tcp { try set(SOL_SOCKET, SO_REUSEADDR, 1, name: "SO_REUSEADDR") }
    let r = address.withSockaddr { Glibc.bind(fd, $0, $1) }
    if r < 0 { throw SystemError("bind", address.description, Errno(rawValue: Glibc.errno)) }
  }

  /// listen(2) with a backlog of SOMAXCONN (the kernel caps it at net.core.somaxconn): a burst
  /// of connects waits in the accept queue to be accepted (and served or closed at once)
  /// instead of having its handshakes dropped and retried for seconds.
  package func listen() throws(SystemError) {
    if Glibc.listen(fd, SOMAXCONN) < 0 { throw SystemError("listen", "socket", Errno(rawValue: Glibc.errno)) }
  }

  /// accept(2), then FD_CLOEXEC; nil on EAGAIN (a listener with a receive timeout).
  package func accept() throws(SystemError) -> ProbeSocket? {
    while true {
      let r = Glibc.accept(fd, nil, nil)
      if r >= 0 {
        _ = fcntl(r, F_SETFD, FD_CLOEXEC)
        return ProbeSocket(fd: r, kind: .tcp)
      }
      let e = Errno(rawValue: Glibc.errno)
      if e == .interrupted { continue }
      if e == .resourceTemporarilyUnavailable { return nil }
      throw SystemError("accept", "socket", e)
    }
  }

  /// connect(2); a UDP socket connected to its peer receives only the peer's datagrams and
  /// learns of an ICMP port unreachable as ECONNREFUSED.
  package func connect(_ address: SocketAddress) throws(SystemError) {
    while true {
      let r = address.withSockaddr { Glibc.connect(fd, $0, $1) }
      if r == 0 { return }
      let e = Errno(rawValue: Glibc.errno)
      if e != .interrupted { throw SystemError("connect", address.description, e) }
    }
  }

  /// getsockname(2).
  package func localAddress() -> SocketAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let r = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return r == 0 ? SocketAddress(storage: storage, length: length) : nil
  }

  /// What a receive returned.
  package enum Received: Equatable, Sendable {
    case bytes(Int)
    /// EAGAIN: nothing yet (non-blocking) or the receive timeout passed (blocking).
    case nothing
    /// The TCP peer closed the connection.
    case closed
  }

  /// send(2) of the whole buffer (MSG_NOSIGNAL: a closed TCP peer is EPIPE, not SIGPIPE).
  package func send(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress? = nil) throws(SystemError) {
    var offset = 0
    var retryUntil: UInt64 = 0
    while offset < bytes.count {
      let r: Int
      if let peer {
        r = peer.withSockaddr {
          sendto(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL), $0, $1)
        }
      } else {
        r = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
      }
      if r >= 0 {
        offset += r
        continue
      }
      let e = Errno(rawValue: Glibc.errno)
      if e == .interrupted { continue }
      // A non-blocking socket (spin and epoll modes) with a full send buffer: try again for up
      // to a second. On a blocking one, EAGAIN is SO_SNDTIMEO passing: the peer stopped reading.
      if e == .resourceTemporarilyUnavailable && fcntl(fd, F_GETFL) & O_NONBLOCK != 0 {
        let now = Syscalls.monotonicNanoseconds()
        if retryUntil == 0 { retryUntil = now + 1_000_000_000 }
        if now < retryUntil && !Syscalls.interruptRequested { continue }
      }
      throw SystemError("send", peer?.description ?? "peer", e)
    }
  }

  /// One send(2) on a non-blocking socket (MSG_DONTWAIT | MSG_NOSIGNAL): the bytes the kernel
  /// took, 0 when its send buffer is full (EAGAIN). The probe server's TCP loop, which must not
  /// wait for one peer.
  package func sendAvailable(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
    while true {
      let r = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
      if r >= 0 { return r }
      let e = Errno(rawValue: Glibc.errno)
      if e == .interrupted { continue }
      if e == .resourceTemporarilyUnavailable { return 0 }
      throw SystemError("send", "peer", e)
    }
  }

  /// recv(2) into `buffer`: a datagram, or for TCP what has arrived. `from` receives the
  /// sender's address (recvfrom) for an unconnected UDP socket.
  package func receive(into buffer: UnsafeMutableRawBufferPointer, from: UnsafeMutablePointer<SocketAddress>? = nil)
    throws(SystemError) -> Received
  {
    while true {
      let r: Int
      if let from {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        r = withUnsafeMutablePointer(to: &storage) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(fd, buffer.baseAddress, buffer.count, 0, $0, &length)
          }
        }
        if r >= 0 { from.pointee = SocketAddress(storage: storage, length: length) }
      } else {
        r = recv(fd, buffer.baseAddress, buffer.count, 0)
      }
      if r > 0 || (r == 0 && kind == .udp) { return .bytes(r) }
      if r == 0 { return .closed }
      let e = Errno(rawValue: Glibc.errno)
      if e == .interrupted { continue }
      if e == .resourceTemporarilyUnavailable { return .nothing }
      throw SystemError("recv", "socket", e)
    }
  }
}

/// An epoll instance watching one socket, as an event-driven server waits for it; with
/// EPIOCSPARAMS its epoll_wait busy-polls the socket's NAPI (fs/eventpoll.c, Linux 6.9+).
package struct EpollWaiter: Sendable {
  package let fd: Int32

  /// epoll_create1(2) and EPOLL_CTL_ADD of `socket`.
  package init(watching socket: ProbeSocket) throws(SystemError) {
    fd = epoll_create1(Int32(EPOLL_CLOEXEC))
    if fd < 0 { throw SystemError("epoll_create1", "socket", Errno(rawValue: Glibc.errno)) }
    if bpstune_epoll_add(fd, socket.fd) < 0 {
      let e = Errno(rawValue: Glibc.errno)
      Glibc.close(fd)
      throw SystemError("epoll_ctl", "socket", e)
    }
  }

  /// ioctl(EPIOCSPARAMS): busy-poll µs, budget and prefer for this epoll instance. ENOTTY on
  /// kernels before 6.9.
  package func setBusyPoll(microseconds: Int, budget: Int, prefer: Bool) throws(SystemError) {
    if bpstune_epoll_set_params(fd, UInt32(microseconds), UInt32(budget), prefer ? 1 : 0) < 0 {
      throw SystemError("ioctl EPIOCSPARAMS", "epoll", Errno(rawValue: Glibc.errno))
    }
  }

  /// epoll_wait(2): true when the socket is readable, false after `milliseconds`.
  package func wait(milliseconds: Int) throws(SystemError) -> Bool {
    while true {
      let r = bpstune_epoll_wait_one(fd, Int32(milliseconds))
      if r >= 0 { return r > 0 }
      let e = Errno(rawValue: Glibc.errno)
      if e != .interrupted { throw SystemError("epoll_wait", "epoll", e) }
    }
  }

  package func close() { _ = Glibc.close(fd) }
}

/// An epoll instance watching many descriptors: the probe server's one TCP loop, which serves
/// its listener and every connection (epoll(7), level-triggered).
package struct EpollSet: Sendable {
  package let fd: Int32

  /// epoll_create1(2).
  package init() throws(SystemError) {
    fd = epoll_create1(Int32(EPOLL_CLOEXEC))
    if fd < 0 { throw SystemError("epoll_create1", "probe server", Errno(rawValue: Glibc.errno)) }
  }

  package static let readable = UInt32(EPOLLIN.rawValue)
  package static let writable = UInt32(EPOLLOUT.rawValue)
  /// EPOLLERR and EPOLLHUP, which epoll_wait reports whether asked for or not.
  package static let failed = UInt32(EPOLLERR.rawValue) | UInt32(EPOLLHUP.rawValue)

  /// epoll_ctl(EPOLL_CTL_ADD).
  package func add(_ descriptor: Int32, events: UInt32) throws(SystemError) {
    if bpstune_epoll_ctl(fd, EPOLL_CTL_ADD, descriptor, events) < 0 {
      throw SystemError("epoll_ctl EPOLL_CTL_ADD", "fd \(descriptor)", Errno(rawValue: Glibc.errno))
    }
  }

  /// epoll_ctl(EPOLL_CTL_MOD): what to wait for (0: nothing, the descriptor paused).
  package func modify(_ descriptor: Int32, events: UInt32) throws(SystemError) {
    if bpstune_epoll_ctl(fd, EPOLL_CTL_MOD, descriptor, events) < 0 {
      throw SystemError("epoll_ctl EPOLL_CTL_MOD", "fd \(descriptor)", Errno(rawValue: Glibc.errno))
    }
  }

  /// epoll_ctl(EPOLL_CTL_DEL); closing a descriptor also removes it.
  package func remove(_ descriptor: Int32) {
    _ = bpstune_epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, 0)
  }

  /// Whether this kernel takes EPIOCSPARAMS (Linux 6.9+): tried on an epoll instance of
  /// bpstune's own, made for the question and closed at once; ENOTTY means it does not.
  package static func kernelTakesBusyPollParameters() -> Bool {
    guard let probe = try? EpollSet() else { return false }
    defer { probe.close() }
    do {
      try probe.setBusyPoll(microseconds: 0, budget: 0, prefer: false)
      return true
    } catch {
      return error.errno != .inappropriateIOCTLForDevice
    }
  }

  /// ioctl(EPIOCSPARAMS): busy-poll µs, budget and prefer (Linux 6.9+, ENOTTY before).
  package func setBusyPoll(microseconds: Int, budget: Int, prefer: Bool) throws(SystemError) {
    if bpstune_epoll_set_params(fd, UInt32(microseconds), UInt32(budget), prefer ? 1 : 0) < 0 {
      throw SystemError("ioctl EPIOCSPARAMS", "epoll", Errno(rawValue: Glibc.errno))
    }
  }

  /// epoll_wait(2) for up to 64 events (0 ms: a poll that does not sleep); calls `body` with
  /// each ready descriptor and its events, and returns how many there were.
  @discardableResult
  package func wait(milliseconds: Int, _ body: (Int32, UInt32) -> Void) throws(SystemError) -> Int {
    var fds = [Int32](repeating: 0, count: 64)
    var events = [UInt32](repeating: 0, count: 64)
    while true {
      let r = bpstune_epoll_wait_many(fd, &fds, &events, 64, Int32(clamping: milliseconds))
      if r >= 0 {
        for i in 0..<Int(r) { body(fds[i], events[i]) }
        return Int(r)
      }
      let e = Errno(rawValue: Glibc.errno)
      if e != .interrupted { throw SystemError("epoll_wait", "probe server", e) }
    }
  }

  package func close() { _ = Glibc.close(fd) }
}

/// A thread of the probe's own (pthread_create(3)): the open loop's sender, a server's
/// listeners. Joined before the probe reports.
package final class ProbeThread: @unchecked Sendable {
  private let thread: pthread_t

  private init(thread: pthread_t) { self.thread = thread }

  private final class Body {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
  }

  package static func start(_ run: @escaping @Sendable () -> Void) throws(SystemError) -> ProbeThread {
    let body = Unmanaged.passRetained(Body(run)).toOpaque()
    var thread = pthread_t()
    let r = pthread_create(
      &thread, nil,
      { argument in
        Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
        return nil
      }, body)
    if r != 0 {
      Unmanaged<Body>.fromOpaque(body).release()
      throw SystemError("pthread_create", "probe thread", Errno(rawValue: r))
    }
    return ProbeThread(thread: thread)
  }

  /// pthread_join(3).
  package func join() { _ = pthread_join(thread, nil) }
}

/// SIGINT and SIGTERM as a flag the probe's loops poll, so that an interrupted run still
/// reports what it measured and `probe compare` still rolls back.
private let interrupted = Atomic<Int32>(0)

extension Syscalls {
  /// clock_gettime(CLOCK_MONOTONIC) in nanoseconds.
  @inline(__always)
  package static func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
  }

  /// clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until `deadline` (nanoseconds of
  /// ``monotonicNanoseconds()``).
  package static func sleep(untilMonotonic deadline: UInt64) {
    var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
  }

  /// prctl(PR_SET_TIMERSLACK) of the calling thread: its timed sleeps end within this many
  /// nanoseconds of their deadline instead of the default 50 µs.
  package static func setTimerSlack(nanoseconds: Int) {
    _ = bpstune_set_timer_slack(UInt(nanoseconds))
  }

  /// getrusage(RUSAGE_SELF): user plus system CPU time of every thread, in nanoseconds.
  package static func processCPUTime() -> UInt64 {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    func ns(_ t: timeval) -> UInt64 { UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_usec) * 1000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
  }

  /// sigaction(2) of SIGINT and SIGTERM to a handler that sets ``interruptRequested``, and
  /// pthread_sigmask(SIG_UNBLOCK) of both: a parent that blocks them (a thread pool's) passes
  /// its mask on through exec, and the probe would never hear them. Call before starting the
  /// probe's threads, which inherit the mask.
  package static func catchInterrupts() {
    var set = sigset_t()
    sigemptyset(&set)
    for signal in [SIGINT, SIGTERM] {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = { _ in interrupted.store(1, ordering: .relaxed) }
      sigemptyset(&action.sa_mask)
      sigaction(signal, &action, nil)
      sigaddset(&set, signal)
    }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }

  /// getrlimit/setrlimit(RLIMIT_NOFILE): raises the soft limit of open descriptors to at least
  /// `count`, as far as the hard limit allows; returns the soft limit in force afterwards.
  @discardableResult
  package static func raiseOpenFileLimit(to count: Int) -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    let wanted = rlim_t(count)
    if limit.rlim_cur < wanted {
      var raised = limit
      raised.rlim_cur = min(wanted, limit.rlim_max)
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return limit.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
  }

  /// Whether SIGINT or SIGTERM arrived since ``catchInterrupts()``.
  package static var interruptRequested: Bool { interrupted.load(ordering: .relaxed) != 0 }
}
