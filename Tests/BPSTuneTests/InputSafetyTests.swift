import Foundation
import SystemPackage
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// What bpstune does with hostile names, paths and files before anything reaches a file it
/// writes, a line it prints or the kernel: escaping, the one serializer of the record and the
/// udev rule, whose files root trusts, the file system a kernel key lies on, and the instance
/// names systemd hands the interface unit.
@Suite struct InputSafetyTests {
  let kernel = FakeKernel()
  let profiles = TemporaryDirectory("bpstune-profiles")

  func profile(_ text: String, name: String = "p") throws -> Profile {
    profiles.write("\(name).profile", text)
    return try ProfileLoader(source: ProfileSource(searchPath: [profiles.path])).load(name)
  }

  // MARK: Escaping

  @Test(arguments: [
    ("eth0", "eth0"), ("v\u{1b}[31m", "v\\x1B[31m"), ("a\nb", "a\\nb"), ("a\rb\tc", "a\\rb\\tc"),
    ("del\u{7f}", "del\\x7F"), ("csi\u{9b}2J", "csi\\u{9B}2J"), ("line\u{2028}sep", "line\\u{2028}sep"),
    ("naïve ü", "naïve ü"),
  ])
  func controlCharactersAreEscapedAndNothingElse(raw: String, shown: String) {
    #expect(Printable.escaped(raw) == shown)
    // What is printed holds no control character itself, whatever the input held.
    #expect(Printable.controlCharacter(in: Printable.escaped(raw)) == nil)
  }

  /// A key is written bare only when TOML reads it as that one key; anything else is quoted
  /// (a dot would make two keys, a space or `=` end it), and a variable's name is a bare key.
  @Test func onlyBareKeysAreWrittenBare() {
    for key in ["busy-poll", "rx_usecs", "X9", "a-b_c-0"] {
      #expect(ConfigText.tomlKey(key) == key && ProfileLoader.isVariableName(key))
    }
    for key in ["", "a.b", "a b", "a=b", "@", "[", "`", "{", "\u{e9}", "a\nb", "a\"b"] {
      #expect(ConfigText.tomlKey(key) == ConfigText.tomlString(key) && !ProfileLoader.isVariableName(key), "\(key)")
    }
  }

