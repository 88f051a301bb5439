import ArgumentParser
import BPSTune

struct ShowCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show the host's current busy-poll-relevant settings.")

  @Option(
    name: [.customShort("i"), .customLong("interface")], help: "Only this interface (default: every interface but lo).",
    completion: .custom { _, _, _ in Completion.interfaces() })
  var interface: String?

  @OptionGroup var global: GlobalOptions

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  func validate() throws {
    try Validate.interface(interface)
  }

  func run() throws {
    let host = global.host()
    let names: [String]
    if let interface {
      guard host.interfaces.contains(interface) else {
        throw BPSTuneError.usage(
          "-i \(interface): no such interface on this host" + Suggestion.hint(for: interface, in: host.interfaces))
      }
      names = [interface]
    } else {
      names = host.interfaces.filter { $0 != "lo" }
    }
    let settings =
      HostChecks.show(on: host, interfaces: names)
      + KnobRegistry.standard.flatMap { $0.show(on: host, interfaces: names) }
    print(StateReport.show(settings, json: format == .json, style: global.style))
  }
}

struct ProfilesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profiles", abstract: "List built-in and installed profiles with their descriptions.")

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let loader = ProfileLoader()
    let found = loader.source.available()
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
      if global.verbose { print(String("".padding(width)) + path) }
    }
  }
}

struct LintCommand: ParsableCommand {
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

  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if profiles.isEmpty { throw ValidationError("name at least one profile") }
    for profile in profiles { try Validate.text(profile, "profile") }
  }

  func run() throws {
    var failed = 0
    for name in profiles {
      do {
        let profile = try ProfileLoader().load(name)
        let count =
          profile.sections.values.map(\.count).reduce(0, +) + profile.interfaces.map(\.settings.count).reduce(0, +)
        if host {
          let plan = try Planner().plan(profile, on: global.host())
          let absent = plan.unsupported.filter { ["sysctl", "sysfs"].contains($0.id.kind) }
          for entry in absent { Output.error("\(name): \(entry.id): \(entry.reason ?? "not on this host")") }
          if !absent.isEmpty {
            failed += 1
            continue
          }
        }
        if !global.quiet {
          print(
            "ok \(name): \(count) settings from \(profile.files.count) file(s)\(host ? ", every name on this host" : "")"
          )
        }
      } catch {
        Output.error(error.description)
        failed += 1
      }
    }
    if failed > 0 { throw ExitCode(2) }
  }
}

extension String {
  func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
