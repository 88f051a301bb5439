import BPSTuneCore
import BPSTuneKernel

/// Where persistence lives on a host, and the systemd and udev side of `enable` and `disable`:
/// the record, the generated udev rule, and the units bpstune ships
/// (bpstune.service, bpstune-interface@.service, bpstune-drift.service and .timer).
/// Nothing here changes a kernel setting: applying goes through ``Applier`` like `apply`.
package struct Persistence: Sendable {
  /// /etc/bpstune.
  package var configDirectory: String
  /// /etc/udev/rules.d: the rule `enable` writes names the profile's interfaces, so an
  /// interface the profile does not name starts nothing.
  package var udevRulesDirectory: String
  /// systemctl and udevadm; a test points these at recorders.
  package var systemctl: String
  package var udevadm: String

  package static let bootUnit = "bpstune.service"
  package static let driftTimer = "bpstune-drift.timer"
  package static let driftService = "bpstune-drift.service"
  package static let interfaceUnit = "bpstune-interface@.service"
  package static let ruleName = "80-bpstune.rules"
  package static let metricsFile = "bpstune.prom"

  package init(
    configDirectory: String = "/etc/bpstune", udevRulesDirectory: String = "/etc/udev/rules.d",
    systemctl: String = "/usr/bin/systemctl", udevadm: String = "/usr/bin/udevadm"
  ) {
    self.configDirectory = configDirectory
    self.udevRulesDirectory = udevRulesDirectory
    self.systemctl = systemctl
    self.udevadm = udevadm
  }

  package var recordPath: String { configDirectory + "/" + EnabledRecord.fileName }
  /// enable's copy of the profile as enabled (``ResolvedProfile``).
  package var pinnedPath: String { configDirectory + "/" + EnabledRecord.pinnedFileName }
  package var rulePath: String { udevRulesDirectory + "/" + Self.ruleName }

  // MARK: Profiles for the units

  /// The part of `profile` that `bpstune-interface@IF.service` applies: every [[interface]]
  /// block whose name or glob matches `interface`, renamed to it, and nothing else (no
  /// sysctls, no /sys files). Nil when no block matches: the interface costs nothing.
  package static func only(_ profile: Profile, interface: String) -> Profile? {
    let blocks = profile.interfaces.filter {
      $0.name == interface || ($0.isGlob && Syscalls.globMatches($0.name, interface))
    }
    guard !blocks.isEmpty else { return nil }
    var part = profile
    part.sections = [:]
    part.interfaces = blocks.map { block in
      var b = block
      b.name = interface
      return b
    }
    return part
  }

  /// The part of `profile` the boot unit applies now: everything but the [[interface]] blocks
  /// of interfaces that do not exist yet (udev may still be loading the driver) or are down
  /// (a NIC has its queue IRQs, NAPIs and their kthreads only once it is up, which the
  /// network configuration does after network-pre.target). bpstune-interface@IF.service
  /// tunes each of those when it appears and is up. Glob blocks become one block per
  /// interface they match that is up. Returns the deferred names, each with "absent" or "down".
  package static func present(_ profile: Profile, on host: KernelHost) -> (profile: Profile, absent: [String]) {
    let names = host.interfaces
    var part = profile
    var deferred: [String] = []
    part.interfaces = []
    for block in profile.interfaces {
      let matched = block.isGlob ? names.filter { Syscalls.globMatches(block.name, $0) } : [block.name]
      for name in matched {
        guard names.contains(name) else {
          deferred.append("\(Printable.escaped(name)) (absent)")
          continue
        }
        guard host.isUp(name) else {
          deferred.append("\(Printable.escaped(name)) (down)")
          continue
        }
        var b = block
        b.name = name
        part.interfaces.append(b)
      }
    }
    var seen: Set<String> = []
    return (part, deferred.filter { seen.insert($0).inserted })
  }

  /// Waits until `interface` is administratively up (IFF_UP in /sys/class/net/IF/flags, read
  /// afresh every 200 ms), for at most `seconds`. Returns whether it is up; false also when
  /// it disappeared.
  package static func waitUntilUp(_ interface: String, on host: KernelHost, seconds: Int) -> Bool {
    var waited = 0
    while true {
      if host.isUp(interface, fresh: true) { return true }
      if waited >= seconds * 1000 || !host.exists("/sys/class/net/\(interface)") { return false }
      Syscalls.sleep(milliseconds: 200)
      waited += 200
    }
  }

  // MARK: udev

  /// The rule for the profile's interfaces: on add (a NIC appears or its driver re-creates
  /// it) and move (renamed), start bpstune-interface@IF.service. A templated unit rather than
  /// RUN+=, which udev kills after a short time. Written with ``ConfigText``: no profile name
  /// or interface name can add a line of its own.
  package static func udevRule(for profile: Profile) -> String {
    var lines = [
      ConfigText.comment("Written by `bpstune enable` for profile \(profile.name); removed by `bpstune disable`."),
      "# An interface the profile names that appears, is re-created or renamed gets its settings.",
    ]
    var seen: Set<String> = []
    for block in profile.interfaces where seen.insert(block.name).inserted {
      lines.append(
        "ACTION==\"add|move\", SUBSYSTEM==\"net\", KERNEL==\(ConfigText.udevPattern(block.name)), TAG+=\"systemd\", "
          + "ENV{SYSTEMD_WANTS}+=\"bpstune-interface@%k.service\"")
    }
    if seen.isEmpty { lines.append("# (the profile names no interface)") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The interface that `bpstune-interface@INSTANCE.service` was started for. The udev rule
  /// asks for bpstune-interface@%k.service, and systemd mangles what a unit name may not hold
  /// to `\xNN` (unit_name_mangle): `eth0+` arrives as `eth0\x2b`, while `-`, `.`, `_`, `:`, `@`
  /// and `\` stay as they are (unlike systemd-escape, which would also turn `-` into `\x2d`,
  /// so `%I` would be wrong). Every `\xNN` is decoded; should that name not exist while the
  /// instance itself does (an interface really named with a backslash), the instance is it.
  package static func interfaceName(instance: String, existing: [String]) -> String {
    var bytes: [UInt8] = []
    let raw = Array(instance.utf8)
    var i = 0
    func hex(_ b: UInt8) -> UInt8? {
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
      default: nil
      }
    }
    while i < raw.count {
      if raw[i] == UInt8(ascii: "\\"), i + 3 < raw.count, raw[i + 1] == UInt8(ascii: "x"),
        let high = hex(raw[i + 2]), let low = hex(raw[i + 3])
      {
        bytes.append(high << 4 | low)
        i += 4
      } else {
        bytes.append(raw[i])
        i += 1
      }
    }
    let decoded = String(decoding: bytes, as: UTF8.self)
    if decoded != instance && !existing.contains(decoded) && existing.contains(instance) { return instance }
    return decoded
  }

  package func installRule(for profile: Profile) throws(BPSTuneError) {
    let text = Self.udevRule(for: profile)
    do {
      try Syscalls.makeDirectories(udevRulesDirectory, mode: 0o755)
      try Syscalls.writeDurably(rulePath, Array(text.utf8), mode: Syscalls.readableByAll)
    } catch {
      throw .enabled(path: rulePath, message: "cannot write: \(BPSTuneError.reason(of: error))")
    }
    reloadUdev()
  }

  package func removeRule() throws(BPSTuneError) {
    do {
      if try Syscalls.fileStatus(rulePath) != nil { try Syscalls.removeFile(rulePath) }
    } catch {
      throw .enabled(path: rulePath, message: "cannot remove: \(BPSTuneError.reason(of: error))")
    }
    reloadUdev()
  }

  /// `udevadm control --reload`; a host without udev (a container) has nothing to reload.
  func reloadUdev() {
    guard (try? Syscalls.fileStatus(udevadm, followLinks: true)) != nil else { return }
    _ = Syscalls.run([udevadm, "control", "--reload"])
  }

  // MARK: systemd

  /// The answer of systemctl, or why it could not be asked.
  package struct UnitState: Sendable, Equatable {
    package var unit: String
    /// is-enabled: enabled, disabled, static, not-found, ...
    package var enabled: String
    /// is-active: active, inactive, failed, ...
    package var active: String
  }

  package var hasSystemd: Bool { (try? Syscalls.fileStatus(systemctl, followLinks: true)) != nil }

  /// `systemctl enable` of the boot unit and `enable --now` of the drift timer. Returns what
  /// went wrong, as warnings: the settings are applied and recorded either way.
  package func enableUnits() -> [String] {
    guard hasSystemd else { return ["\(systemctl) not found: units not enabled (no systemd on this host?)"] }
    var problems: [String] = []
    for args in [["enable", "--quiet", Self.bootUnit], ["enable", "--now", "--quiet", Self.driftTimer]] {
      let r = Syscalls.run([systemctl] + args)
      if r.status != 0 { problems.append("systemctl \(args.joined(separator: " ")): \(Self.oneLine(r.output))") }
    }
    return problems
  }

  /// `systemctl disable` of the boot unit and `disable --now` of the drift timer.
  package func disableUnits() -> [String] {
    guard hasSystemd else { return [] }
    var problems: [String] = []
    for args in [["disable", "--quiet", Self.bootUnit], ["disable", "--now", "--quiet", Self.driftTimer]] {
      let r = Syscalls.run([systemctl] + args)
      if r.status != 0 { problems.append("systemctl \(args.joined(separator: " ")): \(Self.oneLine(r.output))") }
    }
    return problems
  }

  package func unitStates() -> [UnitState] {
    [Self.bootUnit, Self.driftTimer, Self.driftService].map { unit in
      guard hasSystemd else { return UnitState(unit: unit, enabled: "no systemd", active: "no systemd") }
      let enabled = Syscalls.run([systemctl, "is-enabled", unit]).output
      let active = Syscalls.run([systemctl, "is-active", unit]).output
      // systemctl without a running systemd (a container, a chroot) explains at length, per
      // call; one word for status to say once.
      for text in [enabled, active]
      where text.contains("not been booted with systemd") || text.contains("Failed to connect to bus") {
        return UnitState(unit: unit, enabled: "systemd not running", active: "systemd not running")
      }
      return UnitState(
        unit: unit, enabled: Self.oneLine(enabled.isEmpty ? "unknown" : enabled),
        active: Self.oneLine(active.isEmpty ? "unknown" : active))
    }
  }

  static func oneLine(_ text: String) -> String {
    text.split(whereSeparator: { $0 == "\n" }).map(String.init).joined(separator: "; ")
  }
}
