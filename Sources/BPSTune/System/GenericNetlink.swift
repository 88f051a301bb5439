import CLinux
import CNetlink
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// A generic netlink request through libnl-genl-3, in the caller's network namespace: resolve
/// the family, send one message, hand each reply's attributes to the caller. Like
/// ``Syscalls``, this is where bpstune's netlink traffic happens; errors are ``SystemError``s
/// naming the family and command, with libnl's error mapped to its errno.
enum GenericNetlink {
  /// Attributes of one reply, by number (index 0 unused); nil where absent.
  struct Attributes {
    var table: [UnsafeMutablePointer<nlattr>?]

    func has(_ type: Int) -> Bool { type < table.count && table[type] != nil }
  }

  /// Sends `command` to `family` with the attributes `build` puts in the message; returns the
  /// top-level attributes (up to `maxAttribute`) of each reply, or nil when this kernel has no
  /// such family.
  static func request(
    family: String, version: Int, command: Int, maxAttribute: Int, what: String,
    build: (OpaquePointer) -> Int32
  ) throws(SystemError) -> [Attributes]? {
    func fail(_ code: Int32, _ operation: String) -> SystemError {
      SystemError("\(family) netlink \(operation)", what, errno(fromLibnl: code))
    }
    guard let sock = nl_socket_alloc() else { throw SystemError("nl_socket_alloc", what, .noMemory) }
    defer { nl_socket_free(sock) }
    var code = genl_connect(sock)
    if code < 0 { throw fail(code, "connect") }
    // Only the reply (or the kernel's error) comes back; no separate ACK to drain.
    nl_socket_disable_auto_ack(sock)
    let id = genl_ctrl_resolve(sock, family)
    if id == -NLE_OBJ_NOTFOUND { return nil }
    if id < 0 { throw fail(id, "family") }
    guard let msg = nlmsg_alloc() else { throw SystemError("nlmsg_alloc", what, .noMemory) }
    defer { nlmsg_free(msg) }
    guard genlmsg_put(msg, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), id, 0, 0, UInt8(command), UInt8(version)) != nil
    else { throw SystemError("genlmsg_put", what, .noMemory) }
    code = build(msg)
    if code < 0 { throw fail(code, "message") }
    code = nl_send_auto(sock, msg)
    if code < 0 { throw fail(code, "send") }

    final class Collector {
      var replies: [Attributes] = []
      var parseError: Int32 = 0
      let maxAttribute: Int
      init(_ maxAttribute: Int) { self.maxAttribute = maxAttribute }
    }
    let collector = Collector(maxAttribute)
    let callback: nl_recvmsg_msg_cb_t = { message, context in
      let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
      var table = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: collector.maxAttribute + 1)
      let r = genlmsg_parse(nlmsg_hdr(message), 0, &table, Int32(collector.maxAttribute), nil)
      if r < 0 {
        collector.parseError = r
        return Int32(NL_STOP.rawValue)
      }
      collector.replies.append(Attributes(table: table))
      return Int32(NL_OK.rawValue)
    }
    code = withExtendedLifetime(collector) {
      nl_socket_modify_cb(
        sock, NL_CB_VALID, NL_CB_CUSTOM, callback, Unmanaged.passUnretained(collector).toOpaque())
      return nl_recvmsgs_default(sock)
    }
    if code < 0 { throw fail(code, "reply") }
    if collector.parseError < 0 { throw fail(collector.parseError, "parse") }
    return collector.replies
  }

  /// ETHTOOL_MSG_COALESCE_GET for `interface`: for each of the 22 coalescing fields, whether
  /// the reply carries it; nil when the kernel has no ethtool family.
  static func coalesceSupport(_ interface: String) throws(SystemError) -> [Bool]? {
    let replies = try request(
      family: ETHTOOL_GENL_NAME, version: Int(ETHTOOL_GENL_VERSION), command: Int(ETHTOOL_MSG_COALESCE_GET),
      maxAttribute: Int(ETHTOOL_A_COALESCE_MAX), what: interface
    ) { msg in
      guard let header = nla_nest_start(msg, Int32(ETHTOOL_A_COALESCE_HEADER)) else { return -Int32(NLE_NOMEM) }
      let r = nla_put_string(msg, Int32(ETHTOOL_A_HEADER_DEV_NAME), interface)
      if r < 0 { return r }
      return nla_nest_end(msg, header)
    }
    guard let reply = replies?.first else { return nil }
    // ETHTOOL_A_COALESCE_RX_USECS ... _RATE_SAMPLE_INTERVAL follow the ioctl structure's order.
    let first = Int(ETHTOOL_A_COALESCE_RX_USECS)
    return (0..<22).map { reply.has(first + $0) }
  }

  /// libnl's NLE_* codes as the errno the kernel gave (libnl maps errno to NLE_* on receive).
  static func errno(fromLibnl code: Int32) -> Errno {
    switch -code {
    case NLE_OPNOTSUPP: .notSupported
    case NLE_NODEV: .operationNotSupportedByDevice
    case NLE_OBJ_NOTFOUND: .noSuchFileOrDirectory
    case NLE_PERM, NLE_NOACCESS: .notPermitted
    case NLE_INVAL: .invalidArgument
    case NLE_NOMEM: .noMemory
    case NLE_BUSY: .resourceBusy
    case NLE_RANGE: .outOfRange
    case NLE_AGAIN: .resourceTemporarilyUnavailable
    default: .ioError
    }
  }
}
