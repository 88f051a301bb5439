import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTunePersistence

struct ProfilesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profiles", abstract: "List built-in and installed profiles, or show one.",
    subcommands: [ProfilesList.self, ProfilesShow.self], defaultSubcommand: ProfilesList.self)
}

struct ProfilesList: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List built-in and installed profiles with their descriptions.")

  @OptionGroup var global: ReadOptions
  @Flag(name: .shortAndLong, help: "Also print each profile's path.") var verbose = false
  @Option(help: "Output format.") var format: OutputFormat = .text
  var jsonCommandName: String? { format == .json ? "profiles" : nil }

  struct Listed: Encodable {
    var name: String
    var path: String
    var description: String?
    var error: String?
  }

  struct Document: Encodable {
    var schema = 1
    var command = "profiles"
    var profiles: [Listed]
  }

  func run() throws {
    let loader = ProfileLoader()
    let found = loader.source.available()
    if format == .json {
      let listed = found.map { (name, path) -> Listed in
        do {
          return Listed(name: name, path: path, description: try loader.load(path).description)
        } catch {
          return Listed(name: name, path: path, error: (error as? BPSTuneError)?.description ?? "\(error)")
        }
      }
      print(ReportJSON.encode(Document(profiles: listed)))
      return
    }
    if found.isEmpty {
      print("no profiles found in \(loader.source.searchPath.joined(separator: ", "))")
      return
    }
    let width = (found.map(\.name.count).max() ?? 0) + 2
    for (name, path) in found {
      let description: String
      do {
        description = try loader.load(path).description ?? "(no description)"
      } catch {
        description = "(invalid: \(error.description))"
      }
      print(String(name.padding(width)) + description)
      if verbose { print(String("".padding(width)) + path) }
    }
  }
}

struct LintCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "lint", abstract: "Check profiles without reading or touching the host.",
    discussion: """
      With --host, also plans each profile (with its variables' defaults) against this host, read-only, \
      and fails naming every [sysctl] and [sysfs] name the running kernel lacks, with the nearest \
      one it has, and anything else that keeps the host from taking the profile.
      """)

  @Argument(help: "Profile names or paths.")
  var profiles: [String]

  @Flag(help: "Also check every sysctl and /sys name against the running kernel (read-only).")
  var host = false

  @OptionGroup var global: ReadOptions
  @Option(help: "Output format.") var format: OutputFormat = .text
  var jsonCommandName: String? { format == .json ? "lint" : nil }

  struct Result: Encodable {
    var profile: String
    var ok: Bool
    var settings: Int?
    var files: [String]?
    var problems: [String]
  }

  struct Document: Encodable {
    var schema = 1
    var command = "lint"
    var results: [Result]
  }

  func validate() throws {
    if profiles.isEmpty { throw ValidationError("name at least one profile") }
    for profile in profiles { try Validate.text(profile, "profile") }
  }

  func run() throws {
    var results: [Result] = []
    for name in profiles {
      do {
        let profile = try ProfileLoader().load(name)
        let count =
          profile.sections.values.map(\.count).reduce(0, +) + profile.interfaces.map(\.settings.count).reduce(0, +)
        var problems: [String] = []
        if host {
          let plan = try Planner().plan(profile, on: global.host())
          problems = plan.unsupported.filter { [.sysctl, .sysfs].contains($0.id.kind) }.map {
            "\(name): \($0.id): \($0.reason ?? "not on this host")"
          }
        }
        results.append(
          Result(profile: name, ok: problems.isEmpty, settings: count, files: profile.files, problems: problems))
        if format == .text {
          for problem in problems { Output.error(problem) }
          if problems.isEmpty && !global.quiet {
            print(
              "ok \(name): \(count) settings from \(profile.files.count) file(s)\(host ? ", every name on this host" : "")"
            )
          }
        }
      } catch {
        let line = error.description
        if format == .text { Output.error(line) }
        results.append(Result(profile: name, ok: false, problems: [line]))
      }
    }
    if format == .json { print(ReportJSON.encode(Document(results: results))) }
    if results.contains(where: { !$0.ok }) { throw ExitCode(2) }
  }
}

extension String {
  func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

/// `bpstune profiles show NAME`: what a profile is made of and whether this host can take it.
struct ProfilesShow: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract:
      "A profile's files (includes resolved), every variable with its default and where it is used, and whether this host can take it.",
    discussion: """
      The whole profile is planned once against this host (read-only); a setting that cannot be \
      planned is named and left out, so that every problem shows at once rather than one per \
      run. Exit 0 when the host can take the profile with these values, 1 when it cannot (each \
      problem named), 2 when the profile itself is invalid.
      """)

  @OptionGroup var profileOptions: ProfileOptions
  @OptionGroup var global: ReadOptions
  @Option(help: "Output format.") var format: OutputFormat = .text
  var jsonCommandName: String? { format == .json ? "profiles show" : nil }

  struct Document: Encodable {
    var schema = 1
    var command = "profiles show"
    var name: String
    var path: String
    var description: String?
    var files: [String]
    var sha256: String
    var variables: [VariableInfo]
    var problems: [String]
    var warnings: [String]
  }

  func run() throws {
    let profile = try profileOptions.load()
    // One plan of every setting; what cannot be planned is named and left out, so one refusal
    // does not hide the next, and the host's checks run once.
    let (plan, refusals) = Planner().survey(profile, on: global.host())
    var problems: [String] = []
    func add(_ line: String, to list: inout [String]) { if !list.contains(line) { list.append(line) } }
    for refusal in refusals { add(refusal.description, to: &problems) }
    for entry in plan.unsupported { add("\(entry.id): \(entry.reason ?? "unsupported")", to: &problems) }
    var warnings: [String] = []
    for warning in plan.warnings { add(warning, to: &warnings) }
    let variables = profile.variableInfo
    if format == .json {
      print(
        ReportJSON.encode(
          Document(
            name: profile.name, path: profile.path, description: profile.description, files: profile.files,
            sha256: profile.contentHash, variables: variables, problems: problems, warnings: warnings)))
    } else {
      var lines = ["\(profile.name): \(profile.path)"]
      if let d = profile.description { lines.append("  \(d)") }
      if profile.files.count > 1 { lines.append("  includes: " + profile.files.dropFirst().joined(separator: ", ")) }
      lines.append("  sha256 \(profile.contentHash)")
      if variables.isEmpty {
        lines.append("variables: none")
      } else {
        lines.append("variables:")
        for v in variables {
          let now = v.value.map { "\"\($0)\"" } ?? "(undefined)"
          let origin =
            v.defaultValue == nil
            ? "not defined in the profile"
            : v.value == v.defaultValue ? "default" : "default \"\(v.defaultValue!)\""
          lines.append(
            "  \(v.name) = \(now) (\(origin)); used by "
              + (v.usedBy.isEmpty ? "nothing" : v.usedBy.joined(separator: ", ")))
        }
      }
      if problems.isEmpty {
        lines.append("this host can take it: every setting plans with these values")
      } else {
        lines.append("this host cannot take it with these values: \(problems.count) problem(s)")
        lines += problems.map { "  " + $0 }
      }
      lines += warnings.map { "warning: " + $0 }
      print(lines.joined(separator: "\n"))
    }
    if !problems.isEmpty { throw ExitCode(1) }
  }
}
