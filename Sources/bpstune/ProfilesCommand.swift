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
