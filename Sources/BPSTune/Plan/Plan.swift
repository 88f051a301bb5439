/// What a profile would change on this host: one entry per concrete setting.
public struct Plan: Sendable {
  public var profile: String
  public var entries: [PlanEntry]
  /// Things the user should know before applying (globs matching nothing, ...).
  public var warnings: [String]

  public var changes: [PlanEntry] { entries.filter { $0.status == .change } }
  public var unsupported: [PlanEntry] { entries.filter { $0.status == .unsupported } }
  public var satisfied: [PlanEntry] { entries.filter { $0.status == .ok } }
  /// Boot parameters the running kernel lacks: only a reboot with them changes that.
  public var rebootNeeded: [PlanEntry] { entries.filter { $0.status == .reboot } }
  /// Whether the host differs from the profile (diff and verify exit 1): a change to make, or
  /// a boot parameter the kernel was booted without.
  public var differs: Bool { entries.contains { $0.status == .change || $0.status == .reboot } }
}

public enum PlanStatus: String, Codable, Sendable {
  /// The host differs; apply will write the desired value.
  case change
  /// The host already has the desired value.
  case ok
  /// This host cannot take the setting; `reason` says why.
  case unsupported
  /// A boot parameter the running kernel differs in: apply cannot change it, a reboot with the
  /// parameter on the kernel command line does.
  case reboot = "needs-reboot"
}

public struct PlanEntry: Sendable {
  public var target: Target
  /// The value the kernel has now; nil when it cannot be read.
  public var current: String?
  public var status: PlanStatus
  /// Why the setting is unsupported.
  public var reason: String?

  public var id: SettingID { target.id }
}

/// Turns a profile into a plan for this host: resolves interfaces, asks every knob for its
/// targets, reads each current value once, and compares by meaning.
public struct Planner {
  public var knobs: [any Knob]

  public init(knobs: [any Knob] = KnobRegistry.standard) { self.knobs = knobs }

  public func plan(_ profile: Profile, on host: KernelHost) throws(BPSTuneError) -> Plan {
    var warnings: [String] = []
    var interfaces: [(spec: InterfaceSpec, names: [String])] = []
    let present = host.interfaces
    for spec in profile.interfaces {
      if spec.isGlob {
        let names = present.filter { Syscalls.globMatches(spec.name, $0) }
        if names.isEmpty { warnings.append("\(spec.origin): \"\(spec.name)\" matches no interface") }
        interfaces.append((spec, names))
      } else {
        guard present.contains(spec.name) else {
          throw .invalidPlan(
            setting: spec.origin.description,
            message: "interface \(spec.name) does not exist on this host" + Suggestion.hint(for: spec.name, in: present)
          )
        }
        interfaces.append((spec, [spec.name]))
      }
    }
    let request = PlanRequest(profile: profile, host: host, interfaces: interfaces)
    var targets: [Target] = []
    for knob in knobs { targets += try knob.targets(for: request) }
    // A setting named twice (a glob and a name): the later block wins.
    var seen: [SettingID: Int] = [:]
    seen.reserveCapacity(targets.count)
    var unique: [Target] = []
    unique.reserveCapacity(targets.count)
    for target in targets {
      if let i = seen[target.id] {
        unique[i] = target
      } else {
        seen[target.id] = unique.count
        unique.append(target)
      }
    }
    let ordered = unique.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }.map(
      \.element)
    var entries: [PlanEntry] = []
    entries.reserveCapacity(ordered.count)
    var comparisons = ValuePairCache<Bool>()
    for target in ordered {
      if let why = target.unsupported {
        entries.append(PlanEntry(target: target, current: nil, status: .unsupported, reason: why))
        continue
      }
      let knob = KnobRegistry.knob(forKind: target.id.kind, in: knobs)!
      do {
        let current = try knob.read(target.id, on: host)
        let s = target.semantics
        let isSet =
          comparisons.result(s, current, target.desired) { s.equal(current, target.desired) } && !target.rewrite
        let status: PlanStatus = isSet ? .ok : target.needsReboot ? .reboot : .change
        entries.append(PlanEntry(target: target, current: current, status: status))
      } catch let e as SystemError {
        entries.append(
          PlanEntry(target: target, current: nil, status: .unsupported, reason: "cannot read: \(e.reason)"))
      } catch {
        entries.append(PlanEntry(target: target, current: nil, status: .unsupported, reason: "cannot read: \(error)"))
      }
    }
    // A glob's files share their warning: said once.
    for entry in entries {
      if let w = entry.target.warning.map({ "\(entry.target.origin): \($0)" }), !warnings.contains(w) {
        warnings.append(w)
      }
    }
    for knob in knobs { warnings += knob.warnings(for: request, entries: entries) }
    warnings += HostChecks.warnings(for: request, entries: entries)
    warnings += Overwriters(host: host).warnings(for: entries)
    if entries.contains(where: { $0.status == .change && $0.target.phase == .structure })
      && entries.contains(where: { $0.target.phase > .structure })
    {
      warnings.append(
        "channels or rings change first and re-create queues; the settings after them are planned again then")
    }
    return Plan(profile: profile.name, entries: entries, warnings: warnings)
  }
}
