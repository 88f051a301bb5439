import Foundation

/// What a test needs of this host beyond root, for `.enabled(if:_:)` on the test or its suite:
/// a test that cannot run here is listed as skipped with its reason, never passed unchecked.
public enum ThisHost {
  /// Whether `program` is an executable file in a directory of PATH (the tests' tools that
  /// `make deps` installs, such as sockperf).
  public static func has(_ program: String) -> Bool {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
  }
}
