import Foundation
import TestSupport
import Testing

/// The shipped profiles as users meet them, through the built binary: every one lints, and a
/// profile with a [probe] section says what the application must do, while apply leaves that
/// section alone.
@Suite struct BuiltInProfilesTests {
  /// Every file of profiles/, by name.
  static let names: [String] =
    ((try? FileManager.default.contentsOfDirectory(atPath: Run.profiles)) ?? []).filter { $0.hasSuffix(".profile") }
    .map { String($0.dropLast(".profile".count)) }.sorted()

  let kernel: FakeKernel = {
    let k = FakeKernel()
    k.set("/proc/sys/net/core/busy_read", "0")
    k.addInterface("eth0")
    return k
  }()

  func bpstune(_ arguments: [String]) -> Finished {
    Run.command([Run.bpstune] + arguments, environment: ["BPSTUNE_PROFILE_PATH": Run.profiles])
  }

  @Test func everyShippedProfileLints() {
    #expect(Self.names.contains("irq-suspend") && Self.names.count >= 9, "\(Self.names)")
    let lint = bpstune(["lint"] + Self.names)
    #expect(lint.status == 0, "\(lint)")
    for name in Self.names { #expect(lint.stdout.contains("ok \(name): "), "\(name): \(lint)") }
  }

  static let irqSuspendApplication =
    "the application must busy-poll through epoll: epoll_wait(2) on an epoll instance set with the EPIOCSPARAMS ioctl"
    + " (Linux 6.9+) to busy_poll_usecs 0, busy_poll_budget 64, prefer_busy_poll 1; with busy_poll_usecs 0 each"
    + " epoll_wait makes one busy-poll pass (Linux 6.13+)"

  @Test func profilesShowSaysWhatTheApplicationMustDo() throws {
    // This fake host cannot take most of the profile (exit 1); what it assumes shows all the same.
    let text = bpstune(["profiles", "show", "irq-suspend", "--root", kernel.root])
    #expect(text.status == 1, "\(text)")
    let lines = text.stdout.split(separator: "\n").map(String.init)
    let at = try #require(lines.firstIndex { $0.hasPrefix("application side ([probe]") }, "\(text)")
    #expect(lines[at + 1] == "  " + Self.irqSuspendApplication)
    let json = bpstune(["profiles", "show", "irq-suspend", "--root", kernel.root, "--format", "json"])
    let doc = (try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) as? [String: Any]
    let probe = try #require(doc?["probe"] as? [String: Any], "\(json)")
    #expect(probe["receive_mode"] as? String == "epoll" && probe["busy_poll_us"] as? Int == 0)
    #expect(probe["busy_poll_budget"] as? Int == 64 && probe["prefer_busy_poll"] as? Bool == true)
    #expect(probe["instructions"] as? String == Self.irqSuspendApplication)
    // A profile without [probe] says nothing of the application, in text or JSON.
    let plain = bpstune(["profiles", "show", "napi-busy-poll", "--root", kernel.root])
    #expect(!plain.stdout.contains("application side"), "\(plain)")
    let plainJSON = bpstune(["profiles", "show", "napi-busy-poll", "--root", kernel.root, "--format", "json"])
    #expect(!plainJSON.stdout.contains("\"probe\""), "\(plainJSON)")
  }

  /// [probe] is never applied: apply writes the profile's sysctl, nothing else, and the snapshot
  /// records that one change.
  @Test func applyLeavesTheSectionAlone() throws {
    let work = TemporaryDirectory("bpstune-probe-apply")
    let profile = work.write(
      "app.profile",
      "[sysctl]\nnet.core.busy_read = 7\n[probe]\nreceive = \"epoll\"\nbusy-poll = 0\nprefer-busy-poll = true\n")
    let before = Set(try FileManager.default.subpathsOfDirectory(atPath: kernel.root))
    let apply = bpstune(["apply", profile, "--root", kernel.root, "--state-dir", work.path + "/state"])
    #expect(apply.status == 0, "\(apply)")
    #expect(kernel.get("/proc/sys/net/core/busy_read") == "7")
    let after = Set(try FileManager.default.subpathsOfDirectory(atPath: kernel.root))
    #expect(
      after.subtracting(before).allSatisfy { $0 == "run" || $0.hasPrefix("run/") }, "\(after.subtracting(before))")
    let snapshots = try FileManager.default.contentsOfDirectory(atPath: work.path + "/state/snapshots")
    let snapshot = try #require(snapshots.first { $0.hasSuffix(".json") })
    let doc =
      (try? JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: work.path + "/state/snapshots/" + snapshot)))) as? [String: Any]
    #expect((doc?["entries"] as? [Any])?.count == 1, "\(String(describing: doc))")
  }
}
