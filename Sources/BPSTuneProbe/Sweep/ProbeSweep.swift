import BPSTuneCore
import BPSTuneKernel

/// `bpstune probe sweep`: every candidate planned first (one this host cannot take fails before
/// any change), then, for each repeat, every candidate in a shuffled order: applied exactly as
/// `apply` applies (planned again right before its snapshot), settled, measured under each
/// workload, rolled back, through ``ProbeCompare/measure(_:_:)``. Interleaving the candidates
/// spreads a shared machine's drift over all of them rather than over the last ones.
package struct ProbeSweep {
  package var plan: SweepPlan
  /// Each candidate's loaded profile, in the plan's order.
  package var profiles: [Profile]
  package var compare: ProbeCompare
  package var repeats: Int
  package var seed: UInt64
  /// Progress lines.
  package var log: (String) -> Void = { _ in }

  package static let maxRepeats = 50

  /// One measured run: a candidate, the repeat, its results per workload.
  package struct Run: Sendable {
    package var candidate: Int
    package var repeatIndex: Int
    package var results: [ProbeResult]
  }

  /// Loads every candidate's profile: the plan's text for it, with the candidate's variables
  /// over the command line's `--set`, and `-i` for ${iface}.
  package static func load(
    _ plan: SweepPlan, overrides: [String: String], interface: String?, loader: ProfileLoader = ProfileLoader()
  ) throws(BPSTuneError) -> [Profile] {
    let name = try SweepPlan.interfaceName(of: plan.profile, raw: plan.profile.interfaces.map(\.name))
    var out: [Profile] = []
    for (index, candidate) in plan.candidates.enumerated() {
      let label = Self.name(of: candidate, in: plan)
      do {
        out.append(
          try loader.load(
            text: plan.text(candidate, interfaceName: name), path: "\(plan.profile.path).sweep-\(index)", name: label,
            overrides: plan.overrides(candidate, base: overrides), interface: interface, interfaceIfUsed: true))
      } catch {
        throw .usage("probe sweep: candidate \(candidate.label(plan.varies)): \(error)")
      }
    }
    return out
  }

  /// A candidate's profile name, which its snapshots record: the profile and the values, without
  /// spaces ("veth@napi-defer-hard-irqs=0,gro-flush-timeout=15us", "veth@as-written").
  package static func name(of candidate: SweepCandidate, in plan: SweepPlan) -> String {
    let values = zip(plan.varies, candidate.values).map { "\($0.setting)=\($1)" }
    return "\(ProbeCompare.title(plan.profile.name))@\(values.isEmpty ? "as-written" : values.joined(separator: ","))"
  }

  package init(plan: SweepPlan, profiles: [Profile], compare: ProbeCompare, repeats: Int, seed: UInt64) {
    self.plan = plan
    self.profiles = profiles
    self.compare = compare
    self.repeats = repeats
    self.seed = seed
  }

  /// A candidate whose measuring stopped early, in one line naming it (as its snapshots do) and
  /// the reason once: exit 3 with the changes its rollback undid, or exit 2 when its apply had
  /// changed nothing (`undone` nil).
  package static func failure(_ stop: ProbeCompare.Stop, candidate: String, undone: Int?) -> BPSTuneError {
    guard let undone else {
      return .probe(what: "sweep", message: "candidate \(candidate): \(stop.reason); the host is as before")
    }
    return .failedAndUndone(setting: "probe sweep: candidate \(candidate)", message: stop.reason, undone: undone)
  }

  /// The order of each repeat: a permutation of the candidates drawn from `seed`.
  package static func orders(candidates: Int, repeats: Int, seed: UInt64) -> [[Int]] {
    var generator = SplitMix64(seed: seed)
    return (0..<repeats).map { _ in generator.order(candidates) }
  }

  /// Runs the sweep. The caller holds the state lock. Every candidate is planned first, and the
  /// candidates settled by what they ask of this host (``SweepPlan/settle(_:)``; `plan` and
  /// `profiles` are then the ones measured). A failure (a peer that stops answering, Ctrl-C)
  /// ends it with the runs measured before, the candidate it failed in rolled back.
  package mutating func run() throws(BPSTuneError) -> (runs: [Run], failure: BPSTuneError?) {
    if !(1...Self.maxRepeats).contains(repeats) {
      throw .usage("--repeat \(repeats): must be 1 to \(Self.maxRepeats)")
    }
    // Every candidate planned before any change, once, and the candidates settled by what their
    // plans ask (values by meaning). Each run below is planned again only by its apply, right
    // before the snapshot, as `apply` plans: the host it meets then is the one the previous
    // candidate's rollback left.
    let planned = try compare.planned(profiles)
    var applications = planned.map(\.application)
    if let dropped = try plan.settle(planned.map { SweepPlan.Effect(plan: $0.plan, application: $0.application) }) {
      profiles.remove(at: dropped)
      applications.remove(at: dropped)
    }
    // Said once every candidate is planned: a refusal is the error's one line alone.
    log("\(profiles.count) candidates x \(repeats) repeat(s), seed \(seed)")
    var runs: [Run] = []
    let orders = Self.orders(candidates: profiles.count, repeats: repeats, seed: seed)
    for (r, order) in orders.enumerated() {
      for c in order {
        // Between two candidates nothing is applied: the host is as before, as after an
        // interrupted candidate, and the exit code is the same (3).
        if Syscalls.interruptRequested {
          return (runs, .failedAndUndone(setting: "probe sweep", message: "interrupted", undone: 0))
        }
        log(
          "repeat \(r + 1)/\(repeats), candidate \(c + 1)/\(profiles.count): \(plan.candidates[c].label(plan.varies))")
        let (column, stop) = try compare.measure(profiles[c], applications[c])
        if let stop {
          return (
            runs, Self.failure(stop, candidate: profiles[c].name, undone: column.snapshot.map { _ in column.changes })
          )
        }
        runs.append(Run(candidate: c, repeatIndex: r, results: column.results))
      }
    }
    return (runs, nil)
  }
}
