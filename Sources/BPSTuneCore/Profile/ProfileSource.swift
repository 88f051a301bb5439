import BPSTuneKernel
import SystemPackage
import TOMLKit

/// Finds profile files by path or by name, and reads them safely (trusted files only, size
/// limit, UTF-8, TOML).
///
/// A reference that contains "/" or ends in ".profile" is a path (relative to the working
/// directory, or for an include to the including file's directory); any other is a name, looked
/// up as NAME.profile only in the search path, never in the working directory: a file someone
/// left in the directory an admin runs `bpstune diff hft` from is not the built-in hft.
package struct ProfileSource: Sendable {
  /// Directories searched for `NAME.profile`, in order.
  package var searchPath: [String]
  /// Whose files are read (checked for every profile and include).
  package var trust: ProfileTrust

  /// Profiles larger than this are refused.
  package static let sizeLimit = 1 << 20

  package init(searchPath: [String], trust: ProfileTrust = .unchecked) {
    self.searchPath = searchPath
    self.trust = trust
  }

  /// BPSTUNE_PROFILE_PATH (where the user sets it), /etc/bpstune/profiles, and the installed
  /// share directory beside the executable (PREFIX/sbin/bpstune -> PREFIX/share/bpstune/profiles).
  /// A debug build also searches the profiles/ directory of the checkout it was built from, so
  /// that `.build/debug/bpstune diff hft` works there; a release build holds no path of the
  /// machine it was built on.
  package static func standard(trust: ProfileTrust = .forThisProcess()) -> ProfileSource {
    var dirs: [String] = []
    if let env = Syscalls.environment("BPSTUNE_PROFILE_PATH") {
      dirs += env.split(separator: ":").map(String.init)
    }
    dirs.append("/etc/bpstune/profiles")
    if let exe = Syscalls.executablePath() {
      let prefix = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
      dirs.append(prefix + "/share/bpstune/profiles")
    }
    #if DEBUG
      dirs.append(repositoryProfiles)
    #endif
    var seen = Set<String>()
    return ProfileSource(searchPath: dirs.filter { seen.insert($0).inserted }, trust: trust)
  }

  #if DEBUG
    /// profiles/ of the checkout this debug binary was built from.
    static var repositoryProfiles: String {
      var path = #filePath
      for _ in 0..<4 {
        guard let slash = path.lastIndex(of: "/") else { break }
        path = String(path[..<slash])
      }
      return path + "/profiles"
    }
  #endif

  /// Whether a reference is a path rather than a profile name.
  package static func isPath(_ reference: String) -> Bool {
    reference.contains("/") || reference.hasSuffix(".profile")
  }

  /// Resolves a profile reference: a path (see ``isPath(_:)``), made absolute against
  /// `directory` (the working directory, or the including file's), or a name looked up as
  /// NAME.profile in the search path. Nil when a name is found nowhere. A relative directory in
  /// the search path (BPSTUNE_PROFILE_PATH=profiles) would be the working directory again, and
  /// is refused.
  package func locate(_ reference: String, relativeTo directory: String?) throws(BPSTuneError) -> String? {
    if Self.isPath(reference) {
      guard !reference.hasPrefix("/"), let directory else { return reference }
      // "./x.profile" from /etc is /etc/x.profile, not /etc/./x.profile ("." only: ".." is left
      // to the kernel, which knows where a symlinked directory's parent is).
      let parts = (directory + "/" + reference).split(separator: "/").filter { $0 != "." }
      return "/" + parts.joined(separator: "/")
    }
    for dir in searchPath {
      guard dir.hasPrefix("/") else {
        throw .usage("BPSTUNE_PROFILE_PATH: \"\(dir)\" is not an absolute directory")
      }
      let candidate = "\(dir)/\(reference).profile"
      if (try? Syscalls.fileStatus(candidate, followLinks: true)) ?? nil != nil { return candidate }
    }
    return nil
  }

  /// Every NAME.profile in the search path; the first directory that has a name wins.
  package func available() -> [(name: String, path: String)] {
    var found: [String: String] = [:]
    var order: [String] = []
    for dir in searchPath where dir.hasPrefix("/") {
      for entry in (try? Syscalls.listDirectory(dir)) ?? [] where entry.hasSuffix(".profile") {
        let name = String(entry.dropLast(8))
        if found[name] == nil {
          found[name] = "\(dir)/\(entry)"
          order.append(name)
        }
      }
    }
    return order.sorted().map { ($0, found[$0]!) }
  }

  /// Reads (see ``ProfileTrust/read(_:limit:)``) and parses one profile file into a TOML
  /// table; also returns the bytes read, which the content hash covers.
  func parse(_ path: String) throws(BPSTuneError) -> (table: TOMLTable, bytes: [UInt8]) {
    let bytes = try trust.read(path, limit: Self.sizeLimit)
    return (try Self.parse(bytes, path: path), bytes)
  }

  package static func parse(_ path: String, trust: ProfileTrust) throws(BPSTuneError) -> TOMLTable {
    try parse(try trust.read(path, limit: sizeLimit), path: path)
  }

  static func parse(_ bytes: [UInt8], path: String) throws(BPSTuneError) -> TOMLTable {
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw .profile(file: path, key: "", message: "not UTF-8 text")
    }
    if text.contains("\0") {
      throw .profile(file: path, key: "", message: "contains a NUL byte")
    }
    if let bad = TOMLSyntaxCheck.firstError(in: text) {
      throw .profile(file: "\(path):\(bad.line):\(bad.column)", key: "", message: "not valid TOML: \(bad.message)")
    }
    do {
      return try TOMLTable(string: text)
    } catch let e as TOMLParseError {
      throw .profile(
        file: "\(path):\(e.source.begin.line):\(e.source.begin.column)", key: "",
        message: "not valid TOML: \(e.description)")
    } catch {
      throw .profile(file: path, key: "", message: "not valid TOML")
    }
  }
}
