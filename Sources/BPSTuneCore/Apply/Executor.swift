import BPSTuneKernel

/// Carries out a snapshot's entries on the host, the one path every write takes: write each
/// `after` value in order, read it back and compare by meaning; on any failure restore the
/// `before` values in reverse order, and record the outcome in the snapshot.
package struct Executor {
  package let host: KernelHost
  package let knobs: [any Knob]
  package let store: SnapshotStore
  /// Told about each write ("-v").
  package var log: (String) -> Void = { _ in }
  /// Told what the executor starts doing, before it does it: "writing net.core.busy_poll
  /// (3 of 12 settings applied)", "putting back ...". The commands hand it to ``StopReport``.
  package var progress: (String) -> Void = { _ in }
  /// Recorded in each snapshot this executor writes (``Snapshot/trigger``).
  package var trigger: String?
  /// `--reason TEXT`, recorded in each snapshot this executor writes (``Snapshot/Origin``).
  package var reason: String?

  package init(host: KernelHost, knobs: [any Knob], store: SnapshotStore) {
    self.host = host
    self.knobs = knobs
    self.store = store
  }

  /// The knob that writes the setting (``KnobRegistry/knob(for:)``); a kind without one is refused.
  func knob(_ id: SettingID) throws(BPSTuneError) -> any Knob {
    guard let knob = KnobRegistry.knob(for: id.kind) else {
      throw .invalidPlan(setting: id.description, message: "unknown kind \(id.kind)")
    }
    return knob
  }

  /// Runs the entries of a snapshot that is already on disk (status in-progress), from entry
  /// `start` up to `end`; entries before `start` were carried out by an earlier call and are
  /// undone too if this one fails. With `finish`, a successful run marks the snapshot complete
  /// (or leaves it in-progress when the completion could not be recorded).
  package func run(_ snapshot: inout Snapshot, from start: Int = 0, to end: Int? = nil, finish: Bool = true)
    throws(BPSTuneError)
  {
    var done = Array(snapshot.entries[..<start])
    var failure: (entry: Snapshot.Entry, message: String)?
    for index in start..<(end ?? snapshot.entries.count) {
      let entry = snapshot.entries[index]
      let display = entry.semantics.display(entry.after)
      progress("writing \(entry.setting) (\(done.count) of \(snapshot.entries.count) settings applied)")
      do {
        let knob = try knob(entry.setting)
        // A device renamed, replaced or gone since the plan is not written to by name.
        if let changed = changedDevice(entry) {
          failure = (entry, changed)
          break
        }
        log("\(entry.setting): \(entry.semantics.change(from: entry.before, to: entry.after))")
        do {
          try knob.write(entry.setting, entry.after, on: host)
        } catch {
          failure = (entry, "the kernel refused \(display): \(BPSTuneError.reason(of: error))")
          break
        }
        done.append(entry)
        let back = try knob.read(entry.setting, on: host)
        if !entry.semantics.equal(back, entry.after) {
          failure = (entry, "the kernel kept \(entry.semantics.display(back, as: entry.after)) instead of \(display)")
          break
        }
        // A structure written whole records just what changed, with what the kernel changed
        // along with it (dependent features), so that rollback restores exactly that.
        let recorded = entry.semantics.recorded(before: entry.before, after: entry.after, result: back)
        if recorded != (entry.before, entry.after) {
          var narrowed = entry
          (narrowed.before, narrowed.after) = recorded
          let asked = FieldMap(parsing: entry.after)?.names ?? []
          let also = (FieldMap(parsing: recorded.after)?.names ?? []).filter { !asked.contains($0) }
          if !also.isEmpty { log("\(entry.setting): the kernel also changed \(also.joined(separator: ", "))") }
          snapshot.entries[index] = narrowed
          done[done.count - 1] = narrowed
          // If this record cannot be saved, the one on disk still holds every field's old value.
          try? store.update(snapshot)
        }
      } catch {
        failure = (entry, BPSTuneError.reason(of: error))
        break
      }
    }
    guard let failure else {
      guard finish else { return }
      progress(
        "recording snapshot \(snapshot.id) as complete (\(done.count) of \(snapshot.entries.count) settings applied)")
      // Every change is made. If recording completion fails, the snapshot on disk stays
      // in-progress: shown as interrupted, still a full record for rollback. Reporting exit 2
      // ("nothing was changed") here would be false, so the status stays in-progress instead.
      var done = snapshot
      done.status = .complete
      done.finished = SnapshotStore.timestamp()
      if (try? store.update(done)) != nil { snapshot = done }
      return
    }
    try abandon(&snapshot, done: done, failed: failure.entry, message: failure.message)
  }

  /// Undoes `done` (and the failed entry, which may have half-happened), records the outcome
  /// in the snapshot and throws the failure.
  package func abandon(
    _ snapshot: inout Snapshot, done: [Snapshot.Entry], failed: Snapshot.Entry?, message: String
  ) throws(BPSTuneError) -> Never {
    var toUndo = done
    if let failed, !done.contains(where: { $0.setting == failed.setting }) { toUndo.append(failed) }
    let (left, devices) = undo(toUndo)
    snapshot.status = left.isEmpty ? .undone : .failed
    snapshot.leftChanged = left.isEmpty ? nil : left.map(\.text)
    snapshot.finished = SnapshotStore.timestamp()
    try? store.update(snapshot)
    let setting = failed?.setting.description ?? snapshot.profile ?? snapshot.id
    // A device that vanished took its settings along, and one renamed had them put back under
    // its new name: each named once, not a setting left changed; many, summarized (-v: all).
    let sentences = devices.map { $0.sentence(during: snapshot.operation) }
    for sentence in sentences { log(sentence) }
    let named = Printable.summary(
      sentences.map { Printable.Item($0) }, limit: 5, more: " device(s) renamed or gone (-v lists every one)")
    let why = devices.isEmpty ? message : message + "; " + named
    if left.isEmpty {
      // Undone: the changes made, less those whose device is gone (the failed write is not one).
      let lost = Set(devices.filter(\.isLost).map(\.name))
      let goneDone = done.filter { $0.setting.interface.map(lost.contains) ?? false }.count
      throw .failedAndUndone(setting: setting, message: why, undone: done.count - goneDone)
    }
    throw .failedPartially(setting: setting, message: why, left: left)
  }

  /// Restores `before` values in the order rollback uses: structure (channels, rings) first,
  /// then the rest resolved again on the re-created queues (a per-queue setting whose queue the
  /// structure change removed is gone with it) in ``restoreOrder(_:)``. A device found by its
  /// recorded ifindex under another name gets its values back there; one that is gone, or
  /// whose name another device has now, is not written. Returns each setting left changed, and
  /// each device that is not where its settings were recorded, by name.
  func undo(_ entries: [Snapshot.Entry]) -> (left: [Printable.Item], devices: [DeviceFate]) {
    var left: [Printable.Item] = []
    var devices: [String: DeviceFate] = [:]
    var seen: [String: KernelHost.Whereabouts] = [:]
    let structure = entries.filter { $0.phase == .structure }
    var rest = Self.restoreOrder(entries.filter { $0.phase != .structure })
    func put(_ recorded: Snapshot.Entry) {
      var entry = recorded
      if let name = recorded.setting.interface {
        let whereabouts = seen[name] ?? host.whereabouts(of: name, ifindex: recorded.ifindex)
        seen[name] = whereabouts
        if whereabouts != .here {
          devices[name, default: DeviceFate(name: name, ifindex: recorded.ifindex, whereabouts: whereabouts)]
            .settings += 1
        }
        switch whereabouts {
        case .here: break
        case .renamed(let new): entry = recorded.on(new)
        case .replaced, .gone: return
        }
      }
      guard let problem = restore(entry) else { return }
      // The device went while it was being undone: nothing of it is left changed.
      if let name = recorded.setting.interface, host.goneInterface(of: entry.setting) != nil {
        seen[name] = .gone
        var fate =
          devices[name].flatMap { $0.isLost ? $0 : nil }
          ?? DeviceFate(name: name, ifindex: recorded.ifindex, whereabouts: .gone)
        fate.settings += 1
        devices[name] = fate
      } else {
        left.append(problem)
      }
    }
    for entry in structure.reversed() { put(entry) }
    if !structure.isEmpty { rest = afterStructureChange(rest) }
    for entry in rest { put(entry) }
    return (left, devices.keys.sorted().map { devices[$0]! })
  }

  /// Why `entry` may not be written: the device its interface named when it was recorded has
  /// been renamed, replaced by another of that name, or is gone (its ifindex read afresh from
  /// /sys/class/net/IF/ifindex). Nil when it is the same device, or no ifindex was recorded.
  private func changedDevice(_ entry: Snapshot.Entry) -> String? {
    guard let name = entry.setting.interface, let ifindex = entry.ifindex else { return nil }
    let shown = Printable.escaped(name)
    switch host.whereabouts(of: name, ifindex: ifindex) {
    case .here: return nil
    case .renamed(let new): return "not written: \(shown) was renamed to \(Printable.escaped(new))"
    case .replaced(let now): return "not written: \(shown) is another device now (ifindex \(ifindex), now \(now))"
    case .gone: return "not written: \(shown) is gone"
    }
  }

  /// Each entry of an interface's setting with its device's ifindex (/sys/class/net/IF/ifindex)
  /// when it has none yet: what undo and rollback find the device by after a rename.
  func identified(_ entries: [Snapshot.Entry]) -> [Snapshot.Entry] {
    entries.map { entry in
      guard entry.ifindex == nil, let name = entry.setting.interface else { return entry }
      var identified = entry
      identified.ifindex = host.ifindex(of: name).map(Int.init)
      return identified
    }
  }

  /// The order in which recorded values are put back: phase by phase as apply wrote them
  /// (device sysfs before the per-NAPI values it would reset; threaded before its kthread,
  /// which exists only while threaded is on), and within a phase in reverse apply order.
  static func restoreOrder(_ entries: [Snapshot.Entry]) -> [Snapshot.Entry] {
    entries.enumerated().sorted { a, b in
      a.element.phase != b.element.phase ? a.element.phase < b.element.phase : a.offset > b.offset
    }.map(\.element)
  }

  /// After channels or rings changed (and re-created queues, IRQs and NAPIs): forgets every
  /// cached answer and drops the entries whose queue went with the change.
  func afterStructureChange(_ entries: [Snapshot.Entry]) -> [Snapshot.Entry] {
    host.forget()
    return entries.filter { entry in
      guard let knob = try? knob(entry.setting), knob.isGone(entry.setting, on: host) else { return true }
      log("\(entry.setting): gone with its queue")
      return false
    }
  }

  /// Puts one entry's `before` value back; describes what is left changed, or nil.
  private func restore(_ entry: Snapshot.Entry) -> Printable.Item? {
    let s = entry.semantics
    progress("putting back the earlier value of \(entry.setting)")
    do {
      let knob = try knob(entry.setting)
      let now = try knob.read(entry.setting, on: host)
      if s.equal(now, entry.before) { return nil }
      log("undo \(entry.setting): \(s.change(from: now, to: entry.before))")
      try knob.write(entry.setting, entry.before, on: host)
      let back = try knob.read(entry.setting, on: host)
      if !s.equal(back, entry.before) {
        return Printable.Item(entry.setting, " is \(s.display(back, as: entry.before)), was \(s.display(entry.before))")
      }
      return nil
    } catch {
      return Printable.Item(entry.setting, " (\(BPSTuneError.reason(of: error))), was \(s.display(entry.before))")
    }
  }

  /// A new snapshot record for this host.
  func newSnapshot(
    _ operation: Snapshot.Operation, profile: String?, restores: String?, entries: [Snapshot.Entry],
    loaded: Profile? = nil
  ) -> Snapshot {
    let names = Syscalls.uname()
    return Snapshot(
      schema: Snapshot.schemaVersion, id: store.newID(operation), operation: operation, profile: profile,
      restores: restores, created: SnapshotStore.timestamp(), finished: nil, status: .inProgress,
      pid: Syscalls.processID, hostname: names.node, kernel: names.release, boot: host.bootID, trigger: trigger,
      entries: identified(entries), leftChanged: nil, origin: Snapshot.Origin(profile: loaded, reason: reason))
  }
}

