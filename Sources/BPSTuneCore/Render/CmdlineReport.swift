import BPSTuneKernel

/// `bpstune cmdline PROFILE`: the boot parameters of a profile's [cmdline] against the ones the
/// running kernel was booted with (/proc/cmdline), what to add, change or remove, and a GRUB
/// drop-in that adds them. bpstune never writes the bootloader: that is the admin's step.
package struct CmdlineReport: Sendable {
  package struct Parameter: Sendable, Encodable {
    package var name: String
    /// As /proc/cmdline has it; "" when absent.
    package var current: String
    /// As the profile wants it; "" when it must be absent.
    package var desired: String
    package var origin: String
  }

  package var profile: String
  package var parameters: [Parameter]
  /// Every parameter, not only those the running kernel lacks (for building images).
  package var all: Bool

  package init(profile: Profile, host: KernelHost, all: Bool) throws(BPSTuneError) {
    let knob = CmdlineKnob()
    let request = PlanRequest(profile: profile, host: host, interfaces: [])
    var parameters: [Parameter] = []
    for target in try knob.targets(for: request) {
      let current: String
      do {
        current = try knob.read(target.id, on: host)
      } catch {
        throw .invalidPlan(setting: target.origin, message: "cannot read \(CmdlineKnob.cmdline): \(error)")
      }
      parameters.append(
        Parameter(name: target.id.key, current: current, desired: target.desired, origin: target.origin))
    }
    self.profile = profile.name
    self.parameters = parameters
    self.all = all
  }

  static func same(_ p: Parameter) -> Bool { ValueSemantics.bootParameter.equal(p.current, p.desired) }

  /// Whether the running kernel lacks a parameter of the profile or has one it must not.
  package var needsReboot: Bool { !parameters.allSatisfy(Self.same) }

  /// Parameters to put on the command line: missing or different here (all of them with `all`).
  package var add: [Parameter] { parameters.filter { !$0.desired.isEmpty && (all || !Self.same($0)) } }
  /// Parameters the profile wants absent that the kernel was booted with.
  package var remove: [Parameter] { parameters.filter { $0.desired.isEmpty && !$0.current.isEmpty } }

  /// /etc/default/grub.d/bpstune.cfg: appended after the existing parameters, so that the
  /// profile's value comes last (most parameters take the last one given).
  package var grub: String {
    let words = add.map(\.desired).joined(separator: " ")
    return """
      # /etc/default/grub.d/bpstune.cfg -- boot parameters of bpstune profile \(profile)
      # Install: copy here, run update-grub, reboot; then `bpstune verify \(profile)` checks them.
      GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT \(words)"
      """
  }

  package func text() -> String {
    if parameters.isEmpty { return "\(profile): no [cmdline] boot parameters" }
    var lines: [String] = []
    let add = self.add
    if add.isEmpty && remove.isEmpty {
      lines.append("\(profile): the running kernel has every boot parameter of the profile; nothing to add")
    }
    if !add.isEmpty {
      lines.append("add to the kernel command line, then reboot:")
      lines.append("  " + add.map(\.desired).joined(separator: " "))
      for p in add where !p.current.isEmpty && !Self.same(p) {
        lines.append(
          "  \(p.name): the kernel has \(p.current); remove that from the bootloader configuration, "
            + "as some parameters (isolcpus, nohz_full) keep the first one given")
      }
    }
    if !remove.isEmpty {
      lines.append("remove from the kernel command line, then reboot:")
      lines.append("  " + remove.map(\.current).joined(separator: " "))
    }
    if !add.isEmpty {
      lines.append("")
      lines.append(grub)
    }
    return lines.joined(separator: "\n")
  }

  /// JSON schema 2: each parameter as every report lists a setting (``SettingJSON``), as diff
  /// lists it: `current` and `desired` as users read them ("absent"), `kernel_current` and
  /// `kernel_desired` as /proc/cmdline has them ("" for absent), `status` ok or needs-reboot.
  /// (Schema 1 had `{name, current, desired, origin}` in /proc/cmdline's text.)
  struct Document: Encodable {
    var schema = 2
    var command = "cmdline"
    var profile: String
    var parameters: [SettingJSON]
    var add: [String]
    var remove: [String]
    var grub: String?
  }

  /// A parameter as diff lists a boot parameter.
  static func setting(_ p: Parameter) -> SettingJSON {
    var setting = SettingJSON(SettingID(kind: CmdlineKnob().kind, key: p.name))
    let s = ValueSemantics.bootParameter
    setting.status = same(p) ? PlanStatus.ok.rawValue : PlanStatus.reboot.rawValue
    setting.current = s.display(p.current, as: p.desired)
    setting.desired = s.display(p.desired)
    setting.kernelCurrent = p.current
    setting.kernelDesired = p.desired
    setting.reason = same(p) ? nil : SettingJSON.rebootReason
    setting.origin = p.origin
    return setting
  }

  package func json() -> String {
    ReportJSON.encode(
      Document(
        profile: profile, parameters: parameters.map(Self.setting), add: add.map(\.desired),
        remove: remove.map(\.current),
        grub: add.isEmpty ? nil : grub))
  }
}
