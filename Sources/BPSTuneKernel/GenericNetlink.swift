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
  /// Attributes of one reply, by number (index 0 unused); nil where absent. They point into
  /// libnl's receive buffer: valid only while the `each` closure of ``request`` runs.
  struct Attributes {
    var table: [UnsafeMutablePointer<nlattr>?]

    func has(_ type: Int) -> Bool { self[type] != nil }

    subscript(_ type: Int) -> UnsafeMutablePointer<nlattr>? { type < table.count ? table[type] : nil }

    /// A u32 attribute.
    func u32(_ type: Int) -> UInt32? { self[type].map { nla_get_u32($0) } }

    /// A `uint` attribute (netlink's variable-width unsigned: 4 or 8 bytes).
    func uint(_ type: Int) -> UInt64? { self[type].map(GenericNetlink.uint) }
  }

  /// How the kernel answers a request.
  enum Kind {
    /// A `do` with a reply (or only an ACK, for commands that change something).
    case `do`
    /// A dump: replies until NLMSG_DONE.
    case dump
  }

  /// Sends `command` to `family` with the attributes `build` puts in the message, and hands
  /// the top-level attributes (up to `maxAttribute`) of each reply to `each`; false when this
  /// kernel has no such family. Extended acks are on, so an error carries the kernel's own message.
  @discardableResult
  static func request(
    family: String, version: Int, command: Int, kind: Kind = .do, maxAttribute: Int, what: String,
    build: (OpaquePointer) -> Int32 = { _ in 0 }, each: (Attributes) -> Void = { _ in }
  ) throws(SystemError) -> Bool {
    func fail(_ code: Int32, _ operation: String) -> SystemError {
      SystemError("\(family) netlink \(operation)", what, errno(fromLibnl: code))
    }
    guard let sock = nl_socket_alloc() else { throw SystemError("nl_socket_alloc", what, .noMemory) }
    defer { nl_socket_free(sock) }
    var code = genl_connect(sock)
    if code < 0 { throw fail(code, "connect") }
    // The kernel's error text (NLMSGERR_ATTR_MSG) after a capped error message.
    var on: Int32 = 1
    for option in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
      _ = setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, option, &on, socklen_t(MemoryLayout<Int32>.size))
    }
    // Completion is seen below (ACK or NLMSG_DONE), not by libnl's automatic ACK handling.
    nl_socket_disable_auto_ack(sock)
    let id = genl_ctrl_resolve(sock, family)
    if id == -NLE_OBJ_NOTFOUND { return false }
    if id < 0 { throw fail(id, "family") }
    guard let msg = nlmsg_alloc() else { throw SystemError("nlmsg_alloc", what, .noMemory) }
    defer { nlmsg_free(msg) }
    let flags = kind == .dump ? NLM_F_DUMP : NLM_F_ACK
    guard
      genlmsg_put(msg, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), id, 0, flags, UInt8(command), UInt8(version)) != nil
    else { throw SystemError("genlmsg_put", what, .noMemory) }
    code = build(msg)
    if code < 0 { throw fail(code, "message") }
    code = nl_send_auto(sock, msg)
    if code < 0 { throw fail(code, "send") }

    final class Collector {
      var each: (Attributes) -> Void = { _ in }
      var parseError: Int32 = 0
      var finished = false
      var error: (errno: Int32, message: String?)?
      let maxAttribute: Int
      init(_ maxAttribute: Int) { self.maxAttribute = maxAttribute }
    }
    let collector = Collector(maxAttribute)
    let context = Unmanaged.passUnretained(collector).toOpaque()
    let valid: nl_recvmsg_msg_cb_t = { message, context in
      let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
      var table = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: collector.maxAttribute + 1)
      let r = genlmsg_parse(nlmsg_hdr(message), 0, &table, Int32(collector.maxAttribute), nil)
      if r < 0 {
        collector.parseError = r
        return Int32(NL_STOP.rawValue)
      }
      collector.each(Attributes(table: table))
      return Int32(NL_OK.rawValue)
    }
    // A dump ends at NLMSG_DONE and a `do` at its ACK; netdev's dump replies do not carry
    // NLM_F_MULTI, so libnl alone would stop reading after the first batch.
    let finished: nl_recvmsg_msg_cb_t = { _, context in
      Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue().finished = true
      return Int32(NL_STOP.rawValue)
    }
    let failed: nl_recvmsg_err_cb_t = { _, error, context in
      let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
      collector.finished = true
      if let error { collector.error = (-error.pointee.error, GenericNetlink.extendedAck(error)) }
      return Int32(NL_STOP.rawValue)
    }
    code = withoutActuallyEscaping(each) { each in
      collector.each = each
      defer { collector.each = { _ in } }
      nl_socket_modify_cb(sock, NL_CB_VALID, NL_CB_CUSTOM, valid, context)
      nl_socket_modify_cb(sock, NL_CB_FINISH, NL_CB_CUSTOM, finished, context)
      nl_socket_modify_cb(sock, NL_CB_ACK, NL_CB_CUSTOM, finished, context)
      nl_socket_modify_err_cb(sock, NL_CB_CUSTOM, failed, context)
      var code: Int32 = 0
      while !collector.finished && collector.parseError == 0 && code >= 0 { code = nl_recvmsgs_default(sock) }
      return code
    }
    if let (number, message) = collector.error {
      throw SystemError("\(family) netlink", what, Errno(rawValue: number), kernelMessage: message)
    }
    if code < 0 { throw fail(code, "reply") }
    if collector.parseError < 0 { throw fail(collector.parseError, "parse") }
    return true
  }

  /// NLMSGERR_ATTR_MSG of an error message sent with NETLINK_EXT_ACK and NETLINK_CAP_ACK
  /// (the request is capped to its header, so the TLVs follow struct nlmsgerr).
  static func extendedAck(_ error: UnsafeMutablePointer<nlmsgerr>) -> String? {
    let raw = UnsafeMutableRawPointer(error)
    let header = (raw - MemoryLayout<nlmsghdr>.size).assumingMemoryBound(to: nlmsghdr.self).pointee
    guard header.nlmsg_flags & UInt16(NLM_F_ACK_TLVS) != 0 else { return nil }
    var offset = MemoryLayout<nlmsghdr>.size + MemoryLayout<nlmsgerr>.size
    if header.nlmsg_flags & UInt16(NLM_F_CAPPED) == 0 {
      offset += Int(error.pointee.msg.nlmsg_len) - MemoryLayout<nlmsghdr>.size
    }
    let length = Int(header.nlmsg_len) - offset
    guard length > 0,
      let text = nla_find(
        (raw - MemoryLayout<nlmsghdr>.size + offset).assumingMemoryBound(to: nlattr.self), Int32(length),
        Int32(NLMSGERR_ATTR_MSG.rawValue))
    else { return nil }
    let message = String(cString: nla_get_string(text))
    return message.isEmpty ? nil : message
  }

  /// The attributes nested in `attribute`, in order.
  static func nested(_ attribute: UnsafeMutablePointer<nlattr>) -> [UnsafeMutablePointer<nlattr>] {
    var out: [UnsafeMutablePointer<nlattr>] = []
    var remaining = nla_len(attribute)
    var position = nla_data(attribute)?.assumingMemoryBound(to: nlattr.self)
    while let p = position, nla_ok(p, remaining) != 0 {
      out.append(p)
      position = nla_next(p, &remaining)
    }
    return out
  }

  /// A `uint` attribute's value: 4 or 8 bytes.
  static func uint(_ attribute: UnsafeMutablePointer<nlattr>) -> UInt64 {
    nla_len(attribute) == 8 ? nla_get_u64(attribute) : UInt64(nla_get_u32(attribute))
  }

  /// CTRL_CMD_GETFAMILY: the op numbers `name` registers, or nil when this kernel has no such
  /// family.
  static func family(_ name: String) throws(SystemError) -> Set<Int>? {
    var ops: Set<Int>?
    do throws(SystemError) {
      try request(
        family: "nlctrl", version: 1, command: Int(CTRL_CMD_GETFAMILY), maxAttribute: Int(__CTRL_ATTR_MAX) - 1,
        what: name, build: { msg in nla_put_string(msg, Int32(CTRL_ATTR_FAMILY_NAME), name) }
      ) { reply in
        var found = Set<Int>()
        for op in reply[Int(CTRL_ATTR_OPS)].map(nested) ?? [] {
          for field in nested(op) where nla_type(field) == Int32(CTRL_ATTR_OP_ID) {
            found.insert(Int(nla_get_u32(field)))
          }
        }
        ops = found
      }
    } catch {
      if error.errno == .noSuchFileOrDirectory { return nil }
      throw error
    }
    return ops
  }

  /// CTRL_CMD_GETPOLICY (Linux 5.10+) for one op of `family`: the attributes its `do` policy
  /// accepts, each with its NL_POLICY_TYPE_ATTR_MAX_VALUE_U where the kernel states one.
  static func policy(family: String, command: Int) throws(SystemError) -> [Int: UInt64?] {
    var doPolicy: Int?
    var policies: [Int: [Int: UInt64?]] = [:]
    try request(
      family: "nlctrl", version: 1, command: Int(CTRL_CMD_GETPOLICY), kind: .dump,
      maxAttribute: Int(__CTRL_ATTR_MAX) - 1, what: family,
      build: { msg in
        let r = nla_put_string(msg, Int32(CTRL_ATTR_FAMILY_NAME), family)
        return r < 0 ? r : nla_put_u32(msg, Int32(CTRL_ATTR_OP), UInt32(command))
      }
    ) { reply in
      for op in reply[Int(CTRL_ATTR_OP_POLICY)].map(nested) ?? [] where Int(nla_type(op)) == command {
        for field in nested(op) where nla_type(field) == Int32(CTRL_ATTR_POLICY_DO) {
          doPolicy = Int(nla_get_u32(field))
        }
      }
      for index in reply[Int(CTRL_ATTR_POLICY)].map(nested) ?? [] {
        for attribute in nested(index) {
          let max = nested(attribute).first { nla_type($0) == Int32(NL_POLICY_TYPE_ATTR_MAX_VALUE_U.rawValue) }
          policies[Int(nla_type(index)), default: [:]][Int(nla_type(attribute))] = max.map(uint)
        }
      }
    }
    return doPolicy.flatMap { policies[$0] } ?? [:]
  }

  /// ETHTOOL_MSG_COALESCE_GET for `interface`: for each of the 22 coalescing fields, whether
  /// the reply carries it; nil when the kernel has no ethtool family.
  static func coalesceSupport(_ interface: String) throws(SystemError) -> [Bool]? {
    var support: [Bool]?
    try request(
      family: ETHTOOL_GENL_NAME, version: Int(ETHTOOL_GENL_VERSION), command: Int(ETHTOOL_MSG_COALESCE_GET),
      maxAttribute: Int(ETHTOOL_A_COALESCE_MAX), what: interface,
      build: { msg in
        guard let header = nla_nest_start(msg, Int32(ETHTOOL_A_COALESCE_HEADER)) else { return -Int32(NLE_NOMEM) }
        let r = nla_put_string(msg, Int32(ETHTOOL_A_HEADER_DEV_NAME), interface)
        if r < 0 { return r }
        return nla_nest_end(msg, header)
      }
    ) { reply in
      // ETHTOOL_A_COALESCE_RX_USECS ... _RATE_SAMPLE_INTERVAL follow the ioctl structure's order.
      let first = Int(ETHTOOL_A_COALESCE_RX_USECS)
      support = (0..<22).map { reply.has(first + $0) }
    }
    return support
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
