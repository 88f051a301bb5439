import BPSTuneCore
import BPSTuneKernel

/// What the persistence workflows (enable, disable, the boot and hot-plug units' applies, the
/// drift check, status) need from a run: the host, the snapshots, where enable writes, how to
/// take the lock and make an executor, and where their lines go. The command line builds one
/// from its options; the unit tests build one over a temporary tree, with no root and no
/// systemd (`systemctl` and `udevadm` stand-ins).
package struct Workflow {
  package var persistence: Persistence
  package var host: KernelHost
  package var store: SnapshotStore
  /// Profiles the units read as root at every boot: only root's files (``ProfileTrust``).
  package var loader: ProfileLoader
  /// An executor for `host` with the run's logging.
  package var executor: (KernelHost) -> Executor
  /// Takes the apply locks, waiting up to the seconds given.
  package var lock: (Int) throws -> StateLock
  /// A line for standard output.
  package var say: (String) -> Void
  /// A line for standard error, as a warning or note (already worded).
  package var warn: (String) -> Void

  package init(
    persistence: Persistence, host: KernelHost, store: SnapshotStore,
    loader: ProfileLoader = ProfileLoader(source: .standard(trust: .forThisProcess(persistent: true))),
    executor: @escaping (KernelHost) -> Executor, lock: @escaping (Int) throws -> StateLock,
    say: @escaping (String) -> Void, warn: @escaping (String) -> Void
  ) {
    self.persistence = persistence
    self.host = host
    self.store = store
    self.loader = loader
    self.executor = executor
    self.lock = lock
    self.say = say
    self.warn = warn
  }

  /// Takes the apply locks, then drops what the run read of the host before: another run held
  /// the lock meanwhile and may have changed it (channels re-created queues, IRQs and NAPIs).
  /// Every plan under the lock reads the kernel afresh.
  package func locked(_ timeout: Int) throws -> StateLock {
    let held = try lock(timeout)
    host.forget()
    return held
  }

  /// Says ``Snapshot/unrecordedWarning`` when there is one.
  package func warnIfUnrecorded(_ snapshot: Snapshot) {
    if let warning = snapshot.unrecordedWarning { warn(warning) }
  }

}
