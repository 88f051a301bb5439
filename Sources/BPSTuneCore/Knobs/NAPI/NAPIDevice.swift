import BPSTuneKernel

/// An interface's NAPIs and which rx queue each serves, from one queue-get and one napi-get
/// dump (netdev netlink, Linux 6.8+). NAPI ids and kthread pids change when queues are
/// re-created, so settings name the rx queue and are resolved to a NAPI here, every time.
struct NAPIDevice {
  let interface: String
  /// Every NAPI of the device, by ascending id.
  let napis: [NAPIInfo]
  /// rx queue index -> the NAPI serving it.
  let rx: [Int: NAPIInfo]
  /// Set when the driver does not link its queues to NAPIs (veth; igb before 6.14) and rx
  /// queue i is taken to be served by the i-th NAPI by id, which is how such drivers create them.
  let byOrder: Bool

  /// Resolves the device; throws the reason, for the plan, when the NAPIs cannot be known.
  static func resolve(_ interface: String, on host: KernelHost) throws(Unavailable) -> NAPIDevice {
    let netdev = host.netdev
    guard let caps = try? netdev.capabilities(), caps.napiGet else {
      throw Unavailable("needs Linux 6.8+ (netdev netlink queue-get and napi-get)")
    }
    guard let ifindex = host.ifindex(of: interface) else { throw Unavailable("\(interface) has no ifindex") }
    guard host.isUp(interface) else {
      throw Unavailable("\(interface) is down; the kernel lists NAPIs of devices that are up")
    }
    let queues: [QueueInfo]
    let napis: [NAPIInfo]
    do {
      queues = try netdev.queues(interface, ifindex: ifindex)
      napis = try netdev.napis(interface, ifindex: ifindex).sorted { $0.id < $1.id }
    } catch {
      throw Unavailable("cannot list NAPIs: \(error.reason)")
    }
    let rxQueues = queues.filter(\.rx).sorted { $0.index < $1.index }
    if napis.isEmpty {
      let driver = (try? host.ethtool.driverInfo(interface).driver) ?? ""
      throw Unavailable(
        "\(interface) has no NAPIs" + (driver == "veth" ? " (veth creates them with GRO on or XDP)" : ""))
    }
    var rx: [Int: NAPIInfo] = [:]
    let linked = rxQueues.contains { $0.napiID != nil }
    if linked {
      for queue in rxQueues {
        if let id = queue.napiID, let napi = napis.first(where: { $0.id == id }) { rx[Int(queue.index)] = napi }
      }
    } else if napis.count == rxQueues.count {
      for (queue, napi) in zip(rxQueues, napis) { rx[Int(queue.index)] = napi }
    } else {
      throw Unavailable(
        "cannot tell which NAPI serves which rx queue: the driver does not link them and \(interface) has "
          + "\(napis.count) NAPIs for \(rxQueues.count) rx queues")
    }
    return NAPIDevice(interface: interface, napis: napis, rx: rx, byOrder: !linked)
  }

  /// The NAPI serving rx queue `queue` ("rx-0").
  func napi(serving queue: String) throws(Unavailable) -> NAPIInfo {
    guard let index = NAPIDevice.index(queue), let napi = rx[index] else {
      throw Unavailable("\(interface) \(queue) has no NAPI")
    }
    return napi
  }

  /// The rx queues a NAPI serves, in order.
  func queues(of napi: NAPIInfo) -> [Int] { rx.keys.sorted().filter { rx[$0]?.id == napi.id } }

  /// 3 for "rx-3".
  static func index(_ queue: String) -> Int? {
    guard queue.hasPrefix("rx-"), let n = Int(queue.dropFirst(3)), n >= 0, "rx-\(n)" == queue else { return nil }
    return n
  }
}
