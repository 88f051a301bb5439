import BPSTuneCore
import BPSTuneKernel

extension Workflow {
  /// `bpstune persist boot` (bpstune.service): applies the enabled profile; interfaces not
  /// present yet are left to their own unit. Nothing enabled is not an error.
  package func boot(lockTimeout: Int) throws {
    StopReport.install(doing: "reading the enabled profile")
    guard let enabled = try EnabledProfile.load(persistence, loader: loader) else {
      say("nothing is enabled")
      return
    }
    sayAboutThePinnedCopy(enabled)
    let (part, absent) = Persistence.present(enabled.profile, on: host)
    try applyEnabled(part, enabled.record, trigger: "boot", lockTimeout: lockTimeout)
    for name in absent {
      let interface = name.split(separator: " ").first.map(String.init) ?? name
      say("\(name): bpstune-interface@\(interface).service tunes it once it is there and up")
    }
  }

  /// `bpstune persist interface IF` (bpstune-interface@IF.service, started by the udev rule):
  /// applies the enabled profile's blocks for the interface that appeared, once it is up
  /// (waiting up to `waitUp` seconds; then what a down interface takes). `instance` is the
  /// unit's instance name as systemd mangled it.
  package func interface(instance: String, waitUp: Int, lockTimeout: Int) throws {
    StopReport.install(doing: "reading the enabled profile")
    guard let enabled = try EnabledProfile.load(persistence, loader: loader) else {
      say("nothing is enabled")
      return
    }
    sayAboutThePinnedCopy(enabled)
    // The instance name as systemd mangled it ("eth0\x2b" for eth0+).
    let name = Persistence.interfaceName(instance: instance, existing: host.interfaces)
    let shown = Printable.escaped(name)
    guard let part = Persistence.only(enabled.profile, interface: name) else {
      say("\(shown): not named by the enabled profile \(enabled.record.profile); nothing to do")
      return
    }
    guard host.interfaces.contains(name) else {
      say("\(shown): gone again; nothing to do")
      return
    }
    // A new NIC is down until the network configuration brings it up; its queue IRQs,
    // NAPIs and their kthreads appear only then.
    if !host.isUp(name) {
      StopReport.doing("waiting for \(name) to be brought up")
      say("\(shown): waiting up to \(waitUp) s for it to be brought up")
      guard Persistence.waitUntilUp(name, on: host, seconds: waitUp) else {
        guard host.interfaces.contains(name) else {
          say("\(shown): gone again; nothing to do")
          return
        }
        say("\(shown): still down after \(waitUp) s; applying what it takes while down")
        return try applyEnabled(part, enabled.record, trigger: "interface \(shown)", lockTimeout: lockTimeout)
      }
      host.forget()
    }
    try applyEnabled(part, enabled.record, trigger: "interface \(shown)", lockTimeout: lockTimeout)
  }

  /// The journal's line when the units apply the pinned copy, or when the copy is not there to
  /// fall back on.
  func sayAboutThePinnedCopy(_ enabled: EnabledProfile) {
    if let notice = enabled.notice { say(notice) }
    if let problem = enabled.pinnedProblem { say("warning: \(problem); `bpstune enable --refresh` writes it again") }
  }

  /// Applies part of the enabled profile under the lock, recording what ran it (`trigger`).
  package func applyEnabled(_ profile: Profile, _ record: EnabledRecord, trigger: String, lockTimeout: Int) throws {
    let lock = try locked(lockTimeout)
    defer { lock.release() }
    StopReport.doing("reading the current values to plan \(record.profile)")
    var executor = self.executor(host)
    executor.trigger = trigger
    let outcome = try Applier(executor: executor).apply(profile, skipUnsupported: record.skipUnsupported)
    for line in OutcomeReport.skipped(outcome) { say(line) }
    if let snapshot = outcome.snapshot { warnIfUnrecorded(snapshot) }
    say(OutcomeReport.summary(outcome, .unit(trigger: trigger, profile: record.profile)))
  }
}
