import Foundation
import TestSupport
import Testing

/// A state directory bpstune cannot write (a full or a read-only file system) stops apply
/// before the first kernel write: exit 2, one line naming the directory and the errno, the
/// namespace's values unchanged (cat, ethtool).
@Suite(.enabled(if: geteuid() == 0, "the host tier needs root for mounts and network namespaces"))
struct StateDirectoryTests {
  let work = TemporaryDirectory("bpstune-statedir")

  func profile(_ ns: NetworkNamespace) -> String {
    work.write(
      "t.profile",
      """
      [sysctl]
      net.core.somaxconn = 1234
      [[interface]]
      name = "\(ns.a)"
      rps-cpus = "1"
      features = { gro = false }
      """)
  }

  func values(_ ns: NetworkNamespace) -> String {
    ns.cat("/proc/sys/net/core/somaxconn") + " " + ns.cat("/sys/class/net/\(ns.a)/queues/rx-0/rps_cpus") + "\n"
      + ns.run(["ethtool", "-k", ns.a]).stdout
  }

  func expectRefused(_ ns: NetworkNamespace, state: String, errno: String, before: String) {
    let apply = ns.bpstune(["apply", profile(ns)], stateDir: state)
    let lines = apply.stderr.split(separator: "\n")
    #expect(apply.status == 2, "\(apply)")
    #expect(
      lines.count == 1 && apply.stderr.contains("state directory \(state)") && apply.stderr.contains(errno)
        && apply.stderr.hasSuffix("nothing was changed\n"), "\(apply)")
    #expect(values(ns) == before, "the namespace changed")
  }

  @Test func aFullStateDirectoryStopsApplyBeforeAnyKernelWrite() throws {
    let ns = try NetworkNamespace(gro: true)
    let before = values(ns)
    let mount = try TemporaryMount(options: "size=64k,mode=0700")
    // Fill it: dd stops at ENOSPC.
    Run.command(["dd", "if=/dev/zero", "of=\(mount.path)/fill", "bs=4k"])
    expectRefused(ns, state: mount.path + "/state", errno: "ENOSPC", before: before)
  }

  @Test func aReadOnlyStateDirectoryStopsApplyBeforeAnyKernelWrite() throws {
    let ns = try NetworkNamespace(gro: true)
    let before = values(ns)
    let mount = try TemporaryMount(options: "size=1m,mode=0700,ro")
    expectRefused(ns, state: mount.path + "/state", errno: "EROFS", before: before)
    // A state directory made earlier, on a file system remounted read-only since.
    let earlier = try TemporaryMount(options: "size=1m,mode=0700")
    let dry = ns.bpstune(["snapshots", "list"], stateDir: earlier.path + "/state")
    #expect(dry.status == 0)
    try FileManager.default.createDirectory(
      atPath: earlier.path + "/state/snapshots", withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700])
    chmod(earlier.path + "/state", 0o700)
    earlier.remount("ro")
    expectRefused(ns, state: earlier.path + "/state", errno: "EROFS", before: before)
  }
}
