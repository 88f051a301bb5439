import BPSTuneKernel

/// What a profile would change on this host: one entry per concrete setting.
package struct Plan: Sendable {
  package var profile: String
  package var entries: [PlanEntry]
  /// Things the user should know before applying (globs matching nothing, ...).
  package var warnings: [String]

  package var changes: [PlanEntry] { entries.filter { $0.status == .change } }
  package var unsupported: [PlanEntry] { entries.filter { $0.status == .unsupported } }
  package var satisfied: [PlanEntry] { entries.filter { $0.status == .ok } }
  /// Boot parameters the running kernel lacks: only a reboot with them changes that.
  package var rebootNeeded: [PlanEntry] { entries.filter { $0.status == .reboot } }
  /// Whether the host differs from the profile (diff and verify exit 1): a change to make, or
  /// a boot parameter the kernel was booted without.
  package var differs: Bool { entries.contains { $0.status == .change || $0.status == .reboot } }
}

package enum PlanStatus: String, Codable, Sendable {
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

package struct PlanEntry: Sendable {
  package var target: Target
  /// The value the kernel has now; nil when it cannot be read.
  package var current: String?
  package var status: PlanStatus
  /// Why the setting is unsupported.
  package var reason: String?

  package var id: SettingID { target.id }
}

/// Turns a profile into a plan for this host: resolves interfaces, asks every knob for its
/// targets, reads each current value once, and compares by meaning.
package struct Planner {
  package var knobs: [any Knob]

  package init(knobs: [any Knob] = KnobRegistry.standard) { self.knobs = knobs }

  package func plan(_ profile: Profile, on host: KernelHost) throws(BPSTuneError) -> Plan {
    var refusals: [BPSTuneError]? = nil
    return try plan(profile, on: host, problems: &refusals)
  }

  /// One plan of the whole profile and every problem this host has with it, for `profiles
  /// show`: where ``plan(_:on:)`` stops at the first setting it cannot plan, this leaves that
  /// setting out, names it, and goes on. The host is read, and its checks (warnings,
  /// overwriters) run, once, on every setting that could be planned.
  package func survey(_ profile: Profile, on host: KernelHost) -> (plan: Plan, problems: [BPSTuneError]) {
    var problems: [BPSTuneError]? = []
    do {
      let plan = try plan(profile, on: host, problems: &problems)
      return (plan, problems ?? [])
    } catch {
      // Not reached: with a list to collect them in, no problem is thrown.
      return (Plan(profile: profile.name, entries: [], warnings: []), (problems ?? []) + [error])
    }
  }

  /// Plans `profile`. A setting that cannot be planned here is thrown when `problems` is nil
  /// (plan), or added to it and left out of the plan (survey).
  private func plan(_ profile: Profile, on host: KernelHost, problems: inout [BPSTuneError]?)
    throws(BPSTuneError) -> Plan
  {
    var warnings: [String] = []
    var interfaces: [(spec: InterfaceSpec, names: [String])] = []
    let present = host.interfaces
    for spec in profile.interfaces {
      if spec.isGlob {
        let names = present.filter { Syscalls.globMatches(spec.name, $0) }
        if names.isEmpty { warnings.append("\(spec.origin): \"\(spec.name)\" matches no interface") }
        interfaces.append((spec, names))
      } else if present.contains(spec.name) {
        interfaces.append((spec, [spec.name]))
      } else {
        let missing = BPSTuneError.invalidPlan(
          setting: spec.origin.description,
          message: "interface \(spec.name) does not exist on this host" + Suggestion.hint(for: spec.name, in: present))
        guard problems != nil else { throw missing }
        problems?.append(missing)
      }
    }
    let request = PlanRequest(profile: profile, host: host, interfaces: interfaces)
    var targets: [Target] = []
    for knob in knobs {
      do {
        targets += try knob.targets(for: request)
      } catch {
        guard problems != nil else { throw error }
        // Which of this knob's settings it cannot plan: each alone (the knob's others left
        // out), so that the rest are planned and every refusal is named once.
        var named = false
        for one in request.eachSetting(of: knob) {
          do throws(BPSTuneError) {
            targets += try knob.targets(for: one)
          } catch {
            named = true
            problems?.append(error)
          }
        }
        if !named { problems?.append(error) }
      }
    }
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
      guard let knob = KnobRegistry.knob(for: target.id.kind) else {
        // Unreached: only host has no knob, and no knob plans a host fact.
        entries.append(
          PlanEntry(
            target: target, current: nil, status: .unsupported, reason: "nothing reads \(target.id.kind) settings"))
        continue
      }
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

extension PlanRequest {
  /// One request for each setting `knob` owns, holding that setting and none of the knob's
  /// others; every other knob's settings stay as they are (a knob may read them).
  func eachSetting(of knob: any Knob) -> [PlanRequest] {
    func withoutKnob(_ spec: InterfaceSpec) -> InterfaceSpec {
      var spec = spec
      spec.settings.removeAll { knob.interfaceKeys.contains($0.key) }
      return spec
    }
    var bare = self
    for section in knob.sections where profile.sections[section] != nil { bare.profile.sections[section] = [] }
    bare.profile.interfaces = profile.interfaces.map(withoutKnob)
    bare.interfaces = interfaces.map { (withoutKnob($0.spec), $0.names) }
    var out: [PlanRequest] = []
    for section in knob.sections {
      for setting in profile.sections[section] ?? [] {
        var one = bare
        one.profile.sections[section] = [setting]
        out.append(one)
      }
    }
    for (i, entry) in interfaces.enumerated() {
      for setting in entry.spec.settings where knob.interfaceKeys.contains(setting.key) {
        var one = bare
        one.interfaces[i].spec.settings.append(setting)
        if let j = one.profile.interfaces.firstIndex(where: { $0.origin == entry.spec.origin }) {
          one.profile.interfaces[j].settings.append(setting)
        }
        out.append(one)
      }
    }
    return out
  }
}
