import SystemPackage

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// A model of the kernel's `netdev` family and of NAPI kthreads, for unit tests: NAPIs with
/// ids and values, queue links, capabilities of a chosen kernel version, and a kthread (a new
/// pid with default scheduling) for every NAPI turned threaded, as net/core/dev.c does.
final class FakeNetdev: NetdevTransport, SchedulerTransport, @unchecked Sendable {
  var kernelCapabilities: NetdevCapabilities
  /// interface -> NAPIs.
  var napis: [String: [NAPIInfo]] = [:]
  /// interface -> rx queue count; queue i is linked to the i-th NAPI when `links`.
  var rxQueues: [String: Int] = [:]
  var links = true
  /// napi-set refuses threaded busy-poll though the capabilities say it exists.
  var refuses = false
  var threads: [Int32: ThreadSchedule] = [:]
  var nextPid: UInt32 = 4000
  /// Every napi-set and scheduler change, in order.
  var log: [String] = []
  let onlineCPUs = CPUSet(0...3)

  init(_ capabilities: NetdevCapabilities = .all) { kernelCapabilities = capabilities }

  /// Linux versions as the capability probe sees them.
  static func kernel(_ version: String) -> NetdevCapabilities {
    switch version {
    case "6.1": .none
    case "6.12": NetdevCapabilities(family: true, napiGet: true, napiSet: false, threaded: false, busyPoll: false)
    case "6.13": NetdevCapabilities(family: true, napiGet: true, napiSet: true, threaded: false, busyPoll: false)
    case "6.18": NetdevCapabilities(family: true, napiGet: true, napiSet: true, threaded: true, busyPoll: false)
    default: .all
    }
  }

  func add(_ interface: String, napiIDs: [UInt32], rx: Int) {
    napis[interface] = napiIDs.map {
      NAPIInfo(
        id: $0, ifindex: 0, irq: 30 + $0 % 10, deferHardIRQs: 0, groFlushTimeout: 0, irqSuspendTimeout: 0,
        threaded: kernelCapabilities.threaded ? 0 : nil)
    }
    rxQueues[interface] = rx
  }

  func capabilities() throws(SystemError) -> NetdevCapabilities { kernelCapabilities }

  func queues(ifindex: UInt32, interface: String) throws(SystemError) -> [QueueInfo] {
    guard kernelCapabilities.napiGet else { throw SystemError("netdev netlink", interface, .notSupported) }
    let ids = (napis[interface] ?? []).map(\.id)
    return (0..<(rxQueues[interface] ?? 0)).map {
      QueueInfo(rx: true, index: UInt32($0), napiID: links && $0 < ids.count ? ids[$0] : nil)
    }
  }

  func napis(ifindex: UInt32, interface: String) throws(SystemError) -> [NAPIInfo] {
    guard kernelCapabilities.napiGet else { throw SystemError("netdev netlink", interface, .notSupported) }
    return (napis[interface] ?? []).reversed()  // the kernel lists them in descending id order
  }

  func set(napi id: UInt32, _ change: NAPIChange, interface: String) throws(SystemError) {
    guard kernelCapabilities.napiSet else { throw SystemError("netdev netlink", interface, .notSupported) }
    if let t = change.threaded, t > (kernelCapabilities.busyPoll && !refuses ? 2 : 1) || !kernelCapabilities.threaded {
      throw SystemError("netdev netlink", interface, .outOfRange, kernelMessage: "integer out of range")
    }
    guard let i = napis[interface]?.firstIndex(where: { $0.id == id }) else {
      throw SystemError("netdev netlink", interface, .noSuchFileOrDirectory)
    }
    var n = napis[interface]![i]
    if let v = change.deferHardIRQs { n.deferHardIRQs = v }
    if let v = change.groFlushTimeout { n.groFlushTimeout = v }
    if let v = change.irqSuspendTimeout { n.irqSuspendTimeout = v }
    if let t = change.threaded {
      if t == 0, let pid = n.pid {
        threads[Int32(pid)] = nil
        n.pid = nil
      } else if t > 0 && n.pid == nil {
        nextPid += 1
        n.pid = nextPid
        threads[Int32(nextPid)] = ThreadSchedule(policy: 0, priority: 0, cpus: onlineCPUs)
      }
      n.threaded = t
    }
    napis[interface]![i] = n
    log.append("\(interface) napi-set \(id) \(change)")
  }

  func schedule(of pid: Int32) throws(SystemError) -> ThreadSchedule {
    guard let s = threads[pid] else { throw SystemError("sched_getscheduler", "pid \(pid)", .noSuchProcess) }
    return s
  }

  func setPolicy(of pid: Int32, policy: Int32, priority: Int32) throws(SystemError) {
    guard threads[pid] != nil else { throw SystemError("sched_setscheduler", "pid \(pid)", .noSuchProcess) }
    threads[pid]!.policy = policy
    threads[pid]!.priority = priority
    log.append("sched \(pid) \(policy) \(priority)")
  }

  func setAffinity(of pid: Int32, _ cpus: CPUSet) throws(SystemError) {
    guard threads[pid] != nil else { throw SystemError("sched_setaffinity", "pid \(pid)", .noSuchProcess) }
    threads[pid]!.cpus = cpus
    log.append("affinity \(pid) \(cpus.listString)")
  }

  func name(of pid: Int32) -> String? { threads[pid] == nil ? nil : "napi/fake-\(pid)" }

  /// The kthread of the NAPI serving rx queue `queue` of `interface`.
  func kthread(_ interface: String, queue: Int = 0) -> ThreadSchedule? {
    let sorted = (napis[interface] ?? []).sorted { $0.id < $1.id }
    return sorted[queue].pid.flatMap { threads[Int32($0)] }
  }
}
