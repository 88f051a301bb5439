import BPSTuneKernel
import SystemPackage
import TOMLKit

/// Loads a profile: finds it, parses it, merges its includes (the including profile wins, key
/// by key), expands `${variables}` with `--set` and `-i` overrides, and has every key checked
/// by the knob that owns it. Nothing is ignored: an unknown section, key or variable is an
/// error naming the file, the key path and the nearest valid name.
package struct ProfileLoader {
  package var source: ProfileSource
  package var knobs: [any Knob]

  /// How deep include chains may go.
  package static let includeDepthLimit = 16

  package init(source: ProfileSource = .standard(), knobs: [any Knob] = KnobRegistry.standard) {
    self.source = source
    self.knobs = knobs
  }

  /// Loads `reference` (a path or a profile name). `overrides` are `--set NAME=VALUE`;
  /// `interface` is `-i IF`, which sets the variable `iface`. A relative path is taken from
  /// `workingDirectory`, by default the process's own (getcwd(3), not $PWD).
  package func load(
    _ reference: String, overrides: [String: String] = [:], interface: String? = nil,
    workingDirectory: String? = nil, interfaceIfUsed: Bool = false
  ) throws(BPSTuneError) -> Profile {
    var directory = workingDirectory
    if directory == nil && ProfileSource.isPath(reference) && !reference.hasPrefix("/") {
      do {
        directory = try Syscalls.currentDirectory()
      } catch {
        throw .profile(file: reference, key: "", message: "cannot tell the working directory: \(error.reason)")
      }
    }
    guard let path = try source.locate(reference, relativeTo: directory) else {
      let names = source.available().map(\.name)
      throw .usage(
        "no profile \"\(reference)\" (searched \(source.searchPath.joined(separator: ", ")))"
          + Suggestion.hint(for: reference, in: names))
    }
    return try load(
      path: path, name: reference, overrides: overrides, interface: interface, interfaceIfUsed: interfaceIfUsed)
  }

  /// Loads a profile from `text`, as if it were the file at `path` (which need not exist): what
  /// `bpstune init` checks before it writes a profile. Its includes are found as a file's are.
  /// `name`: what messages and reports call it (the path by default).
  package func load(
    text: String, path: String, name: String? = nil, overrides: [String: String] = [:], interface: String? = nil,
    interfaceIfUsed: Bool = false
  ) throws(BPSTuneError) -> Profile {
    try load(
      path: path, name: name ?? path, overrides: overrides, interface: interface, interfaceIfUsed: interfaceIfUsed,
      text: Array(text.utf8))
  }

  private func load(
    path: String, name reference: String, overrides: [String: String], interface: String?, interfaceIfUsed: Bool,
    text: [UInt8]? = nil
  ) throws(BPSTuneError) -> Profile {
    var files: [String] = []
    var digest = SHA256()
    let layer = try loadLayer(path, chain: [], files: &files, digest: &digest, text: text)
    var profile = try resolve(
      layer, name: reference, path: path, files: files, overrides: overrides, interface: interface,
      interfaceIfUsed: interfaceIfUsed)
    profile.contentHash = digest.finalHex()
    profile.overrides = overrides
    // -i as the profile took it: probe compare's -i is not a variable of a profile without ${iface}.
    profile.interface = profile.variableNames.contains("iface") ? interface : nil
    return profile
  }

  // MARK: Layers

  /// One file's content before variables are expanded.
  struct Layer {
    var description: String?
    var variables: [String: (value: ProfileValue, origin: Origin)] = [:]
    var sections: [String: [String: ProfileSetting]] = [:]
    var interfaces: [RawInterface] = []
    /// [probe]: the application side, by key (``ApplicationSide``); never planned.
    var probe: [String: ProfileSetting] = [:]
  }

  struct RawInterface {
    var name: String
    var origin: Origin
    var settings: [String: ProfileSetting]
  }

  private static let ownSections = ["profile", "variables", "interface", "probe"]

  /// `text`: the file's content, given rather than read (``load(text:path:interface:)``).
  func loadLayer(
    _ path: String, chain: [String], files: inout [String], digest: inout SHA256, text: [UInt8]? = nil
  ) throws(BPSTuneError) -> Layer {
    let identity = (try? Syscalls.realPath(path)) ?? path
    if chain.contains(identity) {
      let cycle = (chain.drop { $0 != identity } + [identity]).map(Self.shortName).joined(separator: " -> ")
      throw .profile(file: path, key: "profile.include", message: "include cycle: \(cycle)")
    }
    if chain.count >= Self.includeDepthLimit {
      throw .profile(
        file: path, key: "profile.include", message: "includes nest deeper than \(Self.includeDepthLimit) levels")
    }
    files.append(path)
    let table: TOMLTable
    let bytes: [UInt8]
    if let text {
      (table, bytes) = (try ProfileSource.parse(text, path: path), text)
    } else {
      (table, bytes) = try source.parse(path)
    }
    digest.update(bytes)
    let (own, includes) = try parseLayer(table, file: path)
    let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
    var merged = Layer()
    for (index, include) in includes.enumerated() {
      guard let includePath = try source.locate(include, relativeTo: directory) else {
        throw .profile(
          file: path, key: "profile.include[\(index)]",
          message: "no profile \"\(include)\""
            + Suggestion.hint(for: include, in: source.available().map(\.name)))
      }
      let included = try loadLayer(includePath, chain: chain + [identity], files: &files, digest: &digest)
      merged = Self.merge(merged, over: included)
    }
    return Self.merge(merged, over: own)
  }

  private static func shortName(_ path: String) -> String {
    path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
  }

  /// `top` over `base`, key by key; [[interface]] blocks with the same name merge.
  static func merge(_ base: Layer, over top: Layer) -> Layer {
    var result = base
    if let d = top.description { result.description = d }
    result.variables.merge(top.variables) { _, new in new }
    for (section, settings) in top.sections {
      result.sections[section, default: [:]].merge(settings) { _, new in new }
    }
    result.probe.merge(top.probe) { _, new in new }
    for block in top.interfaces {
      if let i = result.interfaces.firstIndex(where: { $0.name == block.name }) {
        // Tables (coalesce, ring, channels, features) merge field by field, the top winning.
        result.interfaces[i].settings.merge(block.settings) { old, new in
          guard case .table(let a) = old.value, case .table(let b) = new.value else { return new }
          var merged = new
          merged.value = .table(a.merging(b) { _, top in top })
          return merged
        }
      } else {
        result.interfaces.append(block)
      }
    }
    return result
  }

  private func parseLayer(_ table: TOMLTable, file: String) throws(BPSTuneError) -> (Layer, [String]) {
    var layer = Layer()
    var includes: [String] = []
    let knobSections = knobs.flatMap(\.sections)
    for (section, raw) in table {
      try ProfileValue.checkKey(section, path: section, file: file)
      let value = try ProfileValue.from(raw, key: section, file: file)
      let origin = Origin(file: file, key: section)
      switch section {
      case "profile":
        guard case .table(let t) = value else { throw origin.error("must be a table") }
        for (key, v) in t {
          let o = Origin(file: file, key: "profile.\(key)")
          switch key {
          case "description":
            guard case .string(let s) = v else { throw o.error("must be a string") }
            layer.description = s
          case "include":
            switch v {
            case .string(let s): includes = [s]
            case .array(let items):
              for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                  throw o.error("item \(i) must be a string (a profile name or path)")
                }
                includes.append(s)
              }
            default: throw o.error("must be a list of profile names or paths")
            }
          default:
            throw o.error("unknown key" + Suggestion.hint(for: key, in: ["description", "include"]))
          }
        }
      case "variables":
        guard case .table(let t) = value else { throw origin.error("must be a table") }
        for (name, v) in t {
          let o = Origin(file: file, key: "variables.\(name)")
          guard Self.isVariableName(name) else { throw o.error("variable names use letters, digits, - and _") }
          switch v {
          case .string, .integer: layer.variables[name] = (v, o)
          default: throw o.error("must be a string or an integer, not \(v.typeName)")
          }
        }
      case "probe":
        guard case .table(let t) = value else { throw origin.error("must be a table") }
        for (key, v) in t {
          let o = Origin(file: file, key: "probe.\(key)")
          guard ApplicationSide.keys.contains(key) else {
            throw o.error("unknown [probe] key" + Suggestion.hint(for: key, in: ApplicationSide.keys))
          }
          layer.probe[key] = ProfileSetting(key: key, value: v, origin: o)
        }
      case "interface":
        let blocks: [ProfileValue]
        switch value {
        case .array(let items): blocks = items
        case .table: blocks = [value]
        default: throw origin.error("must be [[interface]] blocks")
        }
        for (index, block) in blocks.enumerated() {
          layer.interfaces.append(try parseInterface(block, file: file, index: index))
        }
      default:
        guard let knob = knobs.first(where: { $0.sections.contains(section) }) else {
          throw origin.error("unknown section" + Suggestion.hint(for: section, in: Self.ownSections + knobSections))
        }
        guard case .table(let t) = value else { throw origin.error("must be a table") }
        var settings: [String: ProfileSetting] = [:]
        for (key, v) in Self.flatten(t) {
          let canonical = knob.canonicalKey(key)
          let o = Origin(file: file, key: "\(section).\(key)")
          if let other = settings[canonical] {
            throw o.error("set twice (also as \(other.origin.key))")
          }
          settings[canonical] = ProfileSetting(key: canonical, value: v, origin: o)
        }
        layer.sections[section] = settings
      }
    }
    return (layer, includes)
  }

  private func parseInterface(_ block: ProfileValue, file: String, index: Int) throws(BPSTuneError) -> RawInterface {
    let base = "interface[\(index)]"
    guard case .table(let t) = block else {
      throw .profile(file: file, key: base, message: "must be a table")
    }
    guard case .string(let name)? = t["name"] else {
      throw .profile(file: file, key: "\(base).name", message: "every [[interface]] needs a name (a string)")
    }
    let known = knobs.flatMap(\.interfaceKeys)
    var settings: [String: ProfileSetting] = [:]
    for (key, value) in t where key != "name" {
      let origin = Origin(file: file, key: "\(base).\(key)")
      guard known.contains(key) else {
        throw origin.error("unknown interface key" + Suggestion.hint(for: key, in: known + ["name"]))
      }
      settings[key] = ProfileSetting(key: key, value: value, origin: origin)
    }
    return RawInterface(name: name, origin: Origin(file: file, key: "\(base).name"), settings: settings)
  }

  /// Dotted keys parse as nested tables; a section's names are the joined paths.
  static func flatten(_ table: [String: ProfileValue], prefix: String = "") -> [(String, ProfileValue)] {
    var out: [(String, ProfileValue)] = []
    for key in table.keys.sorted() {
      let full = prefix.isEmpty ? key : "\(prefix).\(key)"
      if case .table(let inner) = table[key]! {
        out += flatten(inner, prefix: full)
      } else {
        out.append((full, table[key]!))
      }
    }
    return out
  }

  static func isVariableName(_ name: String) -> Bool { ConfigText.isBareKey(name) }

  // MARK: Variables and checks

  private func resolve(
    _ layer: Layer, name: String, path: String, files: [String], overrides: [String: String], interface: String?,
    interfaceIfUsed: Bool = false
  ) throws(BPSTuneError) -> Profile {
    var raw: [String: (text: String, origin: Origin?)] = [:]
    for (key, entry) in layer.variables {
      switch entry.value {
      case .string(let s): raw[key] = (s, entry.origin)
      case .integer(let i): raw[key] = (String(i), entry.origin)
      default: break
      }
    }
    // Every name used anywhere, to check that overrides name something.
    var referenced = Set<String>()
    func collect(_ value: ProfileValue) {
      switch value {
      case .string(let s): referenced.formUnion(Expander.references(in: s))
      case .array(let items): items.forEach(collect)
      case .table(let t): t.values.forEach(collect)
      default: break
      }
    }
    for (_, entry) in raw { referenced.formUnion(Expander.references(in: entry.text)) }
    for settings in layer.sections.values { settings.values.forEach { collect($0.value) } }
    layer.probe.values.forEach { collect($0.value) }
    for block in layer.interfaces {
      referenced.formUnion(Expander.references(in: block.name))
      block.settings.values.forEach { collect($0.value) }
    }
    let defaults = raw
    let declared = Set(raw.keys).union(referenced)
    var all = overrides
    // `interfaceIfUsed` (probe compare's -i, meant for the profiles that use ${iface}): a
    // profile that names its interfaces takes no ${iface}, and that is no error.
    if let interface, declared.contains("iface") || !interfaceIfUsed {
      guard declared.contains("iface") else {
        throw .usage("-i \(interface): profile \(name) does not use ${iface}")
      }
      all["iface"] = interface
    }
    for (key, value) in all.sorted(by: { $0.key < $1.key }) {
      guard declared.contains(key) else {
        throw .usage(
          "--set \(key)=\(value): profile \(name) has no variable \(key)"
            + Suggestion.hint(for: key, in: declared.sorted()))
      }
      raw[key] = (value, nil)
    }
    let expander = try Expander(raw)

    var sections: [String: [ProfileSetting]] = [:]
    for (section, settings) in layer.sections {
      let knob = knobs.first { $0.sections.contains(section) }!
      var list: [ProfileSetting] = []
      for key in settings.keys.sorted() {
        var setting = settings[key]!
        setting.value = try expander.expand(setting.value, at: setting.origin)
        try knob.check(setting)
        list.append(setting)
      }
      sections[section] = list
    }
    var interfaces: [InterfaceSpec] = []
    for block in layer.interfaces {
      let ifname = try expander.expand(block.name, at: block.origin)
      try Self.checkInterfaceName(ifname, at: block.origin)
      var list: [ProfileSetting] = []
      for key in block.settings.keys.sorted() {
        var setting = block.settings[key]!
        setting.value = try expander.expand(setting.value, at: setting.origin)
        let knob = knobs.first { $0.interfaceKeys.contains(key) }!
        try knob.check(setting)
        list.append(setting)
      }
      interfaces.append(InterfaceSpec(name: ifname, origin: block.origin, settings: list))
    }
    var probe: [ProfileSetting] = []
    for key in ApplicationSide.keys {
      guard var setting = layer.probe[key] else { continue }
      setting.value = try expander.expand(setting.value, at: setting.origin)
      probe.append(setting)
    }
    var profile = Profile(
      name: name, path: path, description: layer.description, files: files, sections: sections,
      interfaces: interfaces, variables: expander.values)
    profile.probe = probe.isEmpty ? nil : try ApplicationSide(probe)
    profile.variableNames = declared
    profile.variableUses = VariableUses(layer: layer, defaults: defaults, declared: declared, values: expander.values)
    return profile
  }

  /// Interface names are at most 15 bytes (IFNAMSIZ), without "/", white space or NUL.
  static func checkInterfaceName(_ name: String, at origin: Origin) throws(BPSTuneError) {
    if name.isEmpty { throw origin.error("interface name is empty") }
    if name.utf8.count > 15 { throw origin.error("interface name \"\(name)\" is longer than 15 bytes") }
    if name == "." || name == ".." || name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace || $0 == "\0" })
    {
      throw origin.error("\"\(name)\" is not a valid interface name")
    }
  }
}

