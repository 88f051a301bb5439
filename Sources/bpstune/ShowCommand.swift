import ArgumentParser
import BPSTune

struct ShowCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show the host's current busy-poll-relevant settings.")

  @Option(name: .customShort("i"), help: "Only this interface (default: every interface but lo).")
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
        throw BPSTuneError.usage("-i \(interface): no such interface on this host")
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
    commandName: "lint", abstract: "Check profiles without reading or touching the host.")

  @Argument(help: "Profile names or paths.")
  var profiles: [String]

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
        if !global.quiet { print("ok \(name): \(count) settings from \(profile.files.count) file(s)") }
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