  @Test func aReportKeepsItsLinesAndOnlyItsOwnColours() {
    let report = "system\n\t\u{1b}[33m~ x\u{1b}[0m \u{1b}[2Jv\u{1b}]0;title\u{7}\u{1b}[31m"
    #expect(
      Printable.terminalSafe(report, colour: true)
        == "system\n\t\u{1b}[33m~ x\u{1b}[0m \\x1B[2Jv\\x1B]0;title\\x07\u{1b}[31m")
    #expect(!Printable.terminalSafe(report, colour: false).unicodeScalars.contains("\u{1b}"))
  }

  @Test func settingNamesAndValuesFromTheKernelPrintEscaped() {
    let id = SettingID(kind: .netdev, interface: "v\u{1b}[2J", queue: "rx-0", key: "rps-cpus")
    #expect(id.description == "v\\x1B[2J rx-0 rps-cpus")
    #expect(ValueSemantics.text.display("a\u{1b}b") == "a\\x1Bb")
    #expect(BPSTuneError.usage("-i \u{1b}[31m\nx").description == "-i \\x1B[31m\\nx")
  }

  // MARK: The record and the udev rule

  @Test func theRecordsStringsCannotEndEarly() throws {
    let dir = TemporaryDirectory("bpstune-record")
    for text in ["a\"b", "back\\slash", "new\nline\n[set]\nx = 1", "esc\u{1b}[31m", "cr\rx", "del\u{7f}", "c1\u{85}"] {
      let quoted = ConfigText.tomlString(text)
      #expect(!quoted.unicodeScalars.contains { Printable.isControl($0) }, "\(quoted)")
      // The record stays valid TOML with the keys it was written with; a string holding a
      // control character is then refused by name, never taken for something else.
      let path = dir.path + "/enabled.toml"
      try EnabledRecord(profile: text, interface: "eth0").save(path)
      #expect((try? ProfileSource.parse(path, trust: .unchecked)) != nil, "\(dir.read("enabled.toml") ?? "")")
      let loaded = Result { try EnabledRecord.load(path, trust: .unchecked) }
      switch loaded {
      case .success(let record): #expect(record?.profile == text && record?.interface == "eth0")
      case .failure(let error): #expect("\(error)".contains("control character"), "\(error)")
      }
    }
  }

  /// A comment is one line whatever its text holds, and its escapes mean one thing each: a
  /// backslash of the text is doubled, so a written `\n` is not taken for a newline.
  @Test func aCommentIsOneLineAndSaysWhatItsTextHolds() {
    #expect(ConfigText.comment("plain") == "# plain")
    #expect(ConfigText.comment("a\nb") == #"# a\nb"#)
    #expect(ConfigText.comment(#"a\nb"#) == #"# a\\nb"#)
    #expect(ConfigText.comment("do\\main\u{1b}[31m\\") == #"# do\\main\x1B[31m\\"#)
    #expect(ConfigText.comment("c1\u{85}\u{2028}") == #"# c1\u{85}\u{2028}"#)
    let texts = ["a\nb", #"a\nb"#, "x\u{1b}", #"x\x1B"#, "t\t", #"t\t"#, #"\"#, #"\\"#]
    let comments = texts.map(ConfigText.comment)
    #expect(Set(comments).count == texts.count, "\(comments)")
    #expect(comments.allSatisfy { !$0.unicodeScalars.contains { Printable.isControl($0) } }, "\(comments)")
  }

  @Test func theUdevRuleHasOneLinePerInterfaceWhateverTheNames() throws {
    var p = try profile("[[interface]]\nname = \"eth0\"\nnapi-defer-hard-irqs = 1\n")
    p.name = "x\nSUBSYSTEM==\"block\", MODE=\"0666\"\n#"
    p.interfaces = ["eth0", "v\"1", "v\\x", "v|1", "v\u{1b}", "ens*"].map {
      var block = p.interfaces[0]
      block.name = $0
      return block
    }
    let rule = Persistence.udevRule(for: p)
    let lines = rule.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 8, "\(rule)")
    #expect(lines[0].hasPrefix("# Written by `bpstune enable` for profile x\\nSUBSYSTEM"))
    let patterns = lines.filter { !$0.hasPrefix("#") }.map { $0.split(separator: ",")[2] }
    #expect(
      patterns == [
        " KERNEL==\"eth0\"", " KERNEL==\"v?1\"", " KERNEL==\"v?x\"", " KERNEL==\"v?1\"", " KERNEL==\"v?\"",
        " KERNEL==\"ens*\"",
      ])
    #expect(!rule.unicodeScalars.contains { Printable.isControl($0) && $0 != "\n" })
  }

  @Test(arguments: [
    ("eth0", ["eth0"], "eth0"), ("eth0\\x2b", ["eth0+"], "eth0+"), ("v-1", ["v-1"], "v-1"),
    ("v\\x7c1", [], "v|1"), ("v\\x1b\\x5b31m", [], "v\u{1b}[31m"), ("v\\x2b", ["v\\x2b"], "v\\x2b"),
    ("v\\x2b", ["v+", "v\\x2b"], "v+"), ("odd\\x2", [], "odd\\x2"), ("a@b.c:d", [], "a@b.c:d"),
  ])
  func theInterfaceUnitDecodesSystemdsMangling(instance: String, existing: [String], name: String) {
    #expect(Persistence.interfaceName(instance: instance, existing: existing) == name)
  }

  // MARK: Whose files root reads

  func status(mode: Int, owner: UInt32, directory: Bool = false) throws -> Stat {
    let path = profiles.path + "/s-\(mode)-\(owner)-\(directory)"
    if directory { mkdir(path, 0o755) } else { profiles.write(String(path.dropFirst(profiles.path.count + 1)), "") }
    chmod(path, mode_t(mode))
    chown(path, owner, owner)
    return try Stat(FilePath(path), followTargetSymlink: false)
  }

  @Test(.enabled(if: geteuid() == 0, "chown needs root"))
  func theTrustRulesOfFilesAndDirectories() throws {
    let root = ProfileTrust.notWritableByOthers(owners: [0])
    let sudo = ProfileTrust.notWritableByOthers(owners: [0, 1000])
    #expect(root.rejection(try status(mode: 0o644, owner: 0), directory: false) == nil)
    #expect(root.rejection(try status(mode: 0o600, owner: 0), directory: false) == nil)
    #expect(
      root.rejection(try status(mode: 0o666, owner: 0), directory: false) == "writable by group or others (mode 666)")
    #expect(root.rejection(try status(mode: 0o620, owner: 0), directory: false)?.hasPrefix("writable") == true)
    #expect(root.rejection(try status(mode: 0o644, owner: 1000), directory: false) == "owned by uid 1000, not by root")
    #expect(sudo.rejection(try status(mode: 0o644, owner: 1000), directory: false) == nil)
    #expect(
      ProfileTrust.rootOwned.rejection(try status(mode: 0o644, owner: 1000), directory: false)?.contains(
        "take only root's files") == true)
    #expect(root.rejection(try status(mode: 0o1777, owner: 0, directory: true), directory: true) == nil)
    #expect(
      root.rejection(try status(mode: 0o777, owner: 0, directory: true), directory: true)
        == "writable by group or others (mode 777) without the sticky bit")
    #expect(ProfileTrust.unchecked.rejection(try status(mode: 0o666, owner: 1000), directory: false) == nil)
  }

  @Test func aNameIsLookedUpOnlyInTheSearchPathAndAPathIsAPath() throws {
    let source = ProfileSource(searchPath: [profiles.path])
    profiles.write("hft.profile", "")
    #expect(try source.locate("hft", relativeTo: "/elsewhere") == profiles.path + "/hft.profile")
    #expect(try source.locate("hft.profile", relativeTo: "/elsewhere") == "/elsewhere/hft.profile")
    #expect(try source.locate("sub/x", relativeTo: "/w") == "/w/sub/x")
    #expect(try source.locate("/abs/x", relativeTo: "/w") == "/abs/x")
    #expect(try source.locate("absent", relativeTo: "/w") == nil)
    #expect(
      thrownText { try ProfileSource(searchPath: ["rel"]).locate("hft", relativeTo: "/") }?.contains(
        "\"rel\" is not an absolute directory") == true)
  }

  // MARK: The file system a kernel key lies on

  @Test(arguments: [
    ("[sysfs]\n\"kernel/debug/x\" = 1\n", "/sys/kernel/debug/x", Int64(0x6462_6720), "is on debugfs, not sysfs"),
    ("[sysfs]\n\"firmware/efi/efivars/Boot0000\" = 1\n", "/sys/firmware/efi/efivars/Boot0000", 0xde5e_81e4, "efivarfs"),
    ("[sysfs]\n\"kernel/config/x\" = 1\n", "/sys/kernel/config/x", 0x6265_6570, "configfs"),
    ("[sysfs]\n\"fs/bpf/x\" = 1\n", "/sys/fs/bpf/x", 0xcafe_4a11, "bpffs"),
    (
      "[sysctl]\n\"fs/binfmt_misc/register\" = \"x\"\n", "/proc/sys/fs/binfmt_misc/register", 0x4249_4e4d,
      "is on binfmt_misc, not procfs"
    ),
  ])
  func aKeyOnAnotherFileSystemIsRefusedAtPlanAndAtWrite(text: String, file: String, type: Int64, words: String) throws {
    kernel.set(file, "0")
    let host = KernelHost(root: kernel.root)
    host.fileSystemType = { path throws(SystemError) -> Int64 in
      path.hasSuffix(file) ? type : (path.contains("/proc/") ? 0x9fa0 : 0x6265_6572)
    }
    let p = try profile(text)
    #expect(thrownText { try Planner().plan(p, on: host) }?.contains(words) == true)
    let knob: any Knob = text.hasPrefix("[sysctl]") ? SysctlKnob() : SysfsKnob()
    let key = text.hasPrefix("[sysctl]") ? "fs.binfmt_misc.register" : String(file.dropFirst("/sys/".count))
    let id = SettingID(kind: knob.kind, key: key)
    #expect(thrownText { try knob.write(id, "1", on: host) }?.contains(words) == true)
    #expect(kernel.get(file) == "0")
  }
}

