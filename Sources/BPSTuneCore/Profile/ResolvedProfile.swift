import TOMLKit

/// A profile written out as one file: its includes merged (the including profile winning, key
/// by key, as ``ProfileLoader`` merges them), `[variables]` and every `${...}` as written, so
/// that `--set` and `-i` still apply when it is loaded. `bpstune enable` keeps this copy beside
/// its record: what was enabled is what the boot applies, even after the file is edited or gone.
package struct ResolvedProfile: Sendable {
  /// The file's text: a comment header, then TOML that loads to the same profile.
  package var text: String
  /// ``Profile/contentHash`` of the files read (the profile, then its includes).
  package var contentHash: String
  /// The files merged, in load order.
  package var files: [String]
}

extension ProfileLoader {
  /// Reads the profile at `path` (already located) and its includes and writes them as one
  /// file. `header` lines become comments (escaped: none can end early).
  package func resolved(_ path: String, header: [String]) throws(BPSTuneError) -> ResolvedProfile {
    var files: [String] = []
    var digest = SHA256()
    let layer = try loadLayer(path, chain: [], files: &files, digest: &digest)
    let table = TOMLTable()
    if let description = layer.description {
      table["profile"] = TOMLTable(["description": description])
    }
    if !layer.variables.isEmpty {
      let variables = TOMLTable()
      for (name, entry) in layer.variables { variables[name] = Self.toml(entry.value) }
      table["variables"] = variables
    }
    for (section, settings) in layer.sections where !settings.isEmpty {
      // One key per setting, quoted where it holds dots ("net.core.busy_read"): loading it
      // flattens to the same name.
      let out = TOMLTable()
      for (key, setting) in settings { out[key] = Self.toml(setting.value) }
      table[section] = out
    }
    if !layer.probe.isEmpty {
      let probe = TOMLTable()
      for (key, setting) in layer.probe { probe[key] = Self.toml(setting.value) }
      table["probe"] = probe
    }
    if !layer.interfaces.isEmpty {
      let blocks = TOMLArray()
      for block in layer.interfaces {
        let out = TOMLTable()
        out["name"] = block.name
        for (key, setting) in block.settings { out[key] = Self.toml(setting.value) }
        blocks.append(out)
      }
      table["interface"] = blocks
    }
    let comments = header.map { ConfigText.comment($0) }.joined(separator: "\n")
    // No literal or multi-line strings: every string is a basic one, escapes and all.
    let body = table.convert(to: .toml, options: [])
    return ResolvedProfile(
      text: (comments.isEmpty ? "" : comments + "\n\n") + body + "\n", contentHash: digest.finalHex(), files: files)
  }

  static func toml(_ value: ProfileValue) -> any TOMLValueConvertible {
    switch value {
    case .integer(let v): Int(v)
    case .bool(let v): v
    case .string(let v): v
    case .float(let v): v
    case .array(let items): TOMLArray(items.map(toml))
    case .table(let t):
      TOMLTable(t.mapValues(toml))
    }
  }
}

extension Profile {
  /// Whether `other` sets the same values on the same names: the settings of every section and
  /// interface block, and the [probe] it assumes, compared after expansion (origins aside).
  /// The enable's check that its pinned copy means what the profile means.
  package func sameSettings(as other: Profile) -> Bool {
    func flat(_ p: Profile) -> [String: ProfileValue] {
      var out: [String: ProfileValue] = [:]
      for (section, settings) in p.sections {
        for s in settings { out["[\(section)] \(s.key)"] = s.value }
      }
      for block in p.interfaces {
        out["interface \(block.name)"] = .bool(true)
        for s in block.settings { out["interface \(block.name) \(s.key)"] = s.value }
      }
      return out
    }
    return flat(self) == flat(other) && description == other.description && probe == other.probe
  }
}
