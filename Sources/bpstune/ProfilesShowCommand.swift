import ArgumentParser
import BPSTuneCore
import BPSTuneKernel

/// `bpstune profiles show NAME`: what a profile is made of and whether this host can take it.
struct ProfilesShow: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract:
      "A profile's files (includes resolved), what it assumes of the application, every variable with its default and where it is used, and whether this host can take it.",
    discussion: """
      A profile with a [probe] section says what an application must do to get its effect (how it \
      waits for packets, how it busy-polls); bpstune never applies that to the host. \
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
    var probe: Probe?
    var variables: [VariableInfo]
    var problems: [String]
    var warnings: [String]
  }

  /// The profile's [probe]: the fields it states, and what an application must do.
  struct Probe: Encodable {
    var receive_mode: String?
    var busy_poll_us: Int?
    var busy_poll_budget: Int?
    var prefer_busy_poll: Bool?
    var instructions: String

    init(_ side: ApplicationSide) {
      receive_mode = side.receive?.rawValue
      busy_poll_us = side.busyPoll
      busy_poll_budget = side.busyPollBudget
      prefer_busy_poll = side.preferBusyPoll
      instructions = side.instructions
    }
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
            sha256: profile.contentHash, probe: profile.probe.map(Probe.init), variables: variables,
            problems: problems, warnings: warnings)))
    } else {
      var lines = ["\(profile.name): \(profile.path)"]
      if let d = profile.description { lines.append("  \(d)") }
      if profile.files.count > 1 { lines.append("  includes: " + profile.files.dropFirst().joined(separator: ", ")) }
      lines.append("  sha256 \(profile.contentHash)")
      if let probe = profile.probe {
        lines.append("application side ([probe]; never applied to the host, probe compare measures with it):")
        lines.append("  " + probe.instructions)
      }
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