/// Every errno is named symbolically, as the kernel's headers name it (issue 27: a refused
/// connection printed "(errno 111)").
@Test(arguments: [(111, "ECONNREFUSED"), (110, "ETIMEDOUT"), (113, "EHOSTUNREACH"), (98, "EADDRINUSE"), (2, "ENOENT")])
func errnoValuesAreNamed(value: Int32, name: String) {
  #expect(Errno(rawValue: value).explained.hasSuffix("(\(name))"), "\(Errno(rawValue: value).explained)")
}

/// JSON reports stay JSON after the terminal filter, whatever a name holds (DEL and C1 from an
/// interface name, U+2028 from a profile): JSONEncoder leaves them raw, so they are escaped.
@Test func jsonWithControlCharactersStaysValidJSON() throws {
  let names = ["v\u{7f}x", "v\u{85}x", "p\u{2028}q", "plain", "ü\u{9b}31m"]
  let json = ReportJSON.encode(["names": names])
  let printed = Printable.terminalSafe(json, colour: false)
  let decoded = try JSONDecoder().decode([String: [String]].self, from: Data(printed.utf8))
  #expect(decoded["names"] == names, "\(printed)")
  // Prometheus label values likewise: one line, exposition-format escapes only.
  let label = VerifyReport.label("v\u{7f}\"\n\u{85}")
  #expect(label == "v\\\\x7F\\\"\\\\n\\\\u{85}", "\(label)")
}
