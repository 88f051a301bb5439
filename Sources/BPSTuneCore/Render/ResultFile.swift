import BPSTuneKernel
import SystemPackage

/// A file a command writes for the user besides what it prints (init's `--output`, the probe's
/// `--plot` and `--write`): mode 0644, durably (``Syscalls/writeDurably``), a name already taken
/// replaced only when asked, and a failure one line naming the option.
package enum ResultFile {
  /// Writes `text` to `path`. `taken` ends the message for a name already taken (without
  /// `replace`), `note` every failure's (what the user still has, as "the table is above").
  package static func write(
    _ option: String, _ path: String, _ text: String, replace: Bool, taken: String, note: String = ""
  ) throws(BPSTuneError) {
    do {
      try Syscalls.writeDurably(path, Array(text.utf8), mode: Syscalls.readableByAll, replace: replace)
    } catch let error as SystemError where error.errno == .fileExists {
      throw .usage("\(option) \(path): exists; \(taken)\(note)")
    } catch let error as SystemError {
      throw .usage("\(option) \(path): cannot write it: \(error.operation) \(error.reason)\(note)")
    } catch {
      throw .usage("\(option) \(path): cannot write it: \(error)\(note)")
    }
  }

  /// Refuses, before the work that produces it, a file that cannot be written: its directory
  /// missing or not a directory, or (`new`) its name taken.
  package static func check(_ option: String, _ path: String, new: Bool, note: String) throws(BPSTuneError) {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    guard (try? Syscalls.fileStatus(directory, followLinks: true))?.type == .directory else {
      throw .usage("\(option) \(path): \(directory) is not a directory; \(note)")
    }
    if new, (try? Syscalls.fileStatus(path)) != nil {
      throw .usage("\(option) \(path): exists; \(note) (choose a new file)")
    }
  }
}
