import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTuneProbe

/// A profile's [probe] section (the application side it assumes): parsed as strictly as the
/// other sections, merged over includes key by key, never planned, and the application side
/// `probe compare` resolves from it and the command line.
@Suite struct ProbeSectionTests {
  let dir = TemporaryDirectory("bpstune-probe-section")

  func loader() -> ProfileLoader { ProfileLoader(source: ProfileSource(searchPath: [dir.path])) }

  func load(_ text: String, overrides: [String: String] = [:]) throws(BPSTuneError) -> Profile {
    dir.write("p.profile", text)
    return try loader().load("p", overrides: overrides)
  }

  static let irqSuspend = """
    [probe]
    receive = "epoll"
    busy-poll = 0
    busy-poll-budget = 64
    prefer-busy-poll = true
    """

  @Test func everyKeyIsRead() throws {
    let p = try load(Self.irqSuspend)
    #expect(p.probe == ApplicationSide(receive: .epoll, busyPoll: 0, busyPollBudget: 64, preferBusyPoll: true))
    #expect(p.probe?.setKeys == ApplicationSide.keys)
    #expect(p.sections.isEmpty && p.interfaces.isEmpty)
  }

  @Test func unitsVariablesAndStringBooleansAsElsewhere() throws {
    let p = try load(
      """
      [variables]
      mode = "spin"
      [probe]
      receive = "${mode}"
      busy-poll = "50us"
      prefer-busy-poll = "on"
      """, overrides: ["mode": "blocking"])
    #expect(p.probe == ApplicationSide(receive: .blocking, busyPoll: 50, preferBusyPoll: true))
    #expect(p.variableInfo.first { $0.name == "mode" }?.usedBy == ["probe.receive"])
  }

  @Test func aProfileWithoutTheSectionOrWithAnEmptyOneAssumesNothing() throws {
    #expect(try load("[sysctl]\nnet.core.busy_read = 1\n").probe == nil)
    #expect(try load("[probe]\n").probe == nil)
  }

  @Test func includesMergeKeyByKeyAndTheIncluderWins() throws {
    dir.write("base.profile", Self.irqSuspend + "\n")
    let p = try load(
      """
      [profile]
      include = ["base"]
      [probe]
      busy-poll = 50
      prefer-busy-poll = false
      """)
    #expect(p.probe == ApplicationSide(receive: .epoll, busyPoll: 50, busyPollBudget: 64, preferBusyPoll: false))
  }

  /// What epoll needs together is checked once the includes are merged: the includer may state
  /// the busy-poll its include lacks.
  @Test func theEpollCombinationIsCheckedAfterTheMerge() throws {
    dir.write("base.profile", "[probe]\nreceive = \"epoll\"\nprefer-busy-poll = true\n")
    #expect(thrownText { try self.loader().load("base") }?.contains("probe.prefer-busy-poll") == true)
    let p = try load("[profile]\ninclude = [\"base\"]\n[probe]\nbusy-poll = 0\n")
    #expect(p.probe == ApplicationSide(receive: .epoll, busyPoll: 0, preferBusyPoll: true))
  }

