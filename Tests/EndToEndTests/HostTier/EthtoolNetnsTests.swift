import Foundation
import TestSupport
import Testing

/// NIC settings through the ethtool ioctls on a real kernel: veth pairs in a fresh network
/// namespace, every value checked with the ethtool program (`ethtool -k`, `-l`, `-c`, `-i`),
/// which bpstune itself never runs.
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for network namespaces"))
struct EthtoolNetnsTests {
  let work = TemporaryDirectory("bpstune-host")
  var state: String { work.path + "/state" }

  func profile(_ text: String) -> String { work.write("t.profile", text) }

  /// `ethtool ARGS` inside the namespace; the test fails if ethtool does.
  func ethtool(_ ns: NetworkNamespace, _ arguments: String...) -> String {
    let f = ns.run(["ethtool"] + arguments)
    #expect(f.status == 0, "\(f)")
    return f.stdout
  }

  /// The value ethtool prints for `name` ("generic-receive-offload: off [fixed]" -> "off [fixed]").
  func value(_ output: String, _ name: String) -> String? {
    for line in output.split(separator: "\n") {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix(name + ":") { return t.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }
    return nil
  }

  /// The "Current hardware settings" part of `ethtool -l`.
  func currentChannels(_ output: String) -> String {
    String(output[output.range(of: "Current hardware settings:")!.upperBound...])
  }

  @Test func groOffAndFewerChannelsApplyAndRollBackExactly() throws {
    let ns = try NetworkNamespace(gro: true, queues: 2)
    let features0 = ethtool(ns, "-k", ns.a)
    let channels0 = ethtool(ns, "-l", ns.a)
    #expect(value(features0, "generic-receive-offload") == "on")
    #expect(value(currentChannels(channels0), "RX") == "2")
    let p = profile(
      """
      [[interface]]
      name = "\(ns.a)"
      features = { gro = false, tx-checksumming = false }
      channels = { rx = 1, tx = 1 }
      rps-cpus = "1"
      """)
    let diff = ns.bpstune(["diff", p], stateDir: state)
    #expect(diff.status == 1 && diff.stdout.contains("~ channels") && diff.stdout.contains("rx, tx: 2 -> 1"), "\(diff)")
    #expect(diff.stdout.contains("rx-gro") && diff.stdout.contains("planned again"), "\(diff)")

    let apply = ns.bpstune(["apply", p], stateDir: state)
    #expect(apply.status == 0, "\(apply)")
    let features1 = ethtool(ns, "-k", ns.a)
    #expect(value(features1, "generic-receive-offload") == "off")
    #expect(value(features1, "tx-checksumming") == "off")
    // The kernel turned TSO off along with tx checksumming (dependent features).
    #expect(value(features1, "tx-tcp-segmentation") == "off [requested on]")
    let channels1 = currentChannels(ethtool(ns, "-l", ns.a))
    #expect(value(channels1, "RX") == "1" && value(channels1, "TX") == "1")
    // rps-cpus was planned again on the one remaining rx queue.
    #expect(ns.run(["ls", "/sys/class/net/\(ns.a)/queues"]).stdout.split(separator: "\n") == ["rx-0", "tx-0"])
    #expect(ns.cat("/sys/class/net/\(ns.a)/queues/rx-0/rps_cpus") == "2")
    let snapshots = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")
    let json = try String(contentsOfFile: state + "/snapshots/" + snapshots[0], encoding: .utf8)
    #expect(json.contains("tx-tcp-segmentation=on") && json.contains("tx-tcp-segmentation=off"))

    let verify = ns.bpstune(["verify", p], stateDir: state)
    #expect(verify.status == 0, "\(verify)")

    let rollback = ns.bpstune(["rollback"], stateDir: state)
    #expect(rollback.status == 0 && rollback.stdout.contains("restored 3 of 3 settings"), "\(rollback)")
    #expect(ethtool(ns, "-k", ns.a) == features0)
    #expect(ethtool(ns, "-l", ns.a) == channels0)
    #expect(
      ns.run(["ls", "/sys/class/net/\(ns.a)/queues"]).stdout.split(separator: "\n") == ["rx-0", "rx-1", "tx-0", "tx-1"])
  }

  @Test func rxUsecsOnAVethIsUnsupportedAndApplyChangesNothing() throws {
    let ns = try NetworkNamespace(gro: true)
    let c = ns.run(["ethtool", "-c", ns.a])
    #expect(c.status != 0 && c.stderr.contains("Operation not supported"), "\(c)")
    let features0 = ethtool(ns, "-k", ns.a)
    let p = profile(
      """
      [[interface]]
      name = "\(ns.a)"
      coalesce = { rx-usecs = 100 }
      features = { gro = false }
      """)
    let diff = ns.bpstune(["diff", p], stateDir: state)
    #expect(diff.status == 1, "\(diff)")
    #expect(diff.stdout.contains("! coalesce"), "\(diff)")
    #expect(diff.stdout.contains("unsupported: veth does not support coalescing"), "\(diff)")
    let apply = ns.bpstune(["apply", p], stateDir: state)
    #expect(apply.status == 2, "\(apply)")
    #expect(apply.stderr.contains("coalesce") && apply.stderr.split(separator: "\n").count == 1, "\(apply)")
    #expect(ethtool(ns, "-k", ns.a) == features0)
    #expect((try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots"))?.isEmpty ?? true)
    let verify = ns.bpstune(["verify", p, "--format", "json"], stateDir: state)
    #expect(verify.stdout.contains("\"status\" : \"unsupported\""), "\(verify)")
    #expect(verify.stdout.contains("\"status\" : \"change\""), "\(verify)")
  }

  @Test func showGivesTheDriverChannelsAndChangeableFeatures() throws {
    let ns = try NetworkNamespace(gro: true, queues: 2)
    let show = ns.bpstune(["show", "-i", ns.a], stateDir: state)
    #expect(show.status == 0, "\(show)")
    let info = ethtool(ns, "-i", ns.a)
    let lines = show.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    func shown(_ key: String) -> String? {
      lines.first { $0.first.map(String.init) == key }?.dropFirst().joined(separator: " ")
    }
    #expect(shown("driver.name") == value(info, "driver"))
    let channels = currentChannels(ethtool(ns, "-l", ns.a))
    #expect(shown("channels.rx") == value(channels, "RX") && shown("channels.tx") == value(channels, "TX"))
    let features = ethtool(ns, "-k", ns.a)
    #expect(shown("features.rx-gro") == value(features, "generic-receive-offload"))
    #expect(shown("features.tx-tcp-segmentation") == value(features, "tx-tcp-segmentation"))
    // Fixed features are not shown as settable.
    #expect(value(features, "rx-lro") == nil && value(features, "large-receive-offload") == "off [fixed]")
    #expect(shown("features.rx-lro") == nil)
    #expect(show.stdout.contains("coalesce") && show.stdout.contains("does not support coalescing"))
  }
}
