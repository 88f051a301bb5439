import Foundation
import TestSupport
import Testing

/// The command line as scripts and operators use it, against the built binary as root in a
/// network namespace (whose /run is its own: no test takes this host's lock): flags as the
/// argument parser reads them.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct CommandLineTests {
  let work: TemporaryDirectory = {
    let w = TemporaryDirectory("bpstune-cli")
    chmod(w.path, 0o755)
    return w
  }()
  var state: String { work.path + "/state" }

  /// `-v` as the argument parser reads it: combined with -q (`-qv`, `-vq`) as alone. Before,
  /// bpstune looked for the word "-v" in its arguments and gave `-qv` the summary.
  @Test func combinedShortFlagsWithVGiveEveryName() throws {
    let ns = try NetworkNamespace()
    let names = (1...7).map { "net.core.bpstune_absent_\($0)" }
    let p = work.write("absent.profile", "[sysctl]\n" + names.map { "\($0) = 1\n" }.joined())
    func apply(_ flags: [String]) -> Finished {
      ns.run([Run.bpstune, "apply", p] + flags + ["--state-dir", state, "--no-color"])
    }
    let summary = apply([])
    #expect(summary.status == 2 && summary.stderr.contains("and 2 more (-v lists every one)"), "\(summary)")
    #expect(!summary.stderr.contains(names[6]), "\(summary)")
    for flags in [["-v"], ["-qv"], ["-vq"], ["-q", "--verbose"]] {
      let full = apply(flags)
      #expect(full.status == 2 && full.stderr.split(separator: "\n").count == 1, "\(flags): \(full)")
      #expect(names.allSatisfy { full.stderr.contains($0 + ":") }, "\(flags): \(full)")
      #expect(!full.stderr.contains("more (-v lists every one)"), "\(flags): \(full)")
    }
    // -q alone is not -v.
    #expect(apply(["-q"]).stderr.contains("and 2 more (-v lists every one)"))
    #expect(!FileManager.default.fileExists(atPath: state + "/snapshots") || snapshots().isEmpty)
  }

  func snapshots() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []).filter {
      $0.hasSuffix(".json")
    }
  }
}
