import Foundation
import TestSupport
import Testing

/// Every file of the hostile-input corpus (Tests/Corpus) given to the built bpstune, as users
/// would: a profile to `apply`, a snapshot to `rollback` and `snapshots show`. Each must be
/// refused with exit 2 and one line naming the problem (Tests/Corpus/expected.txt), with the
/// tree laid out like /proc and /sys byte-for-byte as before and no snapshot written.
@Suite struct CorpusTests {
  static let corpus: String = {
    var path = #filePath
    for _ in 0..<2 { path = (path as NSString).deletingLastPathComponent }
    return path + "/Corpus"
  }()

  /// "profiles/x.profile" -> the words its refusal must contain.
  static let expected: [String: String] = {
    let text = (try? String(contentsOfFile: corpus + "/expected.txt", encoding: .utf8)) ?? ""
    var result: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      result[String(line[..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
    }
    return result
  }()

  static func files(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: corpus + "/" + directory)) ?? []).sorted()
      .map { "\(directory)/\($0)" }
  }

  let kernel: FakeKernel = {
    let k = FakeKernel()
    k.set("/proc/sys/net/core/busy_read", "0")
    k.set("/proc/sys/net/core/somaxconn", "4096")
    k.addInterface("eth0", rx: 2, tx: 2)
    k.addInterface("va", rx: 2, tx: 2)
    return k
  }()
  let work = TemporaryDirectory("bpstune-corpus")

  /// Every file below `root` with its mode and content.
  static func tree(_ root: String) -> [String: String] {
    var result: [String: String] = [:]
    let fm = FileManager.default
    for relative in (fm.subpaths(atPath: root) ?? []) {
      let path = root + "/" + relative
      let mode = ((try? fm.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
      let content = fm.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "<dir>"
      result[relative] = "\(String(mode, radix: 8)) \(content)"
    }
    return result
  }

  func checkRefused(_ name: String, _ finished: Finished, before: [String: String]) {
    let lines = finished.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(finished.status == 2, "\(name): \(finished)")
    #expect(lines.count == 1 && lines[0].hasPrefix("bpstune: "), "\(name): one line: \(finished.stderr)")
    let words = Self.expected[name] ?? "<no expectation in expected.txt>"
    #expect(finished.stderr.contains(words), "\(name): expected \"\(words)\" in: \(finished.stderr)")
    #expect(Self.tree(kernel.root) == before, "\(name): the tree changed")
  }

  @Test func everyCorpusFileHasAnExpectationAndEveryExpectationAFile() {
    let files = Set(Self.files("profiles") + Self.files("snapshots"))
    #expect(files.count > 80)
    #expect(files == Set(Self.expected.keys))
  }

  @Test(arguments: files("profiles"))
  func hostileProfileIsRefusedAndNothingIsWritten(_ name: String) {
    let before = Self.tree(kernel.root)
    let state = work.path + "/state"
    let apply = Run.command(
      [Run.bpstune, "apply", Self.corpus + "/" + name, "--root", kernel.root, "--state-dir", state],
      cwd: Self.corpus + "/profiles")
    checkRefused(name, apply, before: before)
    let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")) ?? []
    #expect(snapshots.isEmpty, "\(name): a snapshot was written: \(snapshots)")
  }

  @Test(arguments: files("snapshots"))
  func hostileSnapshotIsRefusedAndNothingIsWritten(_ name: String) throws {
    let before = Self.tree(kernel.root)
    let state = work.path + "/state"
    let id = "20260101T000000.000000Z-apply"
    try FileManager.default.createDirectory(
      atPath: state + "/snapshots", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    chmod(state, 0o700)
    let file = state + "/snapshots/\(id).json"
    try FileManager.default.copyItem(atPath: Self.corpus + "/" + name, toPath: file)
    chmod(file, 0o600)
    for command in [["rollback", id], ["snapshots", "show", id]] {
      let finished = Run.command(
        [Run.bpstune] + command + ["--root", kernel.root, "--state-dir", state])
      checkRefused(name, finished, before: before)
    }
    let snapshots = try FileManager.default.contentsOfDirectory(atPath: state + "/snapshots")
    #expect(snapshots == ["\(id).json"], "\(name): rollback wrote a snapshot")
  }

  @Test func controlCharactersInSetValuesAreRefused() {
    let finished = Run.command(
      [Run.bpstune, "diff", "hft", "--set", "app-cpus=1\n0", "--root", kernel.root, "--state-dir", work.path])
    #expect(finished.status == 2 && finished.stderr.contains("control character"), "\(finished)")
    #expect(finished.stderr.split(separator: "\n").count == 1)
  }

  /// Made here, not kept in the corpus: a profile one byte over the 1 MiB limit.
  @Test func profileOverTheSizeLimitIsRefused() {
    let before = Self.tree(kernel.root)
    let big = work.write("big.profile", "# " + String(repeating: "x", count: 1 << 20) + "\n")
    let apply = Run.command([Run.bpstune, "apply", big, "--root", kernel.root, "--state-dir", work.path + "/s"])
    #expect(apply.status == 2 && apply.stderr.contains("larger than the 1024 KiB profile limit"), "\(apply)")
    #expect(Self.tree(kernel.root) == before)
  }
}
