import SystemPackage

/// The host bpstune reads and tunes: kernel files below a root directory ("/" in production,
/// a temporary tree in unit tests). Reads are cached for the run, so each kernel file is read
/// once; a write drops the cached value so that the read-back sees the kernel's answer.
package final class KernelHost {
  /// Directory that stands for "/" (no trailing slash; "" for the real root).
  package let root: String
  private var cache: [String: Result<String, SystemError>] = [:]
  /// Called before every kernel write with the path; throwing makes the write fail
  /// (fault injection in tests).
  package var beforeWrite: ((String) throws -> Void)? {
    didSet {
      ethtool.beforeWrite = beforeWrite
      netdev.beforeWrite = beforeWrite
    }
  }
  /// Called after every kernel file write with the path (a test's kernel that does not keep
  /// what it was given).
  package var afterWrite: ((String) throws -> Void)?
  /// The devices' ethtool ioctls: the kernel's when `root` is "/", none for another tree
  /// unless a model is given.
  package let ethtool: Ethtool
  /// The `netdev` generic netlink family (queues, NAPIs): the kernel's when `root` is "/".
  package let netdev: Netdev
  /// Threads' scheduling (NAPI kthreads): the kernel's when `root` is "/", none otherwise.
  package let scheduler: any SchedulerTransport

  package init(
    root: String = "/", ethtool transport: (any EthtoolTransport)? = nil, netdev: (any NetdevTransport)? = nil,
    scheduler: (any SchedulerTransport)? = nil
  ) {
    // "//", "/." and "/proc/.." are the host's own root, not a test tree: resolved, they are "/".
    var r = (try? Syscalls.realPath(root)) ?? root
    while r.hasSuffix("/") { r.removeLast() }
    self.root = r
    ethtool = Ethtool(transport: transport ?? (r.isEmpty ? KernelEthtool() : AbsentEthtool()))
    self.netdev = Netdev(transport: netdev ?? (r.isEmpty ? KernelNetdev() : AbsentNetdev()))
    self.scheduler = scheduler ?? (r.isEmpty ? KernelScheduler() : AbsentScheduler())
    if r.isEmpty {
      fileSystemType = { (path: String) throws(SystemError) -> Int64 in try Syscalls.fileSystemType(path) }
    }
  }

  /// statfs(2)'s f_type of a real path: the kernel's on the real host; nil for a test tree,
  /// whose files are whatever the tests made them (a test may set a model).
  package var fileSystemType: ((String) throws(SystemError) -> Int64)?

  /// Forgets every cached answer, so that the next reads see the kernel as it is now (after a
  /// change of channels or rings re-created queues, IRQs and NAPIs).
  package func forget() {
    cache.removeAll()
    ethtool.forget()
    netdev.forget()
  }

  /// Whether this is the host's own kernel rather than a test tree.
  package var isRealRoot: Bool { root.isEmpty }

  /// The real path of a kernel path such as "/proc/sys/net/core/busy_read".
  package func path(_ kernelPath: String) -> String { root + kernelPath }

  /// The file's content without its trailing newline; cached for the run.
  package func read(_ kernelPath: String) throws(SystemError) -> String {
    if let hit = cache[kernelPath] { return try hit.get() }
    let result = Result { () throws(SystemError) -> String in try readFresh(kernelPath) }
    cache[kernelPath] = result
    return try result.get()
  }

  /// Reads the file again from the kernel (read-back after a write).
  package func readFresh(_ kernelPath: String) throws(SystemError) -> String {
    let attribute = kernelPath.hasPrefix("/sys/") || kernelPath.hasPrefix("/proc/sys/")
    let bytes = try Syscalls.readKernelFile(path(kernelPath), attribute: attribute)
    var text = String(decoding: bytes, as: UTF8.self)
    while text.hasSuffix("\n") { text.removeLast() }
    cache[kernelPath] = .success(text)
    return text
  }

  /// One write(2) of `value` to an existing kernel file.
  package func write(_ kernelPath: String, _ value: String) throws {
    cache[kernelPath] = nil
    // A device's sysfs (threaded, gro_flush_timeout, ...) changes what napi-get reports.
    if kernelPath.hasPrefix("/sys/class/net/") {
      netdev.forget(String(kernelPath.dropFirst("/sys/class/net/".count).prefix { $0 != "/" }))
    }
    try beforeWrite?(kernelPath)
    try Syscalls.writeKernelFile(path(kernelPath), value)
    try afterWrite?(kernelPath)
  }

  /// Whether the file is absent: opening it fails with ENOENT. It is read rather than stat(2)ed,
  /// into the run's cache, where a plan that checks a file before reading it (a queue's rps_cpus)
  /// then finds it: one system call fewer per file. Any other failure is not absence; the read
  /// that follows reports it.
  package func isAbsent(_ kernelPath: String) -> Bool {
    do {
      _ = try read(kernelPath)
      return false
    } catch {
      return error.operation == "open" && error.errno == .noSuchFileOrDirectory
    }
  }

  /// Whether the interface is there now (its /sys/class/net entry, uncached): a device that a
  /// driver reset, a hot-unplug or `ip link del` took away mid-run is gone with its settings.
  package func interfaceExists(_ name: String) -> Bool {
    (try? Syscalls.fileStatus(path("/sys/class/net/" + name), followLinks: false)) != nil
  }

  /// Where a device bpstune recorded by name and ifindex is now, in this network namespace.
  package enum Whereabouts: Equatable, Sendable {
    /// The name is there, with the recorded ifindex (or none was recorded).
    case here
    /// The recorded ifindex is there under another name (`ip link set NAME name NEW`, a udev
    /// rename): the same device, which took its settings along.
    case renamed(to: String)
    /// The name is there but with another ifindex (`now`): a different device, made after the
    /// recorded one was deleted (a driver reload, a veth deleted and added again).
    case replaced(now: Int)
    /// Neither the name nor the ifindex is here: the device was deleted, or moved to another
    /// network namespace, which from here is the same.
    case gone
  }

  /// Where the device recorded as `name` with `ifindex` is now, read afresh from
  /// /sys/class/net/NAME/ifindex (and every interface's, for a rename). An ifindex is unique in
  /// a network namespace for as long as its device exists, so the recorded one names that
  /// device whatever it is called now. Without a recorded ifindex (a snapshot of an earlier
  /// version, or of an earlier boot, whose ifindexes mean nothing now) the name is all there
  /// is: here or gone.
  package func whereabouts(of name: String, ifindex: Int?) -> Whereabouts {
    guard let ifindex else { return interfaceExists(name) ? .here : .gone }
    let now = currentIfindex(of: name)
    if now == ifindex { return .here }
    for other in interfaces where other != name && currentIfindex(of: other) == ifindex {
      return .renamed(to: other)
    }
    if let now { return .replaced(now: now) }
    // A name that is there without a readable ifindex cannot be told apart: it is taken as
    // the device it names.
    return interfaceExists(name) ? .here : .gone
  }

  /// /sys/class/net/IF/ifindex read afresh (not from the run's cache); nil when the
  /// interface is not there.
  func currentIfindex(of interface: String) -> Int? {
    (try? readFresh("/sys/class/net/\(interface)/ifindex")).flatMap { Int($0) }
  }

  package func exists(_ kernelPath: String) -> Bool {
    (try? Syscalls.fileStatus(path(kernelPath), followLinks: true)) != nil
  }

  /// Whether the file's mode lets its owner write it (managed IRQs' affinity files are 0444).
  package func isWritable(_ kernelPath: String) -> Bool {
    guard let status = try? Syscalls.fileStatus(path(kernelPath), followLinks: true) else { return false }
    return status.permissions.contains(.ownerWrite)
  }

  package func list(_ kernelDirectory: String) -> [String] {
    (try? Syscalls.listDirectory(path(kernelDirectory))) ?? []
  }

  /// Whether `kernelPath`, with every symlink resolved, stays inside `tree` ("/sys").
  package func staysInside(_ kernelPath: String, tree: String) -> Bool {
    guard let real = try? Syscalls.realPath(path(kernelPath)),
      let top = try? Syscalls.realPath(path(tree))
    else { return false }
    return real == top || real.hasPrefix(top + "/")
  }

  /// The files below `tree` ("/sys") that `pattern`, a path relative to it whose components may
  /// be fnmatch(3) globs ("devices/virtual/workqueue/*/cpumask"), names: relative paths in
  /// natural order (cpu2 before cpu10). A component without glob characters is taken as it is.
  package func expand(_ pattern: String, below tree: String) -> [String] {
    var prefixes = [""]
    for component in pattern.split(separator: "/").map(String.init) {
      if Self.isGlob(component) {
        prefixes = prefixes.flatMap { prefix in
          list(tree + "/" + prefix).filter { Syscalls.globMatches(component, $0) }.map { prefix + $0 + "/" }
        }
      } else {
        prefixes = prefixes.map { $0 + component + "/" }
      }
    }
    return prefixes.map { String($0.dropLast()) }.filter { exists(tree + "/" + $0) }.sorted(by: Self.naturalOrder)
  }

  /// Why `kernelPath` may not be read or written as a setting of `tree`: it lies on another
  /// file system than the tree's own (statfs(2) says so, whatever the path looks like). Below
  /// /sys, debugfs, tracefs, securityfs, configfs, efivarfs (writing which can make a machine
  /// unbootable), bpffs and cgroup file systems are mounted; none is a tuning setting. Nil when
  /// the file is on `tree`'s file system, or on a test tree.
  package func foreignFileSystem(_ kernelPath: String, tree: KernelFileSystem) -> String? {
    guard let fileSystemType else { return nil }
    let type: Int64
    do {
      type = try fileSystemType(path(kernelPath))
    } catch {
      return "cannot tell its file system: \(error.reason)"
    }
    if type == tree.magic { return nil }
    return "\(kernelPath) is on \(KernelFileSystem.name(of: type)), not \(tree.rawValue); refused"
  }

  /// Whether a name has fnmatch(3) glob characters.
  package static func isGlob(_ text: String) -> Bool { text.contains { "*?[".contains($0) } }

  /// "cpu2" < "cpu10": runs of digits compare as numbers.
  package static func naturalOrder(_ a: String, _ b: String) -> Bool {
    var x = Substring(a)
    var y = Substring(b)
    while let p = x.first, let q = y.first {
      if p.isASCII && p.isNumber && q.isASCII && q.isNumber {
        let m = x.prefix { $0.isASCII && $0.isNumber }
        let n = y.prefix { $0.isASCII && $0.isNumber }
        if m.count != n.count { return m.count < n.count }
        if m != n { return m < n }
        x = x.dropFirst(m.count)
        y = y.dropFirst(n.count)
      } else {
        if p != q { return p < q }
        x = x.dropFirst()
        y = y.dropFirst()
      }
    }
    return x.count < y.count
  }

  /// /proc/sys/kernel/random/boot_id: a new random id at every boot.
  package var bootID: String? { try? read("/proc/sys/kernel/random/boot_id") }

  // MARK: CPUs

  /// Parsed CPU lists by path, with the text they were parsed from: the planner asks for
  /// possibleCPUs once per queue file, and the text comes from the read cache anyway.
  private var parsedCPUSets: [String: (text: String, cpus: CPUSet?)] = [:]

  private func cpuSet(_ kernelPath: String) -> CPUSet? {
    guard let text = try? read(kernelPath) else { return nil }
    if let parsed = parsedCPUSets[kernelPath], parsed.text == text { return parsed.cpus }
    let cpus = try? CPUSet(list: text)
    parsedCPUSets[kernelPath] = (text, cpus)
    return cpus
  }

  /// /sys/devices/system/cpu/online.
  package var onlineCPUs: CPUSet { cpuSet("/sys/devices/system/cpu/online") ?? CPUSet([0]) }
  /// /sys/devices/system/cpu/possible.
  package var possibleCPUs: CPUSet { cpuSet("/sys/devices/system/cpu/possible") ?? onlineCPUs }
  /// /sys/devices/system/cpu/isolated (isolcpus=); empty when absent.
  package var isolatedCPUs: CPUSet { cpuSet("/sys/devices/system/cpu/isolated") ?? .empty }

  /// The CPUs sharing `cpu`'s core, itself included (topology/thread_siblings_list); empty
  /// when the file is absent.
  package func threadSiblings(of cpu: Int) -> CPUSet {
    cpuSet("/sys/devices/system/cpu/cpu\(cpu)/topology/thread_siblings_list") ?? .empty
  }

  // MARK: Interfaces

  /// Names in /sys/class/net.
  package var interfaces: [String] { list("/sys/class/net") }

  /// /sys/class/net/IF/device/local_cpulist, or every online CPU when the device has no
  /// NUMA information (virtual devices, numa_node -1).
  package func localCPUs(of interface: String) -> CPUSet {
    cpuSet("/sys/class/net/\(interface)/device/local_cpulist") ?? onlineCPUs
  }

  /// /sys/class/net/IF/ifindex.
  package func ifindex(of interface: String) -> UInt32? {
    (try? read("/sys/class/net/\(interface)/ifindex")).flatMap { UInt32($0) }
  }

  /// Whether the interface is administratively up (IFF_UP in /sys/class/net/IF/flags).
  /// `fresh`: read the file again rather than the run's cached value (waiting for a change).
  package func isUp(_ interface: String, fresh: Bool = false) -> Bool {
    let path = "/sys/class/net/\(interface)/flags"
    guard let text = try? (fresh ? readFresh(path) : read(path)), let flags = UInt32(text.dropFirst(2), radix: 16)
    else { return false }
    return flags & 1 != 0
  }

  /// Whether the interface exists but its queue ("rx-3") does not: fewer channels removed it.
  package func queueIsGone(_ interface: String, _ queue: String) -> Bool {
    exists("/sys/class/net/\(interface)") && !exists("/sys/class/net/\(interface)/queues/\(queue)")
  }

  /// Queue directories of an interface ("rx-0", "rx-1", "tx-0"), in numeric order.
  package func queues(of interface: String, prefix: String) -> [String] {
    let head = prefix + "-"
    // Each name's number parsed once, not once per comparison.
    return list("/sys/class/net/\(interface)/queues")
      .filter { $0.hasPrefix(head) }
      .map { (number: Int($0.dropFirst(head.count)) ?? 0, name: $0) }
      .sorted { $0.number < $1.number }
      .map(\.name)
  }
}

