import CNetlink
import SystemPackage

/// What the kernel's `netdev` generic netlink family can do, found from the family's op list
/// (CTRL_CMD_GETFAMILY) and napi-set's policy (CTRL_CMD_GETPOLICY), never by trial writes.
package struct NetdevCapabilities: Sendable, Equatable {
  /// The family exists (Linux 6.5+).
  package var family: Bool
  /// queue-get and napi-get (6.8+): which NAPI serves which queue, its IRQ and kthread.
  package var napiGet: Bool
  /// napi-set (6.13+): per-NAPI defer-hard-irqs, gro-flush-timeout, irq-suspend-timeout.
  package var napiSet: Bool
  /// napi-set takes `threaded` (6.17+: disabled or enabled).
  package var threaded: Bool
  /// `threaded` takes busy-poll (6.19+).
  package var busyPoll: Bool
  /// napi-set takes `irq-suspend-timeout` (6.13+, the IRQ suspension series).
  package var irqSuspend: Bool

  /// `irqSuspend` defaults to `napiSet`: both came with Linux 6.13.
  package init(family: Bool, napiGet: Bool, napiSet: Bool, threaded: Bool, busyPoll: Bool, irqSuspend: Bool? = nil) {
    self.family = family
    self.napiGet = napiGet
    self.napiSet = napiSet
    self.threaded = threaded
    self.busyPoll = busyPoll
    self.irqSuspend = irqSuspend ?? napiSet
  }

  /// Everything (a current kernel).
  package static let all = NetdevCapabilities(
    family: true, napiGet: true, napiSet: true, threaded: true, busyPoll: true)
  /// No netdev family at all.
  package static let none = NetdevCapabilities(
    family: false, napiGet: false, napiSet: false, threaded: false, busyPoll: false)
}

/// A NAPI instance as napi-get reports it. Values the kernel leaves out are nil.
package struct NAPIInfo: Sendable, Equatable {
  package var id: UInt32
  package var ifindex: UInt32
  package var irq: UInt32?
  /// The NAPI kthread's pid, while it has one (threaded enabled or busy-poll).
  package var pid: UInt32?
  package var deferHardIRQs: UInt32?
  package var groFlushTimeout: UInt64?
  package var irqSuspendTimeout: UInt64?
  /// 0 disabled, 1 enabled, 2 busy-poll.
  package var threaded: UInt32?

  package init(
    id: UInt32, ifindex: UInt32, irq: UInt32? = nil, pid: UInt32? = nil, deferHardIRQs: UInt32? = nil,
    groFlushTimeout: UInt64? = nil, irqSuspendTimeout: UInt64? = nil, threaded: UInt32? = nil
  ) {
    self.id = id
    self.ifindex = ifindex
    self.irq = irq
    self.pid = pid
    self.deferHardIRQs = deferHardIRQs
    self.groFlushTimeout = groFlushTimeout
    self.irqSuspendTimeout = irqSuspendTimeout
    self.threaded = threaded
  }
}

/// One queue as queue-get reports it.
package struct QueueInfo: Sendable, Equatable {
  package var rx: Bool
  package var index: UInt32
  /// The NAPI serving the queue; nil when the driver does not say (veth, igb before 6.14).
  package var napiID: UInt32?

  package init(rx: Bool, index: UInt32, napiID: UInt32?) {
    self.rx = rx
    self.index = index
    self.napiID = napiID
  }
}

/// napi-set's attributes; nil ones are not sent.
package struct NAPIChange: Sendable, Equatable {
  package var deferHardIRQs: UInt32?
  package var groFlushTimeout: UInt64?
  package var irqSuspendTimeout: UInt64?
  package var threaded: UInt32?

  package init(
    deferHardIRQs: UInt32? = nil, groFlushTimeout: UInt64? = nil, irqSuspendTimeout: UInt64? = nil,
    threaded: UInt32? = nil
  ) {
    self.deferHardIRQs = deferHardIRQs
    self.groFlushTimeout = groFlushTimeout
    self.irqSuspendTimeout = irqSuspendTimeout
    self.threaded = threaded
  }
}

