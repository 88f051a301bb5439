import ArgumentParser
import BPSTuneCore
import BPSTuneKernel

struct RollbackCommand: ParsableCommand, ReportsErrorsAsJSON {
  static let configuration = CommandConfiguration(
    commandName: "rollback",
    abstract: "Undo the most recent apply not undone yet, or restore a named snapshot.",
    discussion: """
      Each setting is resolved anew. A value changed by someone else since the snapshot is not
      overwritten without --force. The rollback takes its own snapshot first, so
      `bpstune rollback ID` of that snapshot re-applies what was undone.
      """)

  @Argument(
    help:
      "Snapshot id, `latest` or a unique prefix (see `bpstune snapshots`); default: the most recent apply not undone yet.",
    completion: .custom { _, _, _ in Completion.snapshots() })
  var snapshot: String?

  @OptionGroup var global: GlobalOptions
  @OptionGroup var reasonOption: ReasonOption

  @Flag(help: "Print what would be restored and change nothing; exits as the rollback would.")
  var dryRun = false

  @Flag(
    help:
      "Overwrite values changed since the snapshot, skip settings that cannot be read, and pass over damaged snapshots newer than the one restored."
  )
  var force = false

  @Option(help: "Seconds to wait for another bpstune run to finish.")
  var lockTimeout = 30

  @Option(help: "Output format.")
  var format: OutputFormat = .text

  var jsonCommandName: String? { format == .json ? "rollback" : nil }

  func validate() throws {
    try Validate.text(snapshot, "snapshot id")
    try Validate.lockTimeout(lockTimeout)
  }

  func run() throws {
    // Root first: the snapshots are root's; then what restoring their kinds needs.
    if !dryRun { try global.require([.root], for: "rollback") }
    let host = global.host()
    var executor = global.executor(host)
    executor.reason = reasonOption.reason
    let restorer = Restorer(executor: executor)
    let lock = dryRun ? nil : try global.lock(timeout: lockTimeout)
    defer { lock?.release() }
    let source: Snapshot
    var passedOver: [SnapshotStore.Listed] = []
    var history: [Snapshot]?
    if let id = snapshot {
      source = try global.store.load(try global.store.resolve(id))
    } else {
      let candidate = try restorer.candidate(force: force)
      passedOver = candidate.passedOver
      history = candidate.history
      for listed in passedOver {
        Output.error("warning: --force: passed over damaged snapshot \(listed.id): \(listed.error?.reason ?? "?")")
      }
      guard let chosen = candidate.snapshot else {
        print(
          StateReport.nothingToRollBack(
            json: format == .json, passedOver: passedOver, earlierBoots: candidate.earlierBoots))
        return
      }
      source = chosen
    }
    if !dryRun { try global.require(Privilege.needed(for: source), for: "rollback") }
    let plan = restorer.plan(source, history: history)
    if dryRun {
      // The rollback's own checks, and its exit: a dry run that says "would restore" where the
      // rollback would refuse is a promise broken.
      let refusal = restorer.refusal(of: plan, force: force)
      if refusal == nil || format == .text {
        print(
          StateReport.rollback(
            plan, snapshot: nil, dryRun: true, json: format == .json, style: global.style, quiet: global.quiet,
            passedOver: passedOver))
      }
      if let refusal { throw refusal }
      return
    }
    let made = try restorer.restore(plan, force: force)
    Output.warnIfUnrecorded(made)
    print(
      StateReport.rollback(
        plan, snapshot: made, dryRun: false, json: format == .json, style: global.style, quiet: global.quiet,
        passedOver: passedOver))
  }
}

