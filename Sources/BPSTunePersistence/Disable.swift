import BPSTuneCore
import BPSTuneKernel

extension Workflow {
  /// What disable did.
  package struct Disabled {
    /// The record removed; nil when there was none (or it was damaged, and named).
    package var record: EnabledRecord?
    /// This boot's applies of the enabled profile rolled back, newest first.
    package var rolledBack: [String]
    /// What went wrong with the units (warnings: disabling stands).
    package var unitProblems: [String]
  }

  /// `bpstune disable`: rolls back this boot's applies made by enable and by bpstune's units
  /// (newest first, with rollback's checks; a value an earlier of them set counts as
  /// bpstune's), unless `keepSettings`; then disables the units and removes the udev rule, the
  /// drift check's metrics file (a file no check rewrites would alert forever), the record and
  /// the pinned copy. An apply made by hand after the enabled profile's must be rolled back
  /// first: that is refused before any change.
  package func disable(keepSettings: Bool, lockTimeout: Int) throws -> Disabled {
    let record: EnabledRecord?
    do {
      record = try EnabledRecord.load(persistence.recordPath)
    } catch {
      // A damaged record is named, and disabling goes on: it is what removes it.
      warn("warning: \(error)")
      record = nil
    }
    var rolledBack: [String] = []
    if !keepSettings {
      let lock = try locked(lockTimeout)
      defer { lock.release() }
      let restorer = Restorer(executor: executor(host))
      var history = try SnapshotHistory.read(store)
      let boot = host.bootID
      let ours = history.unitApplies(boot: boot)
      if let byHand = history.appliedByHand(after: ours, boot: boot) {
        throw BPSTuneError.usage(
          "disable: apply \(byHand.id) (\(byHand.profile ?? "?"), made by hand after the enabled profile's) is still in effect; "
            + "roll it back first (bpstune rollback) or keep the values with --keep-settings; nothing was changed")
      }
      // The history read once, extended with each rollback made (plan looks there for an
      // unfinished rollback of the snapshot it restores).
      var newer: [Snapshot] = []
      for snapshot in ours.reversed() {
        let plan = EnabledProfile.relax(restorer.plan(snapshot, history: history.snapshots), knownBefore: newer)
        newer.append(snapshot)
        let made = try restorer.restore(plan, force: false)
        history = history.appending(made)
        warnIfUnrecorded(made)
        rolledBack.append(snapshot.id)
      }
    }
    let problems = persistence.disableUnits()
    try persistence.removeRule()
    if let record {
      let metrics = record.metricsDirectory + "/" + Persistence.metricsFile
      do {
        if try Syscalls.fileStatus(metrics) != nil { try Syscalls.removeFile(metrics) }
      } catch {
        throw BPSTuneError.enabled(path: metrics, message: "cannot remove: \(error)")
      }
    }
    try EnabledRecord.remove(persistence.recordPath)
    try EnabledProfile.removePinned(recordPath: persistence.recordPath)
    return Disabled(record: record, rolledBack: rolledBack, unitProblems: problems)
  }
}