  /// Malformed sections: each refused with exit 2 and one line naming the file, the key and
  /// what is allowed.
  @Test(arguments: [
    ("[probe]\nprefer-busypoll = true\n", "probe.prefer-busypoll", "did you mean prefer-busy-poll?"),
    ("[probe]\nbudget = 64\n", "probe.budget", "unknown [probe] key"),
    (
      "[probe]\nreceive = \"epol\"\n", "probe.receive",
      "\"epol\" is not one of blocking, spin, epoll (did you mean epoll?)"
    ),
    ("[probe]\nreceive = 1\n", "probe.receive", "expected one of blocking, spin, epoll, got an integer"),
    (
      "[probe]\nbusy-poll = -1\n", "probe.busy-poll", "-1 is out of range: expected a whole number from 0 to 2147483647"
    ),
    ("[probe]\nbusy-poll = 2147483648\n", "probe.busy-poll", "out of range"),
    ("[probe]\nbusy-poll = \"fast\"\n", "probe.busy-poll", "expected a whole number from 0 to 2147483647"),
    ("[probe]\nbusy-poll = \"1.5us\"\n", "probe.busy-poll", "not a whole number of µs"),
    ("[probe]\nbusy-poll = 1.5\n", "probe.busy-poll", "got a float"),
    ("[probe]\nbusy-poll.x = 1\n", "probe.busy-poll", "got a table"),
    (
      "[probe]\nbusy-poll-budget = 0\n", "probe.busy-poll-budget",
      "0 is out of range: expected a whole number from 1 to 65535"
    ),
    ("[probe]\nbusy-poll-budget = 65536\n", "probe.busy-poll-budget", "out of range"),
    ("[probe]\nprefer-busy-poll = \"maybe\"\n", "probe.prefer-busy-poll", "expected true/false"),
    ("[probe]\nprefer-busy-poll = 2\n", "probe.prefer-busy-poll", "expected true/false"),
    ("probe = 1\n", "probe", "must be a table"),
    ("[[probe]]\nreceive = \"spin\"\n", "probe", "must be a table"),
    ("[probes]\nreceive = \"spin\"\n", "probes", "unknown section (did you mean probe?)"),
    ("[probe]\nreceive = \"epoll\"\nprefer-busy-poll = true\n", "probe.prefer-busy-poll", "needs busy-poll"),
    ("[probe]\nreceive = \"epoll\"\nbusy-poll-budget = 64\n", "probe.busy-poll-budget", "needs busy-poll"),
    ("[probe]\nreceive = \"${nope}\"\n", "probe.receive", "undefined variable ${nope}"),
  ])
  func malformedSectionsNameTheKey(text: String, key: String, message: String) {
    #expect {
      try load(text)
    } throws: { error in
      let line = (error as! BPSTuneError).description
      return (error as! BPSTuneError).exitCode == 2 && line.contains("p.profile") && line.contains("\(key):")
        && line.contains(message) && !line.contains("\n")
    }
  }

  /// Never applied: a plan of the profile is the plan of the same profile without [probe].
  @Test func thePlanIgnoresTheSection() throws {
    let s = Scenario()
    let host = KernelHost(root: s.kernel.root)
    let without = try Planner().plan(try s.profile(), on: host)
    let with = try Planner().plan(try s.profile(Scenario.profileText + "\n" + Self.irqSuspend), on: host)
    #expect(with.entries.map(\.id) == without.entries.map(\.id))
    #expect(with.entries.map(\.target.desired) == without.entries.map(\.target.desired))
    #expect(with.warnings == without.warnings)
  }

  /// `enable`'s pinned copy keeps the section: it loads to the same application side, and a
  /// copy that lost or changed it is not the same profile.
  @Test func thePinnedCopyKeepsTheSection() throws {
    dir.write("base.profile", "[probe]\nreceive = \"epoll\"\nbusy-poll-budget = 64\n")
    dir.write("p.profile", "[profile]\ninclude = [\"base\"]\n[probe]\nbusy-poll = \"${bp}\"\n[variables]\nbp = \"0\"\n")
    let profile = try loader().load("p")
    let resolved = try loader().resolved(dir.path + "/p.profile", header: ["pinned"])
    dir.write("pinned.profile", resolved.text)
    let again = try loader().load("pinned")
    #expect(again.probe == ApplicationSide(receive: .epoll, busyPoll: 0, busyPollBudget: 64))
    #expect(again.sameSettings(as: profile))
    var changed = profile
    changed.probe?.busyPoll = 50
    #expect(!again.sameSettings(as: changed))
  }

  @Test func whatAnApplicationMustDoByReceiveMode() {
    let epoll = ApplicationSide(receive: .epoll, busyPoll: 0, busyPollBudget: 64, preferBusyPoll: true)
    #expect(
      epoll.instructions
        == "the application must busy-poll through epoll: epoll_wait(2) on an epoll instance set with the EPIOCSPARAMS"
        + " ioctl (Linux 6.9+) to busy_poll_usecs 0, busy_poll_budget 64, prefer_busy_poll 1; with busy_poll_usecs 0"
        + " each epoll_wait makes one busy-poll pass (Linux 6.13+)")
    #expect(
      ApplicationSide(receive: .blocking, busyPoll: 50).instructions
        == "the application must receive with blocking recv(2), with setsockopt(2) on each socket: SO_BUSY_POLL 50 (µs)"
    )
    #expect(
      ApplicationSide(receive: .spin, preferBusyPoll: false).instructions
        == "the application must receive with non-blocking recv(2) in a loop that never sleeps, with setsockopt(2)"
        + " on each socket: SO_PREFER_BUSY_POLL 0")
    #expect(ApplicationSide(receive: .epoll).instructions == "the application must wait for packets in epoll_wait(2)")
    #expect(
      ApplicationSide(busyPollBudget: 16).instructions.hasPrefix("the application must set SO_BUSY_POLL_BUDGET 16"))
  }

  // MARK: The application side of a profile's runs

  /// The command line's settings as `probe compare` builds them: defaults filled in.
  func commandLine(_ explicit: ApplicationSide, cpus: String? = "1") throws -> ProbeSocketSettings {
    var s = ProbeSocketSettings()
    s.receiveMode = explicit.receive ?? .blocking
    s.busyPoll = explicit.busyPoll
    s.busyPollBudget = explicit.busyPollBudget
    s.preferBusyPoll = explicit.preferBusyPoll ?? false
    s.cpus = try cpus.map { try CPUSet(list: $0) }
    return s
  }

  @Test func theProfileSetsWhatTheCommandLineLeftUnsaid() throws {
    let profile = ApplicationSide(receive: .epoll, busyPoll: 0, busyPollBudget: 64, preferBusyPoll: true)
    let app = try commandLine(ApplicationSide()).application(explicit: ApplicationSide(), profile: profile)
    #expect(app.socket.receiveMode == .epoll && app.socket.busyPoll == 0 && app.socket.busyPollBudget == 64)
    let cpu1 = try CPUSet(list: "1")
    #expect(app.socket.preferBusyPoll && app.socket.cpus == cpu1)
    #expect(app.fromProfile == ApplicationSide.keys && app.overridden.isEmpty)
    #expect(app.summary == "epoll, busy-poll 0 µs, prefer, budget 64 ([probe])")
    #expect(throws: Never.self) { try app.validate(for: "irq-suspend") }
  }

  @Test func theCommandLineWinsWhereItSaysSomething() throws {
    let profile = ApplicationSide(receive: .epoll, busyPoll: 0, busyPollBudget: 64, preferBusyPoll: true)
    let explicit = ApplicationSide(busyPoll: 50, preferBusyPoll: false)
    let app = try commandLine(explicit).application(explicit: explicit, profile: profile)
    #expect(app.socket.receiveMode == .epoll && app.socket.busyPoll == 50 && app.socket.busyPollBudget == 64)
    #expect(!app.socket.preferBusyPoll)
    #expect(app.fromProfile == ["receive", "busy-poll-budget"] && app.overridden == ["busy-poll", "prefer-busy-poll"])
    #expect(
      app.summary == "epoll, busy-poll 50 µs, budget 64 ([probe], the command line's --busy-poll --prefer-busy-poll)")
  }

  @Test func withoutASectionTheCommandLineAlone() throws {
    let explicit = ApplicationSide(receive: .spin)
    let app = try commandLine(explicit).application(explicit: explicit, profile: nil)
    let given = try commandLine(explicit)
    #expect(app.socket == given)
    #expect(app.fromProfile.isEmpty && app.overridden.isEmpty)
    #expect(app.summary == "spin, no busy-poll option")
  }

  /// A combination neither side makes alone (the profile's prefer with the command line's
  /// epoll, and no busy-poll) is refused naming the profile and the keys it took.
  @Test func aBadCombinationNamesTheProfile() throws {
    let explicit = ApplicationSide(receive: .epoll)
    let app = try commandLine(explicit).application(explicit: explicit, profile: ApplicationSide(preferBusyPoll: true))
    let message = thrownText { try app.validate(for: "mine") }
    #expect(
      message?.hasPrefix("mine: its [probe] (prefer-busy-poll) with this command line: --prefer-busy-poll") == true)
    // Each number alone passes; the command line's own combination is its own error, as before.
    let own = try commandLine(ApplicationSide(receive: .epoll, busyPollBudget: 8))
    #expect(thrownText { try own.validate(combination: false) } == nil)
    let alone = own.application(explicit: ApplicationSide(receive: .epoll, busyPollBudget: 8), profile: nil)
    #expect(
      thrownText { try alone.validate(for: "mine") }?.hasPrefix("--prefer-busy-poll and --busy-poll-budget") == true)
  }
}
