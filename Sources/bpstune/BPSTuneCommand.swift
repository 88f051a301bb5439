import ArgumentParser
import BPSTuneCore
import BPSTuneKernel

/// `bpstune`: put a Linux host into a documented low-latency busy-poll configuration, and
/// prove, diff and undo it. Exit codes: 0 success or match, 1 differs, 2 bad input (nothing
/// changed), 3 failed and undone, 4 failed and undo incomplete.
@main
struct BPSTuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bpstune",
    abstract: "Tune a Linux host for busy-poll networking; diff, verify and roll back the tuning.",
    discussion: """
      Exit codes:
        0  success (diff and verify: the host matches)
        1  diff and verify: the host differs
        2  bad input, or a plan this host cannot take; nothing was changed
        3  apply or rollback failed, and every change it made was undone
        4  apply or rollback failed, and undoing was incomplete
      """,
    version: versionLine,
    subcommands: [
      ApplyCommand.self, DiffCommand.self, VerifyCommand.self, RollbackCommand.self, SnapshotsCommand.self,
      ShowCommand.self, ProfilesCommand.self, LintCommand.self, EnableCommand.self, DisableCommand.self,
      StatusCommand.self, PersistCommand.self, ProbeCommand.self, CmdlineCommand.self, InitCommand.self,
    ]
  )

  /// What `bpstune --version` prints.
  static let versionLine = "bpstune \(bpstuneVersion)"

  /// Parses, runs, and maps every outcome to the documented exit code with a one-line message.
  static func main() {
    // `bpstune --version` alone is answered before the argument parser is built: building it
    // reflects on the command's properties (Mirror), which makes the Swift runtime look up
    // generic types by mangled name and search all 4,700 protocol conformances in the binary,
    // 5 of --version's 6.7 million instructions. The parser prints the same line, and still
    // answers --version anywhere else on a command line.
    if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "--version" {
      print(versionLine)
      Syscalls.exit(0)
    }
    // Bare `bpstune` is a command line without a command: usage on standard error, exit 2.
    if CommandLine.arguments.count == 1 {
      Syscalls.writeStandardError(helpMessage() + "\n")
      Output.error("name a command (see bpstune --help)")
      Syscalls.exit(2)
    }
    var parsed: ParsableCommand?
    do {
      var command = try parseAsRoot()
      parsed = command
      if let why = Syscalls.unsupportedSystem(Syscalls.systemName()) { throw BPSTuneError.usage(why) }
      try command.run()
    } catch let error as BPSTuneError {
      // JSON readers get the error as a document on standard output too.
      if let name = (parsed as? ReportsErrorsAsJSON)?.jsonCommandName {
        print(StateReport.error(error, command: name))
      }
      // -v: every list in full; otherwise the first few names of a long one.
      Output.error(parsed.map(verbose) == true ? error.fullDescription : error.description)
      Syscalls.exit(error.exitCode)
    } catch let code as ExitCode {
      Syscalls.exit(code.rawValue)
    } catch {
      if exitCode(for: error) == .success {
        print(fullMessage(for: error))
        Syscalls.exit(0)
      }
      let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line"
      Output.error("\(message) (see bpstune --help)")
      Syscalls.exit(2)
    }
  }
}

/// Whether the parsed command was given -v (--verbose), as the argument parser read it: alone,
/// combined with other flags (`-qv`), and not when "-v" is the value of an option or a
/// positional. Any command with the global options (an `@OptionGroup` of ``GlobalOptions``)
/// has it, found by reflection so that no command can be left out.
func verbose(_ command: ParsableCommand) -> Bool {
  Mirror(reflecting: command).children.contains {
    ($0.value as? OptionGroup<GlobalOptions>)?.wrappedValue.verbose == true
  }
}

/// A command that, run with `--format json`, prints a failure as an error document on standard
/// output (as well as the one line on standard error); nil when its output is not JSON.
protocol ReportsErrorsAsJSON {
  var jsonCommandName: String? { get }
}

/// Every report and line bpstune prints to standard output goes through here (it shadows the
/// standard library's print in this module): whatever a name or value holds is escaped
/// (``Printable/terminalSafe(_:colour:)``), and only TextStyle's own colour codes reach a
/// terminal.
func print(_ text: String) {
  Syscalls.writeStandardOutput(Printable.terminalSafe(text, colour: Output.colour) + "\n")
}

/// Standard output and standard error.
enum Output {
  /// Whether colour codes may reach standard output: a terminal, and NO_COLOR unset.
  static let colour = Syscalls.environment("NO_COLOR") == nil && Syscalls.standardOutputIsTerminal

  /// One line on standard error; whatever it quotes (a name, a path, a value) is escaped
  /// (``Printable``), so it stays one line and cannot drive the terminal.
  static func error(_ line: String) {
    Syscalls.writeStandardError("bpstune: \(Printable.escaped(line))\n")
  }

  /// Every change was made but the snapshot could not be marked complete.
  static func warnIfUnrecorded(_ snapshot: Snapshot) {
    if let warning = snapshot.unrecordedWarning { error(warning) }
  }

  static func note(_ line: String) {
    Syscalls.writeStandardError("\(Printable.escaped(line))\n")
  }
}
