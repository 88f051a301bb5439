import BPSTuneCore
import BPSTuneKernel

extension Workflow {
  /// What `bpstune enable` is asked: a profile with its variables and options, or `refresh`
  /// (all of them from the record).
  package struct EnableRequest {
    package var profile: String
    package var interface: String?
    package var variables: [String: String]
    package var skipUnsupported: Bool
    package var metricsDirectory: String
    package var reapplyOnDrift: Bool
    package var refresh: Bool
    /// `--reason`, recorded in the apply's snapshot.
    package var reason: String?
    package var lockTimeout: Int

    package init(
      profile: String, interface: String? = nil, variables: [String: String] = [:], skipUnsupported: Bool = false,
      metricsDirectory: String = EnabledRecord.defaultMetricsDirectory, reapplyOnDrift: Bool = false,
      refresh: Bool = false, reason: String? = nil, lockTimeout: Int = 30
    ) {
      self.profile = profile
      self.interface = interface
      self.variables = variables
      self.skipUnsupported = skipUnsupported
      self.metricsDirectory = metricsDirectory
      self.reapplyOnDrift = reapplyOnDrift
      self.refresh = refresh
      self.reason = reason
      self.lockTimeout = lockTimeout
    }
  }

  /// What enable did: nil when `refresh` found nothing to adopt (and said so).
  package struct Enabled {
    package var record: EnabledRecord
    package var previous: EnabledRecord?
    package var profile: Profile
    package var outcome: Applier.Outcome
    /// What went wrong with the units and the metrics directory (warnings: enabling stands).
    package var unitProblems: [String]
  }

  /// `bpstune enable`: plans and refuses exactly like apply, pins the profile (checked before
  /// any change), applies it, records it with its variables, writes the udev rule for its
  /// interfaces, makes the drift check's metrics directory and enables the units. With
  /// `refresh`, takes everything from the record and adopts an edited profile (or writes a
  /// missing pinned copy again); `privileges` checks what the profile needs before anything.
  package func enable(_ request: EnableRequest, privileges: (Profile) throws -> Void) throws -> Enabled? {
    var request = request
    let previous: EnabledRecord?
    if request.refresh {
      guard let old = try EnabledRecord.load(persistence.recordPath) else {
        throw BPSTuneError.usage("enable --refresh: nothing is enabled")
      }
      previous = old
      (request.profile, request.interface, request.variables) = (old.profile, old.interface, old.variables)
      (request.skipUnsupported, request.metricsDirectory, request.reapplyOnDrift) =
        (old.skipUnsupported, old.metricsDirectory, old.reapplyOnDrift)
    } else {
      // A record that cannot be read is replaced: enabling is what mends it.
      previous = (try? EnabledRecord.load(persistence.recordPath)) ?? nil
    }
    let profile = try loader.load(request.profile, overrides: request.variables, interface: request.interface)
    try privileges(profile)
    if request.refresh, let old = previous {
      // The copy the units fall back on is checked too: a missing or changed one is written again.
      let pinnedProblem = old.pinnedSHA256.flatMap {
        EnabledProfile.checkPinned(EnabledProfile.pinnedPath(recordPath: persistence.recordPath), sha256: $0)
      }
      if let pinnedProblem, old.sha256 == profile.contentHash {
        say("\(pinnedProblem); writing it again")
      } else if old.sha256 == profile.contentHash {
        let hash = profile.contentHash.prefix(16)
        say("\(old.profile) is unchanged since it was enabled (sha256 \(hash)); nothing to refresh")
        return nil
      } else {
        // The plan the apply makes of the edited content follows (as enable prints it).
        say(
          "\(old.profile) changed since it was enabled (sha256 \(old.sha256.map { String($0.prefix(16)) } ?? "not recorded")"
            + " -> \(profile.contentHash.prefix(16))); adopting it:")
      }
    }
    // A path is recorded as the file itself: absolute, symlinks resolved (the units run in /).
    let recorded: String
    if ProfileSource.isPath(request.profile) {
      do {
        recorded = try Syscalls.realPath(profile.path)
      } catch {
        throw BPSTuneError.profile(file: profile.path, key: "", message: "cannot resolve: \(error)")
      }
    } else {
      recorded = request.profile
    }
    var record = EnabledRecord(
      profile: recorded, interface: request.interface, variables: request.variables,
      skipUnsupported: request.skipUnsupported, metricsDirectory: request.metricsDirectory,
      reapplyOnDrift: request.reapplyOnDrift)
    record.sha256 = profile.contentHash
    // The copy the units fall back on once the file is edited or gone, checked before any change.
    let pinned = try EnabledProfile.pin(profile, record: record, recordPath: persistence.recordPath, loader: loader)
    StopReport.install(doing: "enabling \(record.profile)")
    let lock = try locked(request.lockTimeout)
    defer { lock.release() }
    StopReport.doing("reading the current values to plan \(record.profile)")
    var executor = self.executor(host)
    executor.trigger = "enable"
    executor.reason = request.reason
    let outcome = try Applier(executor: executor).apply(profile, skipUnsupported: request.skipUnsupported)
    if let snapshot = outcome.snapshot { warnIfUnrecorded(snapshot) }
    record.pinnedSHA256 = try EnabledProfile.save(pinned, recordPath: persistence.recordPath)
    try record.save(persistence.recordPath)
    try persistence.installRule(for: profile)
    // The drift unit may write only there (ProtectSystem=strict, ReadWritePaths=): made now,
    // 0755 for node_exporter, so that it exists when the unit starts.
    var unitProblems: [String] = []
    do {
      try Syscalls.makeDirectories(request.metricsDirectory, mode: 0o755)
    } catch {
      unitProblems.append("cannot create the metrics directory: \(error)")
    }
    if request.metricsDirectory != EnabledRecord.defaultMetricsDirectory {
      unitProblems.append(
        "\(Persistence.driftService) may write only \(EnabledRecord.defaultMetricsDirectory): add "
          + "ReadWritePaths=\(request.metricsDirectory) with `systemctl edit \(Persistence.driftService)`")
    }
    unitProblems += persistence.enableUnits()
    return Enabled(record: record, previous: previous, profile: profile, outcome: outcome, unitProblems: unitProblems)
  }
}
