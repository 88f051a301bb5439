import Foundation
import TestSupport
import Testing

/// [cmdline] and [cpu] read-only against this host's real kernel (issue 17): nothing here
/// writes. Expectations come from /proc/cmdline and /sys read by the test itself.
@Suite(.enabled(if: geteuid() == 0, "each run gets a /run of its own: unshare --mount and a tmpfs need root"))
struct HostHalfReadOnlyTests {
  let work = TemporaryDirectory("bpstune-hosthalf")
  let state = TemporaryDirectory("bpstune-hosthalf-state")

  /// The host's own /proc/cmdline and CPUs are read, but an apply's host lock goes to a /run of
  /// the command's own (a tmpfs in a private mount namespace), never this host's /run/bpstune.
  func run(_ arguments: [String]) -> Finished {
    Run.command(
      ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /run && exec \"$@\"", "sh"]
        + [Run.bpstune] + arguments + ["--state-dir", state.path, "--no-color"])
  }

  /// The kernel's own parameters: the words of /proc/cmdline before "--".
  var kernelWords: [String] {
    let line = (try? String(contentsOfFile: "/proc/cmdline", encoding: .utf8)) ?? ""
    let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
    return Array(words.prefix { $0 != "--" })
  }

  @Test func bootParametersAreVerifiedAgainstTheRealCommandLine() throws {
    let words = kernelWords.filter { !$0.contains("\"") }
    let present = try #require(words.first { $0.contains("=") }, "no key=value in /proc/cmdline")
    let eq = present.firstIndex(of: "=")!
    let name = String(present[..<eq])
    let value = String(present[present.index(after: eq)...])
    let missing = "bpstune_test_absent_\(getpid())"
    #expect(!words.contains { $0.hasPrefix(missing) })
    let matching = work.write("ok.profile", "[cmdline]\n\"\(name)\" = \"\(value)\"\n\"\(missing)\" = false\n")
    let ok = run(["verify", matching])
    #expect(ok.status == 0, "\(ok)")
    #expect(ok.stdout.contains("ok     \(name)"), "\(ok)")

    let lacking = work.write("lacking.profile", "[cmdline]\n\"\(name)\" = \"\(value)\"\n\"\(missing)\" = 1\n")
    let verify = run(["verify", lacking])
    #expect(verify.status == 1, "\(verify)")
    #expect(verify.stdout.contains("DRIFT  \(missing)") && verify.stdout.contains("needs reboot"), "\(verify)")
    let diff = run(["diff", lacking, "--format", "json"])
    #expect(diff.status == 1 && diff.stdout.contains("\"status\" : \"needs-reboot\""), "\(diff)")
    let cmdline = run(["cmdline", lacking])
    #expect(cmdline.status == 1 && cmdline.stdout.contains("\n  \(missing)=1\n"), "\(cmdline)")
    let grub = run(["cmdline", lacking, "--format", "grub"])
    #expect(grub.stdout.contains("GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT \(missing)=1\""), "\(grub)")
    // apply writes nothing and names what to add.
    let apply = run(["apply", lacking])
    #expect(apply.status == 0 && apply.stdout.contains("add to the kernel command line: \(missing)=1 "), "\(apply)")
    #expect(run(["snapshots", "list"]).stdout.contains("apply") == false)
  }

  /// This host's cpufreq policies (none in most VMs).
  static var cpufreqPolicies: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/cpu/cpufreq")) ?? [])
      .filter { $0.hasPrefix("policy") }
  }

  /// CPU 0's idle states as this host's cpuidle names them.
  static var idleStates: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/cpu/cpu0/cpuidle")) ?? [])
      .filter { $0.hasPrefix("state") }.sorted()
      .compactMap { try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cpuidle/\($0)/name", encoding: .utf8) }
      .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
  }

  /// [cpu] settings no host takes in full: an idle state no cpuidle has.
  func cpuProfile() -> String {
    work.write("cpu.profile", "[cpu]\ngovernor = \"performance\"\nidle-states = [\"NoSuchState\"]\nboost = true\n")
  }

  /// Without a cpufreq policy, governor is unsupported with the reason.
  @Test(.enabled(if: HostHalfReadOnlyTests.cpufreqPolicies.isEmpty, "this host has cpufreq: governor is supported"))
  func withoutCpufreqTheGovernorIsUnsupported() throws {
    let diff = run(["diff", cpuProfile()])
    #expect(
      diff.stdout.contains("! governor") && diff.stdout.contains("unsupported: no cpufreq on this host"), "\(diff)")
  }

  /// An idle state this host lacks is named beside the states it has, as its cpuidle names them.
  @Test(.enabled(if: !HostHalfReadOnlyTests.idleStates.isEmpty, "this host has no cpuidle states"))
  func anUnknownIdleStateIsShownBesideThisHostsStates() throws {
    let diff = run(["diff", cpuProfile()])
    #expect(diff.stdout.contains("has \(Self.idleStates.joined(separator: ", ")))"), "\(diff)")
  }

  /// Settings this host cannot take: apply refuses them in one line, and the profiles that use
  /// [cpu] lint clean.
  @Test func cpuSettingsThisHostCannotTakeSayWhy() throws {
    let profile = cpuProfile()
    let apply = run(["apply", profile])
    #expect(apply.status == 2 && apply.stderr.split(separator: "\n").count == 1, "\(apply)")
    let lint = Run.command([Run.bpstune, "lint", "hft-host", "seed002-host", "polling-budget", "--no-color"])
    #expect(lint.status == 0, "\(lint)")
  }
}
