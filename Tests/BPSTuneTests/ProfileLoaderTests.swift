import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct ProfileLoaderTests {
  let dir = TemporaryDirectory("bpstune-profiles")

  func loader() -> ProfileLoader { ProfileLoader(source: ProfileSource(searchPath: [dir.path])) }

  func load(_ text: String, overrides: [String: String] = [:], interface: String? = nil) throws(BPSTuneError) -> Profile
  {
    dir.write("p.profile", text)
    return try loader().load("p", overrides: overrides, interface: interface)
  }

  @Test func dottedAndQuotedSysctlKeysMeanTheSameName() throws {
    let p = try load(
      """
      [sysctl]
      net.core.busy_read = 50
      "net.core.busy_poll" = 50
      "kernel/timer_migration" = false
      """)
    #expect(p.sections["sysctl"]!.map(\.key) == ["kernel.timer_migration", "net.core.busy_poll", "net.core.busy_read"])
  }

  @Test func theSameSysctlTwiceIsAnError() {
    #expect(throws: BPSTuneError.self) {
      try load(
        """
        [sysctl]
        net.core.busy_read = 50
        "net.core.busy_read" = 10
        """)
    }
  }

  @Test func variablesExpandWithOverrides() throws {
    let p = try load(
      """
      [variables]
      iface = "eth0"
      cpus = "2"
      [[interface]]
      name = "${iface}"
      rps-cpus = "${cpus},3"
      """, overrides: ["cpus": "1"], interface: "ens1")
    #expect(p.interfaces[0].name == "ens1")
    #expect(p.interfaces[0].settings[0].value == .string("1,3"))
  }

  /// `profiles show`'s variables (default, file, value, uses) are worked out when asked: a
  /// loaded profile, which every command makes, carries no table of them. (Before, each load
  /// walked every setting again for the uses and stored the result.)
  @Test func variableUsesAreWorkedOutOnlyWhenAsked() throws {
    dir.write("base.profile", "[variables]\nhk = \"0\"\n[sysfs]\n\"devices/virtual/workqueue/cpumask\" = \"${hk}\"\n")
    let p = try load(
      """
      [profile]
      include = ["base"]
      [variables]
      iface = "eth0"
      cpus = "${hk},1"
      [[interface]]
      name = "${iface}"
      rps-cpus = "${cpus}"
      """, overrides: ["cpus": "1"], interface: "ens1")
    let stored = Mirror(reflecting: p).children.filter { $0.value is [VariableInfo] }.map { $0.label ?? "?" }
    #expect(stored.isEmpty, "a loaded profile holds \(stored)")
    #expect(p.interface == "ens1")
    let info = p.variableInfo.map { "\($0.name)=\($0.value ?? "-") (\($0.defaultValue ?? "-")) \($0.usedBy)" }
    #expect(
      info == [
        "cpus=1 (${hk},1) [\"interface[0].rps-cpus\"]",
        "hk=0 (0) [\"sysfs.devices/virtual/workqueue/cpumask\", \"variables.cpus\"]",
        "iface=ens1 (eth0) [\"interface[0].name\"]",
      ], "\(info)")
    #expect(p.variableInfo.first { $0.name == "hk" }?.definedIn == dir.path + "/base.profile")
  }

  @Test func includesMergeKeyByKeyAndTheIncluderWins() throws {
    dir.write(
      "base.profile",
      """
      [variables]
      iface = "eth0"
      [sysctl]
      net.core.busy_read = 10
      net.core.busy_poll = 10
      [[interface]]
      name = "${iface}"
      threaded = true
      napi-defer-hard-irqs = 5
      features = { gro = false, lro = false }
      """)
    let p = try load(
      """
      [profile]
      include = ["base"]
      [sysctl]
      net.core.busy_read = 50
      [[interface]]
      name = "${iface}"
      napi-defer-hard-irqs = 100
      features = { lro = true, tso = false }
      """)
    let sysctl = Dictionary(uniqueKeysWithValues: p.sections["sysctl"]!.map { ($0.key, $0.value) })
    #expect(sysctl == ["net.core.busy_read": .integer(50), "net.core.busy_poll": .integer(10)])
    #expect(p.interfaces.count == 1)
    let settings = Dictionary(uniqueKeysWithValues: p.interfaces[0].settings.map { ($0.key, $0.value) })
    #expect(
      settings == [
        "threaded": .bool(true), "napi-defer-hard-irqs": .integer(100),
        "features": .table(["gro": .bool(false), "lro": .bool(true), "tso": .bool(false)]),
      ])
    #expect(p.files.count == 2)
  }

  @Test func includeCyclesAreErrors() {
    dir.write("a.profile", "[profile]\ninclude = [\"b\"]\n")
    dir.write("b.profile", "[profile]\ninclude = [\"a.profile\"]\n")
    #expect(
      thrownText { try loader().load("a") }?.contains("include cycle: a.profile -> b.profile -> a.profile") == true)
  }

  @Test func includeChainsDeeperThanTheLimitAreErrors() {
    for i in 0...ProfileLoader.includeDepthLimit {
      dir.write("d\(i).profile", "[profile]\ninclude = [\"d\(i + 1)\"]\n")
    }
    dir.write("d\(ProfileLoader.includeDepthLimit + 1).profile", "")
    #expect(thrownText { try loader().load("d0") }?.contains("includes nest deeper than 16 levels") == true)
  }

  /// Malformed profiles: each is refused with exit 2 and a message naming the key.
  @Test(arguments: [
    ("[sysctl]\nnet.core.busy_read = \"fast\"\n", "sysctl.net.core.busy_read", "whole number"),
    ("[sysctl]\nnet.core.busy_read = -5\n", "sysctl.net.core.busy_read", "out of range"),
    ("[sysctl]\nnet.core.busy_poll = 3000000000\n", "sysctl.net.core.busy_poll", "out of range"),
    ("[sysctl]\n\"net/../../etc/x\" = 1\n", "sysctl.net/../../etc/x", ". or .."),
    ("[sysctl]\nkernel.timer_migration = 2\n", "sysctl.kernel.timer_migration", "out of range"),
    ("[sysctl]\nnet.core.x = 1.5\n", "sysctl.net.core.x", "expected an integer"),
    ("[sysctls]\nx = 1\n", "sysctls", "did you mean sysctl?"),
    ("[sysfs]\n\"/etc/passwd\" = \"x\"\n", "sysfs./etc/passwd", "relative to /sys"),
    ("[sysfs]\n\"class/../../etc/passwd\" = \"x\"\n", "sysfs.class/../../etc/passwd", ". or .."),
    ("[sysfs]\n\"devices/system/cpu/smt/control\" = \"of\"\n", "smt/control", "did you mean off?"),
    ("[[interface]]\nname = \"eth0\"\nthreded = true\n", "interface[0].threded", "did you mean threaded?"),
    ("[[interface]]\nname = \"eth0\"\nirq-affinity = { cpu = \"0\" }\n", "irq-affinity.cpu", "did you mean cpus?"),
    ("[irq]\ndefault-affinty = \"0\"\n", "irq.default-affinty", "did you mean default-affinity?"),
    (
      "[irq]\ndefault-affinity = \"@local\"\n", "irq.default-affinity",
      "@local needs an interface; use it in [[interface]] blocks"
    ),
    ("[irq]\nirq-affinity = \"0\"\n", "irq.irq-affinity", "unknown [irq] key: irq-affinity is a key of [[interface]]"),
    ("[[interface]]\nname = \"eth0\"\ncoalesce = { rx-usec = 100 }\n", "coalesce.rx-usec", "did you mean rx-usecs?"),
    ("[[interface]]\nname = \"eth0\"\ncoalesce = { rx-usecs = -1 }\n", "coalesce.rx-usecs", "out of range"),
    ("[[interface]]\nname = \"eth0\"\ncoalesce = { rx-usecs = \"1.5us\" }\n", "rx-usecs", "whole number of µs"),
    (
      "[[interface]]\nname = \"eth0\"\ncoalesce = { sample-interval = \"500ms\" }\n", "sample-interval",
      "\"500ms\" is not a whole number of s"
    ),
    ("[[interface]]\nname = \"eth0\"\ncoalesce = { adaptive-rx = \"sometimes\" }\n", "adaptive-rx", "true/false"),
    ("[[interface]]\nname = \"eth0\"\ncoalesce = 100\n", "interface[0].coalesce", "expected a table"),
    ("[[interface]]\nname = \"eth0\"\nring = {}\n", "interface[0].ring", "names no rings field"),
    ("[[interface]]\nname = \"eth0\"\nring = { rx = 5000000000 }\n", "ring.rx", "out of range"),
    ("[[interface]]\nname = \"eth0\"\nchannels = { combind = 1 }\n", "channels.combind", "did you mean combined?"),
    ("[[interface]]\nname = \"eth0\"\nfeatures = { gro = 2 }\n", "features.gro", "true/false"),
    ("[[interface]]\nname = \"eth0\"\nfeatures = { \"g ro\" = false }\n", "features.g ro", "not a feature name"),
    ("[[interface]]\nthreaded = true\n", "interface[0].name", "needs a name"),
    ("[[interface]]\nname = \"../eth0\"\nthreaded = true\n", "interface[0].name", "not a valid interface name"),
    ("[[interface]]\nname = \"averyveryverylongname\"\nthreaded = 1\n", "interface[0].name", "longer than 15"),
    ("[[interface]]\nname = \"eth0\"\nthreaded = \"maybe\"\n", "interface[0].threaded", "true/false"),
    ("[[interface]]\nname = \"eth0\"\nrps-cpus = \"0-x\"\n", "interface[0].rps-cpus", "not a CPU set"),
    ("[[interface]]\nname = \"eth0\"\nrps-cpus = \"@locale\"\n", "interface[0].rps-cpus", "did you mean @local?"),
    ("[[interface]]\nname = \"eth0\"\ngro-flush-timeout = \"1.5ns\"\n", "gro-flush-timeout", "whole number of ns"),
    ("[[interface]]\nname = \"${nope}\"\nthreaded = true\n", "interface[0].name", "undefined variable ${nope}"),
    ("[profile]\ndescriptin = \"x\"\n", "profile.descriptin", "did you mean description?"),
    ("[profile]\ninclude = [\"missing\"]\n", "profile.include[0]", "no profile \"missing\""),
    ("[variables]\na = \"${b}\"\nb = \"${a}\"\n", "variables.", "variable cycle"),
    ("[variables]\nx = [1]\n", "variables.x", "string or an integer"),
    ("[sysctl\nx=1\n", "p.profile:1", "not valid TOML"),
  ])
  func malformedProfilesNameTheKey(text: String, key: String, message: String) {
    #expect {
      try load(text)
    } throws: { error in
      let e = error as! BPSTuneError
      let line = e.description
      return e.exitCode == 2 && line.contains(key) && line.contains(message) && !line.contains("\n")
        && line.contains("p.profile")
    }
  }

  @Test func unknownOverridesAndUnusedInterfaceAreErrors() {
    #expect(throws: BPSTuneError.self) { try load("[variables]\niface = \"x\"\n", overrides: ["ifcae": "y"]) }
    #expect(throws: BPSTuneError.self) { try load("[sysctl]\nnet.core.busy_read = 1\n", interface: "eth0") }
  }

  @Test func refusesNonUTF8AndOversizedFiles() {
    dir.write("bad.profile", "")
    let bytes: [UInt8] = Array("[sysctl]\nx = \"".utf8) + [0xFF, 0xFE] + Array("\"\n".utf8)
    FileManagerWrite.write(dir.path + "/bad.profile", bytes)
    #expect { try loader().load("bad") } throws: { "\($0)".contains("not UTF-8") }
    dir.write("big.profile", "# " + String(repeating: "x", count: ProfileSource.sizeLimit) + "\n")
    #expect { try loader().load("big") } throws: { "\($0)".contains("profile limit") }
  }

  @Test func builtInProfilesLoad() throws {
    let builtIn = ProfileLoader(source: ProfileSource(searchPath: [Run.profiles]))
    let names = builtIn.source.available().map(\.name)
    #expect(Set(names).isSuperset(of: ["hft", "so-busy-poll", "interrupts", "napi-busy-poll", "napi-threaded"]))
    for name in names {
      let p = try builtIn.load(name)
      #expect(p.description != nil)
    }
    let hft = try builtIn.load("hft")
    #expect(hft.sections["sysctl"]!.contains { $0.key == "net.core.busy_read" && $0.value == .integer(50) })
  }
}
