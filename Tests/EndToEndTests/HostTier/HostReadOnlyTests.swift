import Foundation
import TestSupport
import Testing

/// Read-only on the real host: the README's first command.
@Suite struct HostReadOnlyTests {
  @Test func diffOfHFTShowsBusyReadAndExits1() throws {
    let current = try String(contentsOfFile: "/proc/sys/net/core/busy_read", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let state = TemporaryDirectory("bpstune-ro")
    let r = Run.command([Run.bpstune, "diff", "hft", "--state-dir", state.path + "/s"])
    if current == "50" {
      #expect(r.stdout.contains("= net.core.busy_read"), "\(r)")
    } else {
      #expect(r.status == 1, "\(r)")
      #expect(r.stdout.contains("net.core.busy_read") && r.stdout.contains("\(current) -> 50"), "\(r)")
    }
    // hft tunes eth0's NIC: what diff says of GRO agrees with `ethtool -k eth0` (read only).
    if FileManager.default.fileExists(atPath: "/sys/class/net/eth0") {
      let k = Run.command(["ethtool", "-k", "eth0"]).stdout
      let gro = k.split(separator: "\n").first { $0.hasPrefix("generic-receive-offload:") }
      if gro?.hasSuffix(": on") == true {
        #expect(r.stdout.contains("~ features") && r.stdout.contains("rx-gro: on -> off"), "\(r)")
      } else if gro?.hasSuffix(": off") == true {
        #expect(r.stdout.contains("= features"), "\(r)")
      }
    } else {
      #expect(r.status == 2 && r.stderr.contains("interface eth0 does not exist"), "\(r)")
    }
    // diff changes nothing and writes no state.
    #expect(!FileManager.default.fileExists(atPath: state.path + "/s"))
    #expect(try String(contentsOfFile: "/proc/sys/net/core/busy_read", encoding: .utf8).hasPrefix(current))
  }

  /// Which coalescing fields the host NIC supports (ethtool netlink, read only) agrees with the
  /// fields `ethtool -c eth0` prints as n/a. Nothing is written: only `diff` runs.
  @Test(
    .enabled(
      if: Run.command(["ethtool", "-c", "eth0"]).status == 0, "the host has no eth0 with coalescing to compare with"))
  func coalesceSupportAgreesWithEthtool() throws {
    let c = Run.command(["ethtool", "-c", "eth0"])
    var ethtoolNA = Set<String>()
    for line in c.stdout.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if line.hasPrefix("Adaptive RX:") {
        // "Adaptive RX: off  TX: n/a"
        let words = line.split(separator: " ")
        if words.count > 2 && words[2] == "n/a" { ethtoolNA.insert("adaptive-rx") }
        if words.last == "n/a" { ethtoolNA.insert("adaptive-tx") }
      } else if parts.count == 2 && parts[1] == "n/a" && !parts[0].hasPrefix("CQE") {
        // ethtool prints "rx-frame-low" for the rx-frames-low field.
        ethtoolNA.insert(parts[0].replacingOccurrences(of: "-frame-", with: "-frames-"))
      }
    }
    let fields = [
      "rx-usecs", "rx-frames", "rx-usecs-irq", "rx-frames-irq", "tx-usecs", "tx-frames", "tx-usecs-irq",
      "tx-frames-irq", "stats-block-usecs", "adaptive-rx", "adaptive-tx", "pkt-rate-low", "rx-usecs-low",
      "rx-frames-low", "tx-usecs-low", "tx-frames-low", "pkt-rate-high", "rx-usecs-high", "rx-frames-high",
      "tx-usecs-high", "tx-frames-high", "sample-interval",
    ]
    let work = TemporaryDirectory("bpstune-ro")
    let p = work.write(
      "c.profile",
      "[[interface]]\nname = \"eth0\"\ncoalesce = { "
        + fields.map { $0.hasPrefix("adaptive") ? "\($0) = true" : "\($0) = 7" }.joined(separator: ", ") + " }\n")
    let r = Run.command([Run.bpstune, "diff", p, "--no-color", "--state-dir", work.path + "/s"])
    func unsupported(_ quirk: Bool) -> Set<String> {
      Set(
        r.stdout.split(separator: "\n").compactMap { line -> String? in
          guard line.contains("! coalesce."), line.contains("not supported") || line.contains("must be"),
            line.contains("VIRTIO_NET_F_") == quirk
          else { return nil }
          return line.split(separator: " ").first { $0.hasPrefix("coalesce.") }.map { String($0.dropFirst(9)) }
        })
    }
    #expect(!ethtoolNA.isEmpty && unsupported(false) == ethtoolNA, "\(r)\nethtool says n/a: \(ethtoolNA.sorted())")
    // virtio_net takes usecs and frames other than 1 only from a device with notification
    // coalescing (feature bit 53 or 52 of device/features, read here with cat).
    let features = Array(Run.command(["cat", "/sys/class/net/eth0/device/features"]).stdout)
    let driver = Run.command(["ethtool", "-i", "eth0"]).stdout
    if driver.contains("driver: virtio_net") && features.count > 53 && features[53] == "0" && features[52] == "0" {
      #expect(unsupported(true).isSuperset(of: ["rx-usecs", "tx-usecs", "rx-frames", "tx-frames"]), "\(r)")
    } else {
      #expect(!unsupported(true).contains("rx-usecs"), "\(r)")
    }
  }

  @Test func jsonOutputHasSchema1() throws {
    let r = Run.command([Run.bpstune, "diff", "hft", "--format", "json"])
    let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    #expect(doc?["schema"] as? Int == 1)
    #expect((doc?["settings"] as? [[String: Any]])?.contains { $0["name"] as? String == "net.core.busy_read" } == true)
  }
}