/// Carries the `netdev` family's requests: ``KernelNetdev`` in production, a model in unit tests.
package protocol NetdevTransport: Sendable {
  func capabilities() throws(SystemError) -> NetdevCapabilities
  /// queue-get dump, this device's queues.
  func queues(ifindex: UInt32, interface: String) throws(SystemError) -> [QueueInfo]
  /// napi-get dump filtered by ifindex.
  func napis(ifindex: UInt32, interface: String) throws(SystemError) -> [NAPIInfo]
  /// napi-set of one NAPI.
  func set(napi id: UInt32, _ change: NAPIChange, interface: String) throws(SystemError)
}

/// The running kernel's `netdev` family through libnl-genl-3 (``GenericNetlink``).
/// Numbers are include/uapi/linux/netdev.h's (Debian bookworm's linux-libc-dev 6.1 predates them).
package struct KernelNetdev: NetdevTransport {
  package init() {}

  static let name = "netdev"
  static let version = 1
  enum Command {
    static let queueGet = 10
    static let napiGet = 11
    static let napiSet = 14
  }
  /// NETDEV_A_NAPI_*.
  enum NAPIAttribute {
    static let ifindex = 1
    static let id = 2
    static let irq = 3
    static let pid = 4
    static let deferHardIRQs = 5
    static let groFlushTimeout = 6
    static let irqSuspendTimeout = 7
    static let threaded = 8
    static let max = 8
  }
  /// NETDEV_A_QUEUE_*.
  enum QueueAttribute {
    static let id = 1
    static let ifindex = 2
    static let type = 3
    static let napiID = 4
    static let max = 4
  }

  package func capabilities() throws(SystemError) -> NetdevCapabilities {
    let family = try GenericNetlink.family(Self.name)
    guard let ops = family else { return .none }
    guard ops.contains(Self.Command.napiSet) else {
      return NetdevCapabilities(
        family: true, napiGet: ops.contains(Self.Command.napiGet) && ops.contains(Self.Command.queueGet),
        napiSet: false, threaded: false, busyPoll: false)
    }
    let policy = try GenericNetlink.policy(family: Self.name, command: Self.Command.napiSet)
    let threaded = policy[NAPIAttribute.threaded]
    return NetdevCapabilities(
      family: true, napiGet: true, napiSet: true, threaded: threaded != nil,
      busyPoll: (threaded.flatMap { $0 } ?? 0) >= 2, irqSuspend: policy[NAPIAttribute.irqSuspendTimeout] != nil)
  }

  package func queues(ifindex: UInt32, interface: String) throws(SystemError) -> [QueueInfo] {
    try dump(Command.queueGet, ifindexAttribute: QueueAttribute.ifindex, max: QueueAttribute.max, ifindex, interface) {
      r in
      guard let id = r.u32(QueueAttribute.id), let type = r.u32(QueueAttribute.type) else { return nil }
      return QueueInfo(rx: type == 0, index: id, napiID: r.u32(QueueAttribute.napiID))
    }
  }

  package func napis(ifindex: UInt32, interface: String) throws(SystemError) -> [NAPIInfo] {
    try dump(Command.napiGet, ifindexAttribute: NAPIAttribute.ifindex, max: NAPIAttribute.max, ifindex, interface) {
      r in
      guard let id = r.u32(NAPIAttribute.id) else { return nil }
      return NAPIInfo(
        id: id, ifindex: ifindex, irq: r.u32(NAPIAttribute.irq), pid: r.u32(NAPIAttribute.pid),
        deferHardIRQs: r.u32(NAPIAttribute.deferHardIRQs), groFlushTimeout: r.uint(NAPIAttribute.groFlushTimeout),
        irqSuspendTimeout: r.uint(NAPIAttribute.irqSuspendTimeout), threaded: r.u32(NAPIAttribute.threaded))
    }
  }

  /// A dump of `command` filtered by ifindex (the kernel filters; replies of other devices are
  /// dropped here too), each reply turned into a value by `parse`.
  private func dump<T>(
    _ command: Int, ifindexAttribute: Int, max: Int, _ ifindex: UInt32, _ interface: String,
    parse: (GenericNetlink.Attributes) -> T?
  ) throws(SystemError) -> [T] {
    var out: [T] = []
    try GenericNetlink.request(
      family: Self.name, version: Self.version, command: command, kind: .dump, maxAttribute: max, what: interface,
      build: { msg in nla_put_u32(msg, Int32(ifindexAttribute), ifindex) }
    ) { r in
      if r.u32(ifindexAttribute) == ifindex, let value = parse(r) { out.append(value) }
    }
    return out
  }

  package func set(napi id: UInt32, _ change: NAPIChange, interface: String) throws(SystemError) {
    let found = try GenericNetlink.request(
      family: Self.name, version: Self.version, command: Self.Command.napiSet, maxAttribute: NAPIAttribute.max,
      what: interface
    ) { msg in
      var r = nla_put_u32(msg, Int32(NAPIAttribute.id), id)
      if r >= 0, let v = change.deferHardIRQs { r = nla_put_u32(msg, Int32(NAPIAttribute.deferHardIRQs), v) }
      if r >= 0, let v = change.groFlushTimeout { r = nla_put_u64(msg, Int32(NAPIAttribute.groFlushTimeout), v) }
      if r >= 0, let v = change.irqSuspendTimeout { r = nla_put_u64(msg, Int32(NAPIAttribute.irqSuspendTimeout), v) }
      if r >= 0, let v = change.threaded { r = nla_put_u32(msg, Int32(NAPIAttribute.threaded), v) }
      return r
    }
    if !found { throw SystemError("netdev netlink napi-set", interface, .notSupported) }
  }
}