/// What `profiles show` says of a profile's variables (``Profile/variableInfo``), worked out
/// only when asked: every command loads profiles, and only `profiles show` needs where each
/// variable is used. The file's layer as read (before expansion), the defaults, and the values.
struct VariableUses: Sendable {
  var layer: ProfileLoader.Layer
  var defaults: [String: (text: String, origin: Origin?)]
  var declared: Set<String>
  var values: [String: String]

  var info: [VariableInfo] {
    var uses: [String: [String]] = [:]
    func note(_ value: ProfileValue, _ place: String) {
      switch value {
      case .string(let s): for r in Expander.references(in: s) { uses[r, default: []].append(place) }
      case .array(let items): items.forEach { note($0, place) }
      case .table(let t): t.values.forEach { note($0, place) }
      default: break
      }
    }
    for (key, entry) in defaults {
      for r in Expander.references(in: entry.text) { uses[r, default: []].append("variables.\(key)") }
    }
    for settings in layer.sections.values { for setting in settings.values { note(setting.value, setting.origin.key) } }
    for setting in layer.probe.values { note(setting.value, setting.origin.key) }
    for block in layer.interfaces {
      for r in Expander.references(in: block.name) { uses[r, default: []].append(block.origin.key) }
      for setting in block.settings.values { note(setting.value, setting.origin.key) }
    }
    return declared.sorted().map { name in
      VariableInfo(
        name: name, defaultValue: defaults[name]?.text, definedIn: defaults[name]?.origin?.file,
        value: values[name], usedBy: (uses[name] ?? []).sorted())
    }
  }
}

