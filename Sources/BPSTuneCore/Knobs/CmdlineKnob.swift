import BPSTuneKernel

/// Kernel boot parameters (`[cmdline]` in profiles): isolcpus, nohz_full, iommu and any other
/// `name[=value]`. No runtime interface sets them, so bpstune never writes them: diff and
/// verify compare the profile with /proc/cmdline (what the running kernel was booted with)
/// and show a difference as "needs reboot"; `bpstune cmdline PROFILE` prints what to add.
///
/// A value is a string or an integer (`name=value`), `true` (a bare `name`) or `false` (the
/// parameter must be absent). Names compare with "-" and "_" alike, as the kernel's parameq does.
package struct CmdlineKnob: Knob {
  package let kind = SettingKind.cmdline
  package let sections = ["cmdline"]
  package let interfaceKeys: [String] = []

  package init() {}

  static let cmdline = "/proc/cmdline"

  package func canonicalKey(_ key: String) -> String { BootParameter.canonical(key) }

  package func rejection(of id: SettingID) -> String? {
    "boot parameter \(id.key): bpstune never writes the kernel command line, so no snapshot holds one"
  }

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    _ = try parameter(setting)
  }

  /// The parameter as /proc/cmdline would have it: "" for must-be-absent.
  func parameter(_ setting: ProfileSetting) throws(BPSTuneError) -> String {
    let name = setting.key
    guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
      throw setting.origin.error("\"\(name)\" is not a boot parameter name (letters, digits, _, - and .)")
    }
    switch setting.value {
    case .bool(let present): return present ? name : ""
    case .integer(let i): return "\(name)=\(i)"
    case .string(let s):
      guard !s.isEmpty else {
        throw setting.origin.error("an empty value: write true for a bare \(name), false for \(name) absent")
      }
      if s.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "\0" }) {
        throw setting.origin.error("a boot parameter value has no white space or quotes: \"\(s)\"")
      }
      return "\(name)=\(s)"
    default:
      throw setting.origin.error(
        "expected a string or integer (\(name)=VALUE), true (a bare \(name)) or false (absent), got \(setting.value.typeName)"
      )
    }
  }

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    var out: [Target] = []
    for setting in request.profile.sections["cmdline"] ?? [] {
      var target = Target(
        id: SettingID(kind: kind, key: setting.key), desired: try parameter(setting), semantics: .bootParameter,
        phase: .system, origin: setting.origin.description)
      target.needsReboot = true
      out.append(target)
    }
    return out
  }

  /// The parameter as the running kernel was booted with it ("" when absent; the last one when
  /// it is given twice, as most parameters take it).
  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    let wanted = BootParameter.canonical(id.key)
    var found = ""
    for word in Self.words(try host.read(Self.cmdline)) {
      let name = word.firstIndex(of: "=").map { String(word[..<$0]) } ?? word
      if BootParameter.canonical(name) == wanted { found = word }
    }
    return found
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    throw BPSTuneError.invalidPlan(
      setting: id.description, message: "boot parameters are not written at run time; add it to the kernel command line"
    )
  }

  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] { [] }

  /// The kernel's parameters in a command line, as the kernel splits them (next_arg): words
  /// separated by white space, double quotes keeping spaces and removed, and nothing after
  /// "--" (those words go to init).
  static func words(_ line: String) -> [String] {
    var out: [String] = []
    var word = ""
    var quoted = false
    var started = false
    for c in line {
      if c == "\"" {
        quoted.toggle()
        started = true
      } else if c.isWhitespace && !quoted {
        if started {
          if word == "--" { return out }
          out.append(word)
        }
        word = ""
        started = false
      } else {
        word.append(c)
        started = true
      }
    }
    if started && word != "--" { out.append(word) }
    return out
  }
}
