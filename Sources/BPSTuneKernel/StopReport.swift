/// What a run stopped by SIGTERM says it was doing, in one line on standard error, e.g.
/// "bpstune: stopped by SIGTERM while writing net.core.busy_poll (3 of 12 settings applied)".
/// systemd sends SIGTERM when a unit's start timeout runs out (bpstune.service has
/// TimeoutStartSec=); the journal then says which setting or which lock the boot hung on.
///
/// The run records each step as it starts (``doing(_:)``: the lock it waits for, the setting
/// the ``Executor`` writes, through its `progress` hook); the line is formatted then, not in
/// the signal handler, which only copies the last recorded line out and writes it with
/// write(2) before _exit(2) (``Syscalls/writeStopLineOnSIGTERM()``). A SIGTERM ends the run
/// where it is, as it did before: a snapshot being written stays in progress, and
/// `bpstune rollback` undoes what it holds.
package enum StopReport {
  /// From now on SIGTERM ends the process with the line of the step recorded last; `doing`
  /// is the first.
  package static func install(doing what: String) {
    doing(what)
    Syscalls.writeStopLineOnSIGTERM()
  }

  /// Records the step the run starts now ("writing net.core.busy_poll (3 of 12 settings
  /// applied)"); whatever it quotes is escaped, so the line stays one line.
  package static func doing(_ what: String) {
    Syscalls.recordStopLine(line(doing: what))
  }

  /// The line for a step.
  package static func line(doing what: String) -> String {
    "bpstune: stopped by SIGTERM while \(Printable.escaped(what))\n"
  }

  /// The line a SIGTERM would print now; nil before any step was recorded.
  package static var current: String? { Syscalls.recordedStopLine() }
}