/// `${name}` expansion. Variable values may use other variables; cycles are errors.
struct Expander {
  private(set) var values: [String: String] = [:]

  init(_ raw: [String: (text: String, origin: Origin?)]) throws(BPSTuneError) {
    func resolve(_ name: String, _ stack: [String]) throws(BPSTuneError) -> String {
      if let done = values[name] { return done }
      let entry = raw[name]!
      let at = entry.origin ?? Origin(file: "--set", key: name)
      if stack.contains(name) {
        throw at.error("variable cycle: \((stack + [name]).joined(separator: " -> "))")
      }
      var out = ""
      for piece in try Expander.split(entry.text, at: at) {
        switch piece {
        case .literal(let s): out += s
        case .reference(let ref):
          guard raw[ref] != nil else { throw at.error("undefined variable ${\(ref)}") }
          out += try resolve(ref, stack + [name])
        }
      }
      values[name] = out
      return out
    }
    for name in raw.keys.sorted() { _ = try resolve(name, []) }
  }

  enum Piece { case literal(String), reference(String) }

  static func split(_ text: String, at origin: Origin) throws(BPSTuneError) -> [Piece] {
    var pieces: [Piece] = []
    var rest = Substring(text)
    while let start = rest.firstRange(of: "${") {
      pieces.append(.literal(String(rest[..<start.lowerBound])))
      guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
        throw origin.error("unterminated ${ in \"\(text)\"")
      }
      let name = String(rest[start.upperBound..<end])
      guard ProfileLoader.isVariableName(name) else { throw origin.error("\"${\(name)}\" is not a variable name") }
      pieces.append(.reference(name))
      rest = rest[rest.index(after: end)...]
    }
    pieces.append(.literal(String(rest)))
    return pieces
  }

  static func references(in text: String) -> [String] {
    let pieces = (try? split(text, at: Origin(file: "", key: ""))) ?? []
    return pieces.compactMap { if case .reference(let r) = $0 { r } else { nil } }
  }

  func expand(_ text: String, at origin: Origin) throws(BPSTuneError) -> String {
    var out = ""
    for piece in try Self.split(text, at: origin) {
      switch piece {
      case .literal(let s): out += s
      case .reference(let name):
        guard let v = values[name] else {
          throw origin.error(
            "undefined variable ${\(name)}" + Suggestion.hint(for: name, in: values.keys.sorted())
              + " (define it in [variables] or pass --set \(name)=VALUE)")
        }
        out += v
      }
    }
    return out
  }

  func expand(_ value: ProfileValue, at origin: Origin) throws(BPSTuneError) -> ProfileValue {
    switch value {
    case .string(let s): return .string(try expand(s, at: origin))
    case .array(let items):
      var out: [ProfileValue] = []
      for item in items { out.append(try expand(item, at: origin)) }
      return .array(out)
    case .table(let t):
      var out: [String: ProfileValue] = [:]
      for (k, v) in t { out[k] = try expand(v, at: origin) }
      return .table(out)
    default: return value
    }
  }
}
