/// Where a profile value came from: the file and the key path within it.
public struct Origin: Sendable, Equatable, CustomStringConvertible {
  public var file: String
  public var key: String

  public init(file: String, key: String) {
    self.file = file
    self.key = key
  }

  public var description: String { "\(file): \(key)" }

  /// A profile error at this origin.
  public func error(_ message: String) -> BPSTuneError { .profile(file: file, key: key, message: message) }
}

/// One `key = value` of a profile section or [[interface]] block, variables expanded.
public struct ProfileSetting: Sendable, Equatable {
  /// A sysctl name, a path below /sys, or an interface key ("threaded", "napi.threaded").
  public var key: String
  public var value: ProfileValue
  public var origin: Origin

  public init(key: String, value: ProfileValue, origin: Origin) {
    self.key = key
    self.value = value
    self.origin = origin
  }
}

/// One [[interface]] block: the interface name or glob and its settings.
public struct InterfaceSpec: Sendable, Equatable {
  /// The name after variable expansion; may be a glob ("ens1f*").
  public var name: String
  public var origin: Origin
  public var settings: [ProfileSetting]

  public var isGlob: Bool { KernelHost.isGlob(name) }
}

/// A loaded profile: includes merged, variables expanded, every key checked.
public struct Profile: Sendable {
  /// The name users gave (built-in name or path).
  public var name: String
  /// The profile's own file.
  public var path: String
  public var description: String?
  /// The profile file and every file it includes, in load order.
  public var files: [String]
  /// Settings of the top-level sections this bpstune knows, by section ("sysctl", "sysfs").
  public var sections: [String: [ProfileSetting]]
  public var interfaces: [InterfaceSpec]
  /// Variable values after overrides.
  public var variables: [String: String]
  /// SHA-256 of the bytes read, the profile's file then each include in load order (`cat
  /// FILES | sha256sum`; `sha256sum FILE` for a profile without includes).
  public var contentHash: String = ""
  /// Every variable: its default, where it is defined and where it is used (`profiles show`),
  /// worked out each time it is asked for, not when the profile is loaded.
  public var variableInfo: [VariableInfo] { variableUses?.info ?? [] }
  /// Every variable the profile defines or uses.
  public var variableNames: Set<String> = []
  /// What ``variableInfo`` is worked out from.
  var variableUses: VariableUses?
  /// `--set` values and `-i`, as given (what a snapshot records of how the profile was used).
  public var overrides: [String: String] = [:]
  public var interface: String?
}

/// One `${variable}` of a profile, for `bpstune profiles show`.
public struct VariableInfo: Sendable, Encodable {
  public var name: String
  /// The value in [variables] before `--set` (nil: used but never defined).
  public var defaultValue: String?
  /// The file whose [variables] defines it (the including profile's, when both do).
  public var definedIn: String?
  /// The value the profile uses now (the default, or `--set`).
  public var value: String?
  /// The settings, interface names and other variables that use it.
  public var usedBy: [String]

  enum CodingKeys: String, CodingKey {
    case name, value
    case defaultValue = "default"
    case definedIn = "defined_in"
    case usedBy = "used_by"
  }
}
