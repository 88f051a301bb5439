import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct PersistencePartsTests {
  let kernel = FakeKernel()
  let profiles = TemporaryDirectory("bpstune-profiles")

  func profile(_ text: String) throws -> Profile {
    profiles.write("p.profile", text)
    return try ProfileLoader(source: ProfileSource(searchPath: [profiles.path])).load("p")
  }

  static let text = """
    [sysctl]
    net.core.busy_read = 50
    [[interface]]
    name = "eth0"
    napi-defer-hard-irqs = 3
    [[interface]]
    name = "ens*"
    gro-flush-timeout = "20us"
    """

  @Test func anInterfacesUnitTakesEveryMatchingBlockAndNothingElse() throws {
    let p = try profile(Self.text)
    let eth0 = try #require(Persistence.only(p, interface: "eth0"))
    #expect(eth0.sections.isEmpty && eth0.interfaces.map(\.name) == ["eth0"])
    let ens = try #require(Persistence.only(p, interface: "ens1f0"))
    #expect(ens.interfaces.map(\.name) == ["ens1f0"] && ens.interfaces[0].settings.map(\.key) == ["gro-flush-timeout"])
    #expect(Persistence.only(p, interface: "lo") == nil)
  }

  @Test func theBootUnitLeavesAbsentAndDownInterfacesToTheirUnit() throws {
    kernel.addInterface("ens3")
    kernel.set("/sys/class/net/ens3/flags", "0x1003")
    kernel.addInterface("ens4")
    kernel.set("/sys/class/net/ens4/flags", "0x1002")
    let p = try profile(Self.text)
    let (part, deferred) = Persistence.present(p, on: KernelHost(root: kernel.root))
    #expect(deferred == ["eth0 (absent)", "ens4 (down)"])
    #expect(part.interfaces.map(\.name) == ["ens3"] && part.interfaces[0].settings.map(\.key) == ["gro-flush-timeout"])
    #expect(part.sections == p.sections)
  }

  @Test func theUdevRuleNamesTheProfilesInterfaces() throws {
    let rule = try Persistence.udevRule(for: try profile(Self.text))
    let lines = rule.split(separator: "\n").filter { !$0.hasPrefix("#") }
    #expect(
      lines == [
        "ACTION==\"add|move\", SUBSYSTEM==\"net\", KERNEL==\"eth0\", TAG+=\"systemd\", ENV{SYSTEMD_WANTS}+=\"bpstune-interface@%k.service\"",
        "ACTION==\"add|move\", SUBSYSTEM==\"net\", KERNEL==\"ens*\", TAG+=\"systemd\", ENV{SYSTEMD_WANTS}+=\"bpstune-interface@%k.service\"",
      ])
  }
}