/// What became of a device whose settings bpstune recorded, when it is not where they were:
/// renamed (its settings follow it), replaced by another device of its name, moved to another
/// network namespace or deleted (its settings went with it). Named once in a message, with
/// how many of its settings it concerns.
package struct DeviceFate: Sendable, Equatable {
  /// The name the snapshot recorded.
  package var name: String
  /// The ifindex the snapshot recorded (nil: a snapshot of an earlier version or boot).
  package var ifindex: Int?
  package var whereabouts: KernelHost.Whereabouts
  /// Its settings in the snapshot (in an undo, those it was to put back).
  package var settings = 0

  /// Whether its settings went with it (gone or replaced), rather than followed it.
  package var isLost: Bool {
    if case .renamed = whereabouts { return false }
    return whereabouts != .here
  }

  /// The sentence that names it: in the undo of a failed `operation` ("va disappeared during
  /// apply: ..."), or in a rollback (`operation` nil; `dryRun` says what it would do).
  package func sentence(during operation: Snapshot.Operation? = nil, dryRun: Bool = false) -> String {
    let shown = Printable.escaped(name)
    let during = operation.map { " during \($0.rawValue)" } ?? ""
    let index = ifindex.map { "ifindex \($0)" }
    switch whereabouts {
    case .here:
      return shown
    case .renamed(let new):
      let there = operation != nil ? "were put back there" : dryRun ? "would be restored there" : "are restored there"
      return "\(shown) was renamed to \(Printable.escaped(new))\(during) (\(index ?? "?")): its settings \(there)"
    case .replaced(let now):
      return "\(shown) was replaced\(during) by another device of that name (\(index ?? "?"), now ifindex \(now)): "
        + "its \(settings) setting(s) went with the old one, and the new \(shown) is left as it is"
    case .gone:
      // Without a recorded ifindex a rename cannot be told from a deletion.
      let how =
        ifindex == nil
        ? "renamed, moved to another network namespace, or deleted" : "moved to another network namespace, or deleted"
      return operation != nil
        ? "\(shown) disappeared\(during): its \(settings) setting(s) went with it (\(how))"
        : "\(shown) is gone: its \(settings) setting(s) went with it (\(how))"
    }
  }
}
