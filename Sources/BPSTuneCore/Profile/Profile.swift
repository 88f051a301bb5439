import BPSTuneKernel

/// Where a profile value came from: the file and the key path within it.
package struct Origin: Sendable, Equatable, CustomStringConvertible {
  package var file: String
  package var key: String

  package init(file: String, key: String) {
    self.file = file
    self.key = key
  }

  package var description: String { "\(file): \(key)" }

  /// A profile error at this origin.
  package func error(_ message: String) -> BPSTuneError { .profile(file: file, key: key, message: message) }
}

/// One `key = value` of a profile section or [[interface]] block, variables expanded.
package struct ProfileSetting: Sendable, Equatable {
  /// A sysctl name, a path below /sys, or an interface key ("threaded", "napi.threaded").
  package var key: String
  package var value: ProfileValue
  package var origin: Origin

  package init(key: String, value: ProfileValue, origin: Origin) {
    self.key = key
    self.value = value
    self.origin = origin
  }
}

/// One [[interface]] block: the interface name or glob and its settings.
package struct InterfaceSpec: Sendable, Equatable {
  /// The name after variable expansion; may be a glob ("ens1f*").
  package var name: String
  package var origin: Origin
  package var settings: [ProfileSetting]

  package var isGlob: Bool { KernelHost.isGlob(name) }
}

/// A loaded profile: includes merged, variables expanded, every key checked.
package struct Profile: Sendable {
  /// The name users gave (built-in name or path).
  package var name: String
  /// The profile's own file.
  package var path: String
  package var description: String?
  /// The profile file and every file it includes, in load order.
  package var files: [String]
  /// Settings of the top-level sections this bpstune knows, by section ("sysctl", "sysfs").
  package var sections: [String: [ProfileSetting]]
  package var interfaces: [InterfaceSpec]
  /// [probe]: the application side the profile assumes (nil: it states none). Never applied
  /// to the host; `probe compare` measures the profile with it, `profiles show` prints it.
  package var probe: ApplicationSide?
  /// Variable values after overrides.
  package var variables: [String: String]
  /// SHA-256 of the bytes read, the profile's file then each include in load order (`cat
  /// FILES | sha256sum`; `sha256sum FILE` for a profile without includes).
  package var contentHash: String = ""
  /// Every variable: its default, where it is defined and where it is used (`profiles show`),
  /// worked out each time it is asked for, not when the profile is loaded.
  package var variableInfo: [VariableInfo] { variableUses?.info ?? [] }
  /// Every variable the profile defines or uses.
  package var variableNames: Set<String> = []
  /// What ``variableInfo`` is worked out from.
  var variableUses: VariableUses?
  /// `--set` values and `-i`, as given (what a snapshot records of how the profile was used).
  package var overrides: [String: String] = [:]
  package var interface: String?
}

/// One `${variable}` of a profile, for `bpstune profiles show`.
package struct VariableInfo: Sendable, Encodable {
  package var name: String
  /// The value in [variables] before `--set` (nil: used but never defined).
  package var defaultValue: String?
  /// The file whose [variables] defines it (the including profile's, when both do).
  package var definedIn: String?
  /// The value the profile uses now (the default, or `--set`).
  package var value: String?
  /// The settings, interface names and other variables that use it.
  package var usedBy: [String]

  enum CodingKeys: String, CodingKey {
    case name, value
    case defaultValue = "default"
    case definedIn = "defined_in"
    case usedBy = "used_by"
  }
}
