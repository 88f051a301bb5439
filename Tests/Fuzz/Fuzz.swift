import BPSTuneCore
import BPSTuneKernel

#if canImport(Glibc)
  import Glibc
#endif

// libFuzzer targets for the two readers of untrusted files: the profile loader and the snapshot
// reader. Built by `make fuzz` with `swift build --sanitize fuzzer -Xswiftc -DFUZZING`, where
// libFuzzer supplies main(); BPSTUNE_FUZZ_TARGET picks the reader ("profile" or "snapshot").
// Built normally, the same binary replays files: `bpstune-fuzz profile FILE...`.
//
// What each input must satisfy (a breach traps, which libFuzzer reports as a crash):
// - no trap, overflow, out-of-range index or runaway memory in the reader;
// - a refusal is a BPSTuneError with exit code 2 and a non-empty one-line message;
// - a snapshot that is accepted encodes and reads back equal.

/// One profile input, written to a file in a private directory (BPSTUNE_FUZZ_DIR, or a new
/// one in /tmp) and loaded from there, as
/// `bpstune apply FILE` would. `base.profile` beside it lets `include = "base"` resolve.
enum ProfileTarget {
  nonisolated(unsafe) static var directory: String?

  static func setUp() -> String {
    if let directory { return directory }
    let path: String
    if let given = getenv("BPSTUNE_FUZZ_DIR"), let absolute = realpath(given, nil) {
      path = String(cString: absolute)
      free(absolute)
    } else {
      var template = Array("/tmp/bpstune-fuzz-XXXXXX".utf8CString)
      guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
      path = String(cString: made)
    }
    mkdir("\(path)/tree", 0o700)
    write(
      "\(path)/base.profile", Array("[profile]\ndescription = \"base\"\n[sysctl]\n\"net.core.busy_read\" = 50\n".utf8))
    directory = path
    return path
  }

  static func run(_ bytes: [UInt8]) {
    let dir = setUp()
    let file = "\(dir)/input.profile"
    write(file, bytes)
    let loader = ProfileLoader(source: ProfileSource(searchPath: [dir]))
    do {
      let profile = try loader.load(file, overrides: ["iface": "eth0"], workingDirectory: dir)
      // Planning against an empty tree runs every knob's reading of the accepted values.
      _ = try Planner().plan(profile, on: KernelHost(root: "\(dir)/tree"))
    } catch {
      check(error)
      if case .usage(let message) = error, message.hasPrefix("no profile \"\(file)\"") {
        fatalError("the fuzz input was not found: \(message)")
      }
    }
  }

  static func write(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(path)") }
    bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        guard n > 0 else { fatalError("cannot write \(path)") }
        offset += n
      }
    }
    close(fd)
  }
}

enum SnapshotTarget {
  static func run(_ bytes: [UInt8]) {
    do {
      let snapshot = try SnapshotStore.decode(bytes, path: "fuzz.json", expectedID: nil)
      let again = try SnapshotStore.decode(
        SnapshotStore.encode(snapshot), path: "fuzz.json", expectedID: snapshot.id)
      precondition(again == snapshot, "an accepted snapshot did not read back equal")
    } catch {
      check(error)
    }
  }
}

/// A refusal must be what users are promised: exit 2 and one non-empty line.
func check(_ thrown: any Error) {
  guard let error = thrown as? BPSTuneError else { fatalError("not a BPSTuneError: \(thrown)") }
  let line = error.description
  precondition(error.exitCode == 2, "exit \(error.exitCode) for input: \(line)")
  precondition(!line.isEmpty, "an empty error message")
  precondition(
    !line.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || $0 == "\u{2028}" || $0 == "\u{2029}" },
    "a multi-line error message: \(line)")
}

func target(named name: String?) -> ([UInt8]) -> Void {
  switch name {
  case "snapshot": SnapshotTarget.run
  case "profile", nil: ProfileTarget.run
  default: fatalError("BPSTUNE_FUZZ_TARGET is profile or snapshot, not \(name!)")
  }
}

nonisolated(unsafe) var selected: (([UInt8]) -> Void)?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  if selected == nil {
    selected = target(named: getenv("BPSTUNE_FUZZ_TARGET").map { String(cString: $0) })
  }
  selected!(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}

#if !FUZZING
  /// Replays files through a target: `bpstune-fuzz profile|snapshot FILE...`.
  @main
  enum Replay {
    static func main() {
      let arguments = Array(CommandLine.arguments.dropFirst())
      guard let name = arguments.first, arguments.count > 1 else {
        print("usage: bpstune-fuzz profile|snapshot FILE...")
        exit(2)
      }
      let run = target(named: name)
      for path in arguments.dropFirst() {
        guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
          let n = fread(&chunk, 1, chunk.count, file)
          if n == 0 { break }
          bytes += chunk[0..<n]
        }
        fclose(file)
        run(bytes)
        print("ok \(path)")
      }
    }
  }
#endif
