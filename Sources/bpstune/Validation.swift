import ArgumentParser
import BPSTuneCore
import BPSTuneKernel

/// Checks of command-line input in validate(): a name or path with a control character, a
/// relative path where one goes into a file root reads at boot, a number outside what the
/// option means. Each refusal is one line naming the option (exit 2), never a trap later.
enum Validate {
  /// A name or path bpstune may print, record or write to: no control character (C0, DEL, C1).
  static func text(_ value: String?, _ option: String) throws {
    guard let value, let c = Printable.controlCharacter(in: value) else { return }
    throw ValidationError("\(option) \(Printable.escaped(value)): holds the control character \(c); refused")
  }

  /// An absolute path without control characters.
  static func absolutePath(_ value: String?, _ option: String) throws {
    try text(value, option)
    guard let value, !value.hasPrefix("/") else { return }
    throw ValidationError("\(option) \(value): must be an absolute path")
  }

  /// An interface name as `-i` takes it: what the kernel allows (at most 15 bytes, no "/", ":",
  /// white space), without control characters; a glob is fine where a profile takes one.
  static func interface(_ value: String?, _ option: String = "-i") throws {
    try text(value, option)
    guard let value else { return }
    if value.isEmpty || value.utf8.count > 15 || value == "." || value == ".."
      || value.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace })
    {
      throw ValidationError("\(option) \(value): not an interface name (1 to 15 bytes, no /, : or white space)")
    }
  }

  /// A number within `range`, named with its unit in the refusal.
  static func range<T: Comparable>(_ value: T?, _ option: String, _ range: ClosedRange<T>, unit: String = "")
    throws
  {
    guard let value, !range.contains(value) else { return }
    let suffix = unit.isEmpty ? "" : " \(unit)"
    throw ValidationError("\(option) \(value): must be \(range.lowerBound) to \(range.upperBound)\(suffix)")
  }

  /// The library's own checks of settings (each a ``BPSTuneError`` naming its option), run in
  /// validate() so that a bad number is a one-line refusal (exit 2) before anything starts.
  static func usage(_ body: () throws -> Void) throws {
    do {
      try body()
    } catch let error as BPSTuneError {
      throw ValidationError(error.description)
    }
  }

  /// --lock-timeout: up to a day.
  static func lockTimeout(_ value: Int) throws {
    try range(value, "--lock-timeout", 0...86_400, unit: "seconds")
  }
}
