import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct OverwritersTests {
  let kernel = FakeKernel()
  let profiles = TemporaryDirectory("bpstune-profiles")

  init() {
    kernel.set("/proc/sys/net/core/busy_read", "0")
    kernel.set("/proc/sys/net/core/busy_poll", "0")
    kernel.addInterface("eth0")
  }

  func warnings(_ text: String) throws -> [String] {
    profiles.write("p.profile", text)
    let p = try ProfileLoader(source: ProfileSource(searchPath: [profiles.path])).load("p")
    return try Planner().plan(p, on: KernelHost(root: kernel.root)).warnings
  }

  @Test func sysctlFilesSettingAnotherValueAreNamedWithTheirLine() throws {
    kernel.dir.write("etc/sysctl.d/60-net.conf", "# tuning\nnet.core.busy_read = 0\n-net/core/busy_poll=50\n")
    kernel.dir.write("usr/lib/sysctl.d/50-default.conf", "net.core.* = 7\n")
    kernel.dir.write("etc/sysctl.conf", "; old\nnet.core.busy_read=25\n")
    let w = try warnings("[sysctl]\nnet.core.busy_read = 50\nnet.core.busy_poll = 50\n")
    #expect(w.contains { $0.hasPrefix("/etc/sysctl.d/60-net.conf:2 sets net.core.busy_read = 0") })
    // The same value is not a warning; "/" keys read as sysctl.d(5) says; globs match.
    #expect(!w.contains { $0.contains("60-net.conf:3") })
    #expect(w.contains { $0.contains("50-default.conf:1 sets net.core.busy_read = 7") })
    #expect(w.contains { $0.contains("50-default.conf:1 sets net.core.busy_poll = 7") })
    #expect(w.contains { $0.contains("etc/sysctl.conf:2 sets net.core.busy_read = 25") })
    #expect(w.count == 4)
  }

  @Test func tunedRunningWithAProfileIsNamed() throws {
    kernel.set("/run/tuned/tuned.pid", "4242")
    kernel.set("/proc/4242/comm", "tuned")
    kernel.dir.write("etc/tuned/active_profile", "network-latency\n")
    let w = try warnings("[sysctl]\nnet.core.busy_read = 50\n")
    #expect(w.contains { $0.hasPrefix("tuned (pid 4242) is running with profile network-latency") })
    // A stale pid file (the process is something else now) says nothing.
    kernel.set("/proc/4242/comm", "bash")
    #expect(try warnings("[sysctl]\nnet.core.busy_read = 50\n").isEmpty)
  }

  @Test func linkFilesThatSelectATunedInterfaceAndSetTheSameSettingsAreNamed() throws {
    kernel.dir.write(
      "etc/systemd/network/10-eth.link",
      "[Match]\nOriginalName=eth*\n[Link]\nRxBufferSize=4096\nGenericReceiveOffload=no\n")
    kernel.dir.write(
      "usr/lib/systemd/network/99-default.link",
      "[Match]\nOriginalName=*\n[Link]\nNamePolicy=keep\nMACAddressPolicy=persistent\n")
    kernel.dir.write(
      "etc/systemd/network/20-other.link", "[Match]\nOriginalName=ens9\n[Link]\nGenericReceiveOffload=no\n")
    let w = try warnings("[[interface]]\nname = \"eth0\"\nnapi-defer-hard-irqs = 3\nrps-cpus = \"1\"\n")
    #expect(w.isEmpty, "netdev sysfs settings are not .link keys (but for the RPS mask): \(w)")
    kernel.dir.write(
      "etc/systemd/network/10-eth.link", "[Match]\nOriginalName=eth*\n[Link]\nReceivePacketSteeringCPUMask=0\n")
    let w2 = try warnings("[[interface]]\nname = \"eth0\"\nrps-cpus = \"1\"\n")
    #expect(
      w2 == [
        "/etc/systemd/network/10-eth.link selects eth0 and sets ReceivePacketSteeringCPUMask; udev applies it whenever eth0 appears (bpstune-interface@eth0.service runs after)"
      ])
  }
}
