import BPSTuneCore
import BPSTuneKernel

/// `bpstune probe compare`: for each profile, apply it through the apply path (snapshot first),
/// let it settle, measure every workload against the peer, and roll it back through the
/// rollback path; the host ends as it began. A kill -9 in between leaves an apply that
/// `bpstune rollback` undoes like any other.
package struct ProbeCompare {
  /// A request rate (nil: closed loop) and an application delay, "RATE:DELAY" on the command
  /// line ("0:0" or "closed:0" for a closed loop).
  package struct Workload: Sendable, Equatable, CustomStringConvertible {
    package var rate: Int?
    package var delay: Int

    package init(rate: Int?, delay: Int) {
      self.rate = rate
      self.delay = delay
    }

    package init(parsing text: String) throws(BPSTuneError) {
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, let delay = Int(parts[1]), delay >= 0, delay <= 1_000_000 else {
        throw .usage(
          "--workload \(text): expected RATE:DELAY (requests per second or 0 for a closed loop, µs of delay up to 1000000)"
        )
      }
      if parts[0] == "closed" || parts[0] == "0" {
        rate = nil
      } else if let r = Int(parts[0]), r > 0, r <= 10_000_000 {
        rate = r
      } else {
        throw .usage("--workload \(text): RATE must be 1 to 10000000 requests per second, or 0 / closed")
      }
      self.delay = delay
    }

    /// The defaults: a closed loop, and 10 kpkt/s with 30 µs of application work (the series'
    /// 32 kpkt/s + 30 µs scaled to what an emulated or virtual path sustains).
    package static let defaults = [Workload(rate: nil, delay: 0), Workload(rate: 10_000, delay: 30)]

    package var description: String {
      (rate.map { "\($0 >= 1000 && $0 % 1000 == 0 ? "\($0 / 1000)k" : "\($0)") pkt/s" } ?? "closed loop")
        + " + \(delay) µs delay"
    }
  }

  /// One profile's measurements, one per workload.
  package struct Column: Sendable {
    /// The profile as a column title: its name, or a path's file name without ".profile".
    package var profile: String
    /// The apply's snapshot; nil when the host already matched the profile.
    package var snapshot: String?
    package var changes: Int
    package var results: [ProbeResult]
    /// Why measuring this profile stopped early (its results are the workloads measured
    /// before); nil when every workload was measured.
    package var incomplete: String?
    /// The application side its runs used: the command line's, over the profile's [probe].
    package var application = ProbeApplication(socket: ProbeSocketSettings())
  }

  package var executor: Executor
  /// The command line's client settings, defaults included.
  package var client: ProbeClient.Settings
  /// The application-side options the command line gave explicitly: each wins over a
  /// profile's [probe] (``ProbeSocketSettings/application(explicit:profile:)``).
  package var explicit = ApplicationSide()
  package var workloads: [Workload]
  /// Seconds between the apply and the first measurement.
  package var settle: Double
  package var skipUnsupported: Bool
  /// Progress lines ("applying hft", "measuring ...").
  package var log: (String) -> Void = { _ in }

  package init(
    executor: Executor, client: ProbeClient.Settings, workloads: [Workload], settle: Double, skipUnsupported: Bool
  ) {
    self.executor = executor
    self.client = client
    self.workloads = workloads
    self.settle = settle
    self.skipUnsupported = skipUnsupported
  }

  /// Why measuring a profile stopped before its last workload.
  package enum Stop: Sendable, Equatable {
    /// Ctrl-C (SIGINT or SIGTERM).
    case interrupted
    /// The measurement's own error: a peer that stopped answering, a rate not sustained.
    case failed(BPSTuneError)

    /// The reason alone, for a caller's message that names the profile: "interrupted", or the
    /// error's line ("probe 10.0.0.2:7878: no reply within 1000 ms").
    package var reason: String {
      switch self {
      case .interrupted: "interrupted"
      case .failed(let error): error.description
      }
    }

    /// The error as compare reports it when the apply had changed nothing.
    var error: BPSTuneError {
      switch self {
      case .interrupted: .probe(what: "compare", message: "interrupted")
      case .failed(let error): error
      }
    }
  }

  /// Plans every profile first (a profile this host cannot take fails before any change), then
  /// applies, measures and rolls back each in turn. The caller holds the state lock. A failure
  /// while measuring ends the comparison with what was measured before it (the failing
  /// profile's column marked incomplete), and the failure to report after it: exit 3 with
  /// what the rollback undid, or the measurement's own error when the apply changed nothing.
  package func run(_ profiles: [Profile]) throws(BPSTuneError) -> (columns: [Column], failure: BPSTuneError?) {
    let applications = try check(profiles)
    var columns: [Column] = []
    for (profile, application) in zip(profiles, applications) {
      let (column, stop) = try measure(profile, application)
      guard let stop else {
        columns.append(column)
        continue
      }
      // What was measured so far is kept; the apply is undone: exit 3, as for a failed apply.
      if !column.results.isEmpty { columns.append(column) }
      guard column.snapshot != nil else { return (columns, stop.error) }
      return (
        columns,
        .failedAndUndone(
          setting: "probe compare \(profile.name)", message: stop.reason, undone: column.changes)
      )
    }
    return (columns, nil)
  }

  /// One profile that ``check(_:)`` passed: applied exactly as `apply` applies it (planned again
  /// under the lock right before its snapshot, as the host is now), settled, measured under each
  /// workload, and rolled back. The caller holds the state lock. The column holds what was
  /// measured (its `snapshot` nil when the apply changed nothing, `changes` what the rollback
  /// undid); `stop` says why measuring stopped early, for the caller to report with the
  /// profile's name.
  package func measure(_ profile: Profile, _ application: ProbeApplication) throws(BPSTuneError) -> (
    column: Column, stop: Stop?
  ) {
    log("applying \(Self.title(profile.name)); the application side: \(application.summary)")
    let outcome = try Applier(executor: executor).apply(profile, skipUnsupported: skipUnsupported)
    executor.host.forget()
    var results: [ProbeResult] = []
    var stop: Stop?
    if settle > 0 { Syscalls.sleep(milliseconds: Int(settle * 1000)) }
    for workload in workloads {
      if Syscalls.interruptRequested {
        stop = .interrupted
        break
      }
      log("measuring \(Self.title(profile.name)): \(workload)")
      do {
        let result = try ProbeClient(settings: settings(for: workload, application), host: executor.host).run()
        if result.interrupted {
          stop = .interrupted
          break
        }
        if let error = result.rateError {
          stop = .failed(error)
          break
        }
        results.append(result)
      } catch {
        stop = .failed(error)
        break
      }
    }
    if let snapshot = outcome.snapshot {
      log("rolling back \(Self.title(profile.name)) (snapshot \(snapshot.id))")
      try rollBack(snapshot, after: stop)
    }
    let column = Column(
      profile: Self.title(profile.name), snapshot: outcome.snapshot?.id, changes: outcome.snapshot?.entries.count ?? 0,
      results: results, incomplete: stop?.error.description, application: application)
    return (column, stop)
  }

  /// Plans every profile (a profile this host cannot take is an error, before any change), and
  /// checks each profile's application side ([probe] and the command line) with the workloads
  /// and the settling time; the application side of each, in order.
  @discardableResult
  package func check(_ profiles: [Profile]) throws(BPSTuneError) -> [ProbeApplication] {
    try planned(profiles).map(\.application)
  }

  /// ``check(_:)``, with each profile's plan on the host as it is now besides its application
  /// side, in order.
  package func planned(_ profiles: [Profile]) throws(BPSTuneError) -> [(plan: Plan, application: ProbeApplication)] {
    let planner = Planner(knobs: executor.knobs)
    var plans: [Plan] = []
    for profile in profiles {
      let plan = try planner.plan(profile, on: executor.host)
      if !plan.unsupported.isEmpty && !skipUnsupported {
        throw .unsupportedSettings(
          plan.unsupported.map { Printable.Item($0.id, ": \($0.reason ?? "unsupported")", scope: profile.name) })
      }
      plans.append(plan)
    }
    let applications = profiles.map { client.socket.application(explicit: explicit, profile: $0.probe) }
    for (profile, application) in zip(profiles, applications) {
      try application.validate(for: profile.name)
      for workload in workloads { try settings(for: workload, application).validate() }
    }
    if !(settle >= 0 && settle <= 600) { throw .usage("--settle \(settle): must be 0 to 600 s") }
    return zip(plans, applications).map { (plan: $0, application: $1) }
  }

  /// The client's settings with the workload's rate and delay and a profile's application side.
  func settings(for workload: Workload, _ application: ProbeApplication) -> ProbeClient.Settings {
    var settings = client
    settings.rate = workload.rate
    settings.delay = workload.delay
    settings.socket = application.socket
    return settings
  }

  static func title(_ name: String) -> String {
    let file = name.split(separator: "/").last.map(String.init) ?? name
    return file.hasSuffix(".profile") ? String(file.dropLast(8)) : file
  }

  /// Restores what the apply changed, with rollback's checks (its error keeps rollback's exit
  /// code; the measurement's failure, if any, is logged first).
  private func rollBack(_ snapshot: Snapshot, after stop: Stop?) throws(BPSTuneError) {
    executor.host.forget()
    let restorer = Restorer(executor: executor)
    do {
      _ = try restorer.restore(restorer.plan(snapshot), force: false)
      executor.host.forget()
    } catch {
      if let stop { log("measuring failed: \(stop.reason)") }
      throw error
    }
  }
}
