import ArgumentParser
import BPSTuneCore
import BPSTuneKernel
import BPSTunePersistence

struct ShowCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show the host's current busy-poll-relevant settings.")

  @Option(
    name: [.customShort("i"), .customLong("interface")], help: "Only this interface (default: every interface but lo).",
    completion: .custom { _, _, _ in Completion.interfaces() })
  var interface: String?

  @OptionGroup var global: GlobalOptions

  @Option(help: "Output format.")
  var format: OutputFormat = .text
  var jsonCommandName: String? { format == .json ? "show" : nil }

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
