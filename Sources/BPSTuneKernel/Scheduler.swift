import SystemPackage

/// A thread's scheduling as bpstune sets it on NAPI kthreads: policy, real-time priority and
/// CPU affinity.
package struct ThreadSchedule: Sendable, Equatable {
  /// SCHED_OTHER (0), SCHED_FIFO (1), SCHED_RR (2), SCHED_BATCH (3), SCHED_IDLE (5), ...
  package var policy: Int32
  package var priority: Int32
  package var cpus: CPUSet

  package init(policy: Int32, priority: Int32, cpus: CPUSet) {
    self.policy = policy
    self.priority = priority
    self.cpus = cpus
  }

  /// Policy names as profiles and chrt(1) write them.
  package static let policies: [(name: String, number: Int32)] = [
    ("other", 0), ("fifo", 1), ("rr", 2), ("batch", 3), ("idle", 5), ("deadline", 6),
  ]

  package static func policyName(_ number: Int32) -> String {
    policies.first { $0.number == number }?.name ?? "policy-\(number)"
  }

  package static func policyNumber(_ name: String) -> Int32? { policies.first { $0.name == name }?.number }
}

/// Reads and sets threads' scheduling: ``KernelScheduler`` in production, a model in unit tests
/// (which must never touch real threads).
package protocol SchedulerTransport: Sendable {
  func schedule(of pid: Int32) throws(SystemError) -> ThreadSchedule
  func setPolicy(of pid: Int32, policy: Int32, priority: Int32) throws(SystemError)
  func setAffinity(of pid: Int32, _ cpus: CPUSet) throws(SystemError)
  /// The thread's name (/proc/PID/comm).
  func name(of pid: Int32) -> String?
}

/// sched_getscheduler/sched_setscheduler and sched_getaffinity/sched_setaffinity
/// (``Syscalls``) on the running kernel's threads.
package struct KernelScheduler: SchedulerTransport {
  package init() {}

  package func schedule(of pid: Int32) throws(SystemError) -> ThreadSchedule {
    let (policy, priority) = try Syscalls.schedule(of: pid)
    return ThreadSchedule(policy: policy, priority: priority, cpus: try Syscalls.affinity(of: pid))
  }

  package func setPolicy(of pid: Int32, policy: Int32, priority: Int32) throws(SystemError) {
    try Syscalls.setSchedule(of: pid, policy: policy, priority: priority)
  }

  package func setAffinity(of pid: Int32, _ cpus: CPUSet) throws(SystemError) {
    try Syscalls.setAffinity(of: pid, cpus)
  }

  package func name(of pid: Int32) -> String? {
    (try? Syscalls.readKernelFile("/proc/\(pid)/comm", attribute: false)).map {
      String(decoding: $0, as: UTF8.self).trimmingWhitespace
    }
  }
}

/// A directory tree standing in for the kernel has no threads: every pid is gone (ESRCH).
package struct AbsentScheduler: SchedulerTransport {
  package init() {}
  package func schedule(of pid: Int32) throws(SystemError) -> ThreadSchedule {
    throw SystemError("sched_getscheduler", "pid \(pid)", .noSuchProcess)
  }
  package func setPolicy(of pid: Int32, policy: Int32, priority: Int32) throws(SystemError) {
    throw SystemError("sched_setscheduler", "pid \(pid)", .noSuchProcess)
  }
  package func setAffinity(of pid: Int32, _ cpus: CPUSet) throws(SystemError) {
    throw SystemError("sched_setaffinity", "pid \(pid)", .noSuchProcess)
  }
  package func name(of pid: Int32) -> String? { nil }
}
