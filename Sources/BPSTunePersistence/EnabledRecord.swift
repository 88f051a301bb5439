import BPSTuneCore
import BPSTuneKernel

/// What `bpstune enable` recorded: the profile, its variables and the persistence options, in
/// `/etc/bpstune/enabled.toml` (TOML, readable and diffable by the admin). bpstune.service
/// applies it at boot, bpstune-interface@IF.service when IF appears or is re-created, and
/// bpstune-drift.service checks it; `bpstune disable` removes it.
package struct EnabledRecord: Sendable, Equatable {
  /// The profile as given to enable: a built-in or installed name, or an absolute path.
  package var profile: String
  /// `-i`: the profile's ${iface}.
  package var interface: String?
  /// `--set NAME=VALUE`.
  package var variables: [String: String]
  package var skipUnsupported: Bool
  /// Where the drift check writes node_exporter textfile metrics (bpstune.prom).
  package var metricsDirectory: String
  /// Whether the drift check re-applies the profile when the host drifted (default: it reports).
  package var reapplyOnDrift: Bool
  /// When enable wrote the record (UTC).
  package var enabled: String
  /// SHA-256 of the profile's content when it was enabled (``Profile/contentHash``): `status`
  /// tells an edited profile apart from a host that drifted; `enable --refresh` adopts the edit.
  package var sha256: String?
  /// SHA-256 of the pinned copy's bytes (``ResolvedProfile``, `enabled.profile` beside the
  /// record): a copy changed after enable is named, never applied.
  package var pinnedSHA256: String?

  /// Debian's node_exporter textfile directory.
  package static let defaultMetricsDirectory = "/var/lib/prometheus/node-exporter"
  /// The record's place below the configuration directory.
  package static let fileName = "enabled.toml"
  /// The pinned copy's place below the configuration directory.
  package static let pinnedFileName = "enabled.profile"

  package init(
    profile: String, interface: String? = nil, variables: [String: String] = [:], skipUnsupported: Bool = false,
    metricsDirectory: String = defaultMetricsDirectory, reapplyOnDrift: Bool = false,
    enabled: String = SnapshotStore.timestamp()
  ) {
    self.profile = profile
    self.interface = interface
    self.variables = variables
    self.skipUnsupported = skipUnsupported
    self.metricsDirectory = metricsDirectory
    self.reapplyOnDrift = reapplyOnDrift
    self.enabled = enabled
  }

  /// The file's text: every option written out, with comments saying what reads it.
  package var text: String {
    var lines = [
      "# Written by `bpstune enable`; removed by `bpstune disable`. bpstune.service applies this at",
      "# every boot, bpstune-interface@IF.service when an interface the profile names appears, and",
      "# bpstune-drift.timer checks it (`systemctl edit bpstune-drift.timer` changes how often).",
      "profile = \(ConfigText.tomlString(profile))",
    ]
    if let interface { lines.append("interface = \(ConfigText.tomlString(interface))") }
    lines += [
      "skip-unsupported = \(skipUnsupported)",
      "enabled = \(ConfigText.tomlString(enabled))",
    ]
    if let sha256 { lines.append("sha256 = \(ConfigText.tomlString(sha256))") }
    if let pinnedSHA256 { lines.append("pinned-sha256 = \(ConfigText.tomlString(pinnedSHA256))") }
    lines += [
      "",
      "[set]",
    ]
    for name in variables.keys.sorted() {
      lines.append("\(ConfigText.tomlString(name)) = \(ConfigText.tomlString(variables[name]!))")
    }
    lines += [
      "",
      "[drift]",
      "metrics-directory = \(ConfigText.tomlString(metricsDirectory))",
      "reapply = \(reapplyOnDrift)",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// Reads and checks the record at `path`; nil when there is none (nothing is enabled). As
  /// root, the record must be root's, as the profiles it names must be (`trust`).
  package static func load(_ path: String, trust: ProfileTrust = .forThisProcess(persistent: true))
    throws(BPSTuneError) -> EnabledRecord?
  {
    do {
      guard try Syscalls.fileStatus(path) != nil else { return nil }
    } catch {
      throw .enabled(path: path, message: "cannot read: \(BPSTuneError.reason(of: error))")
    }
    let table: [String: ProfileValue]
    do {
      guard case .table(let t) = try ProfileValue.from(ProfileSource.parse(path, trust: trust), key: "", file: path)
      else {
        throw BPSTuneError.enabled(path: path, message: "not a table")
      }
      table = t
    } catch {
      // Profile-file wording (the parser is the profiles' one) becomes the record's.
      throw .enabled(path: path, message: (error as? BPSTuneError)?.reason ?? "\(error)")
    }
    func string(_ value: ProfileValue?, _ key: String) throws(BPSTuneError) -> String? {
      guard let value else { return nil }
      guard case .string(let s) = value else { throw .enabled(path: path, message: "\(key) must be a string") }
      return s
    }
    func bool(_ value: ProfileValue?, _ key: String) throws(BPSTuneError) -> Bool? {
      guard let value else { return nil }
      guard case .bool(let b) = value else { throw .enabled(path: path, message: "\(key) must be true or false") }
      return b
    }
    func subtable(_ value: ProfileValue?, _ key: String) throws(BPSTuneError) -> [String: ProfileValue] {
      guard let value else { return [:] }
      guard case .table(let t) = value else { throw .enabled(path: path, message: "[\(key)] must be a table") }
      return t
    }
    let known = ["profile", "interface", "skip-unsupported", "enabled", "sha256", "pinned-sha256", "set", "drift"]
    for key in table.keys where !known.contains(key) {
      throw .enabled(path: path, message: "unknown key \(key)" + Suggestion.hint(for: key, in: known))
    }
    guard let profile = try string(table["profile"], "profile"), !profile.isEmpty else {
      throw .enabled(path: path, message: "missing profile")
    }
    var record = EnabledRecord(profile: profile)
    record.interface = try string(table["interface"], "interface")
    record.skipUnsupported = try bool(table["skip-unsupported"], "skip-unsupported") ?? false
    record.enabled = try string(table["enabled"], "enabled") ?? "?"
    record.sha256 = try string(table["sha256"], "sha256")
    if let hash = record.sha256, !SHA256.isDigest(hash) {
      throw .enabled(path: path, message: "sha256 must be 64 lowercase hexadecimal digits")
    }
    record.pinnedSHA256 = try string(table["pinned-sha256"], "pinned-sha256")
    if let hash = record.pinnedSHA256, !SHA256.isDigest(hash) {
      throw .enabled(path: path, message: "pinned-sha256 must be 64 lowercase hexadecimal digits")
    }
    for (name, value) in try subtable(table["set"], "set") {
      switch value {
      case .string(let s): record.variables[name] = s
      case .integer(let n): record.variables[name] = String(n)
      default: throw .enabled(path: path, message: "set.\(name) must be a string")
      }
    }
    let drift = try subtable(table["drift"], "drift")
    for key in drift.keys where !["metrics-directory", "reapply"].contains(key) {
      throw .enabled(
        path: path,
        message: "unknown key drift.\(key)" + Suggestion.hint(for: key, in: ["metrics-directory", "reapply"]))
    }
    record.metricsDirectory =
      try string(drift["metrics-directory"], "drift.metrics-directory") ?? defaultMetricsDirectory
    guard record.metricsDirectory.hasPrefix("/") else {
      throw .enabled(path: path, message: "drift.metrics-directory must be an absolute path")
    }
    record.reapplyOnDrift = try bool(drift["reapply"], "drift.reapply") ?? false
    return record
  }

  /// Writes the record durably (mode 0644: the admin reads it), creating its directory.
  package func save(_ path: String) throws(BPSTuneError) {
    do {
      try Syscalls.makeDirectories(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]), mode: 0o755)
      try Syscalls.writeDurably(path, Array(text.utf8), mode: Syscalls.readableByAll)
    } catch {
      throw .enabled(path: path, message: "cannot write: \(BPSTuneError.reason(of: error))")
    }
  }

  /// Removes the record; no record is not an error.
  package static func remove(_ path: String) throws(BPSTuneError) {
    do {
      if try Syscalls.fileStatus(path) != nil { try Syscalls.removeFile(path) }
    } catch {
      throw .enabled(path: path, message: "cannot remove: \(BPSTuneError.reason(of: error))")
    }
  }
}