/// The file systems bpstune's kernel settings live on, by statfs(2)'s f_type (linux/magic.h).
package enum KernelFileSystem: String, Sendable {
  /// /sys: SYSFS_MAGIC.
  case sysfs
  /// /proc (and /proc/sys): PROC_SUPER_MAGIC.
  case procfs

  var magic: Int64 { self == .sysfs ? 0x6265_6572 : 0x9fa0 }

  /// The name of a file system type, for messages: the pseudo file systems that are mounted
  /// below /sys and /proc, and a few others, by their linux/magic.h numbers.
  static func name(of type: Int64) -> String {
    let names: [Int64: String] = [
      0x6265_6572: "sysfs", 0x9fa0: "procfs", 0x6462_6720: "debugfs", 0x7472_6163: "tracefs",
      0x7363_6673: "securityfs", 0x6265_6570: "configfs", 0xde5e_81e4: "efivarfs", 0xcafe_4a11: "bpffs",
      0x6367_7270: "cgroup2", 0x27_e0eb: "cgroup", 0x6165_676c: "pstore", 0x0102_1994: "tmpfs",
      0x4249_4e4d: "binfmt_misc", 0x6573_5543: "fusectl", 0xef53: "ext4", 0x5846_5342: "xfs",
      0x9123_683e: "btrfs", 0x6573_6546: "fuse", 0x0102_1997: "9p", 0x794c_7630: "overlayfs",
    ]
    return names[type] ?? "a file system of type 0x\(String(type, radix: 16))"
  }
}
