import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// Which privileges a writing command asks for, from the profile or snapshot alone.
@Suite struct PrivilegeNeedsTests {
  let dir = TemporaryDirectory()

  func needed(_ text: String) throws -> Set<Privilege> {
    let path = dir.write("p.profile", text)
    return Privilege.needed(for: try ProfileLoader(source: ProfileSource(searchPath: [])).load(path))
  }

  @Test func eachKindAsksForWhatTheKernelChecks() throws {
    #expect(try needed("[sysctl]\nnet.core.busy_read = 50\n[sysfs]\n\"kernel/mm/x\" = 1\n") == [.root])
    #expect(try needed("[[interface]]\nname = \"eth0\"\ncoalesce = { rx-usecs = 5 }\n") == [.root, .netAdmin])
    #expect(try needed("[[interface]]\nname = \"eth0\"\nrps-cpus = \"1\"\n") == [.root, .netAdmin])
    #expect(
      try needed("[[interface]]\nname = \"eth0\"\n[interface.napi]\nthreaded = \"enabled\"\n") == [.root, .netAdmin])
    #expect(
      try needed("[[interface]]\nname = \"eth0\"\n[interface.napi]\nkthread = { policy = \"fifo\", priority = 5 }\n")
        == [.root, .netAdmin, .sysNice])
    #expect(try needed("[[interface]]\nname = \"eth0\"\nirq-affinity = \"0\"\n") == [.root])
  }

  @Test func whatIsMissingIsNamed() {
    let all: Set<Privilege> = [.root, .netAdmin, .sysNice]
    let netAdmin: UInt64 = 1 << 12
    let sysNice: UInt64 = 1 << 23
    #expect(Privilege.missing(all, userID: 0, capabilities: netAdmin | sysNice).isEmpty)
    #expect(Privilege.missing(all, userID: 0, capabilities: netAdmin) == [.sysNice])
    #expect(Privilege.missing(all, userID: 1000, capabilities: 0) == [.root, .netAdmin, .sysNice])
    let message = thrownText {
      try Privilege.require([.root, .sysNice], for: "apply", userID: 0, capabilities: netAdmin)
    }
    #expect(
      message
        == "apply needs CAP_SYS_NICE for NAPI kthread scheduling and CPUs; this root process lacks it (a container or a dropped capability?); run it with sudo, as full root (diff, verify and show work unprivileged); nothing was changed"
    )
  }
}