/// A directory tree standing in for the kernel has no netdev family.
package struct AbsentNetdev: NetdevTransport {
  package init() {}
  package func capabilities() throws(SystemError) -> NetdevCapabilities { .none }
  package func queues(ifindex: UInt32, interface: String) throws(SystemError) -> [QueueInfo] {
    throw SystemError("netdev netlink queue-get", interface, .notSupported)
  }
  package func napis(ifindex: UInt32, interface: String) throws(SystemError) -> [NAPIInfo] {
    throw SystemError("netdev netlink napi-get", interface, .notSupported)
  }
  package func set(napi id: UInt32, _ change: NAPIChange, interface: String) throws(SystemError) {
    throw SystemError("netdev netlink napi-set", interface, .notSupported)
  }
}

/// The `netdev` family of one host, with answers cached for the run: one capability probe, and
/// one queue-get and one napi-get dump per device (not one request per setting). A napi-set, or
/// any write below /sys/class/net/IF, drops IF's cached dumps so the read-back sees the kernel.
package final class Netdev {
  package let transport: any NetdevTransport
  /// Called before every napi-set with "IF napi-set ID"; throwing makes it fail (fault injection).
  package var beforeWrite: ((String) throws -> Void)?
  private var probed: Result<NetdevCapabilities, SystemError>?
  private var queueCache: [String: Result<[QueueInfo], SystemError>] = [:]
  private var napiCache: [String: Result<[NAPIInfo], SystemError>] = [:]

  package init(transport: any NetdevTransport) { self.transport = transport }

  package func capabilities() throws(SystemError) -> NetdevCapabilities {
    if let probed { return try probed.get() }
    let result = Result { () throws(SystemError) in try transport.capabilities() }
    probed = result
    return try result.get()
  }

  package func queues(_ interface: String, ifindex: UInt32) throws(SystemError) -> [QueueInfo] {
    if let hit = queueCache[interface] { return try hit.get() }
    let result = Result { () throws(SystemError) in try transport.queues(ifindex: ifindex, interface: interface) }
    queueCache[interface] = result
    return try result.get()
  }

  package func napis(_ interface: String, ifindex: UInt32) throws(SystemError) -> [NAPIInfo] {
    if let hit = napiCache[interface] { return try hit.get() }
    let result = Result { () throws(SystemError) in try transport.napis(ifindex: ifindex, interface: interface) }
    napiCache[interface] = result
    return try result.get()
  }

  package func set(_ interface: String, napi id: UInt32, _ change: NAPIChange) throws {
    forget(interface)
    try beforeWrite?("\(interface) napi-set \(id)")
    try transport.set(napi: id, change, interface: interface)
  }

  /// Forgets every cached dump (after channels or rings re-created queues and NAPIs).
  package func forget() {
    queueCache.removeAll()
    napiCache.removeAll()
  }

  package func forget(_ interface: String) {
    queueCache[interface] = nil
    napiCache[interface] = nil
  }
}