struct SnapshotsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "snapshots",
    abstract: "List, show, delete and prune snapshots.",
    subcommands: [List.self, Show.self, Delete.self, Prune.self],
    defaultSubcommand: List.self)

  struct List: ParsableCommand, ReportsErrorsAsJSON {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List snapshots, oldest first, with their state.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Output format.") var format: OutputFormat = .text
    var jsonCommandName: String? { format == .json ? "snapshots" : nil }

    func run() throws {
      let store = global.store
      print(
        StateReport.list(
          try store.all(), lockHeld: store.isLocked(), boot: global.host().bootID, json: format == .json,
          style: global.style))
    }
  }

  struct Show: ParsableCommand, ReportsErrorsAsJSON {
    static let configuration = CommandConfiguration(
      commandName: "show", abstract: "Show one snapshot's settings, before -> after.")
    @Argument(
      help: "Snapshot id, `latest` or a unique prefix.", completion: .custom { _, _, _ in Completion.snapshots() })
    var id: String
    @OptionGroup var global: GlobalOptions
    @Option(help: "Output format.") var format: OutputFormat = .text
    var jsonCommandName: String? { format == .json ? "snapshots show" : nil }

    func validate() throws {
      try Validate.text(id, "snapshot id")
    }

    func run() throws {
      let store = global.store
      let snapshot = try store.load(try store.resolve(id))
      let all = try store.all().compactMap { try? $0.get() }
      let state = StateReport.state(
        of: snapshot, undone: SnapshotHistory(snapshots: all).undone, lockHeld: store.isLocked())
      print(StateReport.detail(snapshot, state: state, json: format == .json, style: global.style))
    }
  }

  struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delete", abstract: "Delete one snapshot.",
      discussion: """
        Only a settled snapshot (what `snapshots prune` may delete) goes without --force: an apply \
        still in effect, an interrupted or failed run, a rollback not itself rolled back, or a \
        damaged file is what a later rollback needs, and is refused, naming what would be lost.
        """)
    @Argument(
      help: "Snapshot id, `latest` or a unique prefix.", completion: .custom { _, _, _ in Completion.snapshots() })
    var reference: String
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Delete it even when a rollback needs it.") var force = false

    func validate() throws {
      try Validate.text(reference, "snapshot id")
    }

    func run() throws {
      try global.require([.root], for: "snapshots delete")
      let lock = try global.lock(timeout: 30)
      defer { lock.release() }
      let store = global.store
      let id = try store.resolve(reference)
      let all = try store.all()
      guard let listed = all.first(where: { $0.id == id }) else {
        _ = try store.load(id)  // names the missing or refused file
        return
      }
      if !force && !SnapshotHistory(all).expendable(keep: 0).contains(id) {
        throw BPSTuneError.usage(
          "snapshots delete \(id): \(Self.needed(listed, in: all)); nothing was deleted (--force deletes it anyway)")
      }
      try store.delete(id)
      if !global.quiet { print("deleted \(id)") }
    }

    /// What a rollback would lose with this snapshot.
    static func needed(_ listed: SnapshotStore.Listed, in all: [SnapshotStore.Listed]) -> String {
      guard let snapshot = listed.snapshot else {
        return "damaged (\(listed.error?.reason ?? "?")): it may be the apply a rollback should undo"
      }
      let settings = snapshot.entries.map(\.setting)
      let named = Printable.summary(settings.map { Printable.Item($0) }, limit: 3)
      let undone = SnapshotHistory(all).undone
      switch (snapshot.operation, snapshot.status) {
      case (_, .inProgress), (_, .failed):
        return "a \(snapshot.operation.rawValue) that did not finish (\(snapshot.status.rawValue)); rollback restores "
          + "its \(settings.count) setting(s) from it (\(named))"
      case (.apply, _) where !undone.contains(snapshot.id):
        return "an apply still in effect; rollback restores its \(settings.count) setting(s) from it (\(named))"
      default:
        return "a later rollback may need it (\(settings.count) setting(s): \(named))"
      }
    }
  }

  struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "prune",
      abstract: "Delete settled snapshots older than the newest N.",
      discussion: """
        Settled: an apply that failed and was undone, or an apply a complete rollback undid, with \
        its rollbacks. Applies still in effect, interrupted or failed runs and damaged files are \
        never deleted; `snapshots delete ID` deletes one by name.
        """)
    @Option(help: "How many of the newest snapshots to keep whatever their state.") var keep: Int
    @OptionGroup var global: GlobalOptions

    func validate() throws {
      try Validate.range(keep, "--keep", 0...1_000_000)
    }

    func run() throws {
      try global.require([.root], for: "snapshots prune")
      let lock = try global.lock(timeout: 30)
      defer { lock.release() }
      let store = global.store
      let total = try store.ids().count
      let deleted = try store.prune(keep: keep)
      if !global.quiet { print("deleted \(deleted.count), kept \(total - deleted.count)") }
    }
  }
}
