import ArgumentParser
import BPSTuneCore

struct CmdlineCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "cmdline",
    abstract: "Print the boot parameters a profile's [cmdline] needs and a GRUB drop-in; never writes the bootloader.",
    discussion: """
      Compares the profile's [cmdline] with /proc/cmdline. Exit 0 when the running kernel has them \
      all, 1 when a reboot with the printed parameters is needed. --format grub prints only the \
      drop-in for /etc/default/grub.d/bpstune.cfg.
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json, grub
  }

  @OptionGroup var profileOptions: ProfileOptions
  @OptionGroup var global: GlobalOptions

  @Flag(help: "List every parameter of the profile, also those the running kernel has (for images).")
  var all = false

  @Option(help: "Output format: text, json, or grub (the drop-in only).")
  var format: Format = .text

  var jsonCommandName: String? { format == .json ? "cmdline" : nil }

  func run() throws {
    let profile = try profileOptions.load()
    let report = try CmdlineReport(profile: profile, host: global.host(), all: all)
    switch format {
    case .text: print(report.text())
    case .json: print(report.json())
    case .grub: print(report.grub)
    }
    if report.needsReboot { throw ExitCode(1) }
  }
}
