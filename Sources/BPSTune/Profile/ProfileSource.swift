import SystemPackage
import TOMLKit

/// Finds profile files by path or by name, and reads them safely (size limit, UTF-8, TOML).
public struct ProfileSource: Sendable {
  /// Directories searched for `NAME.profile`, in order.
  public var searchPath: [String]

  /// Profiles larger than this are refused.
  public static let sizeLimit = 1 << 20

  public init(searchPath: [String]) { self.searchPath = searchPath }

  /// BPSTUNE_PROFILE_PATH, /etc/bpstune/profiles, the installed share directory next to the
  /// executable, and the repository's profiles/ directory when running from a checkout.
  public static func standard() -> ProfileSource {
    var dirs: [String] = []
    if let env = Syscalls.environment("BPSTUNE_PROFILE_PATH") {
      dirs += env.split(separator: ":").map(String.init)
    }
    dirs.append("/etc/bpstune/profiles")
    // PREFIX/sbin/bpstune (or PREFIX/bin/bpstune) -> PREFIX/share/bpstune/profiles.
    if let exe = Syscalls.executablePath() {
      let prefix = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
      dirs.append(prefix + "/share/bpstune/profiles")
    }
    dirs.append(repositoryProfiles)
    var seen = Set<String>()
    return ProfileSource(searchPath: dirs.filter { seen.insert($0).inserted })
  }

  /// profiles/ of the checkout this binary was built from.
  static var repositoryProfiles: String {
    var path = #filePath
    for _ in 0..<4 {
      guard let slash = path.lastIndex(of: "/") else { break }
      path = String(path[..<slash])
    }
    return path + "/profiles"
  }

  /// Resolves a profile reference: a path (it contains "/", or names an existing *.profile
  /// file), else a name looked up as NAME.profile in the search path. `relativeTo` is the
  /// directory paths are relative to (the including file's, for include).
  public func locate(_ reference: String, relativeTo directory: String?) -> String? {
    func absolute(_ p: String) -> String {
      p.hasPrefix("/") || directory == nil ? p : directory! + "/" + p
    }
    if reference.contains("/") {
      return absolute(reference)
    }
    if reference.hasSuffix(".profile") {
      let candidate = absolute(reference)
      if (try? Syscalls.fileStatus(candidate, followLinks: true)) ?? nil != nil { return candidate }
    }
    let name = reference.hasSuffix(".profile") ? String(reference.dropLast(8)) : reference
    for dir in searchPath {
      let candidate = "\(dir)/\(name).profile"
      if (try? Syscalls.fileStatus(candidate, followLinks: true)) ?? nil != nil { return candidate }
    }
    return nil
  }

  /// Every NAME.profile in the search path; the first directory that has a name wins.
  public func available() -> [(name: String, path: String)] {
    var found: [String: String] = [:]
    var order: [String] = []
    for dir in searchPath {
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

  /// Reads and parses one profile file into a TOML table.
  static func parse(_ path: String) throws(BPSTuneError) -> TOMLTable {
    let bytes: [UInt8]
    do {
      bytes = try Syscalls.readFile(path, limit: sizeLimit, regularOnly: true)
    } catch is NotRegularFile {
      throw .profile(file: path, key: "", message: "not a regular file")
    } catch let e as SystemError {
      if e.errno == .fileTooLarge {
        throw .profile(file: path, key: "", message: "larger than the \(sizeLimit / 1024) KiB profile limit")
      }
      throw .profile(file: path, key: "", message: "cannot read: \(e.reason)")
    } catch {
      throw .profile(file: path, key: "", message: "cannot read")
    }
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
