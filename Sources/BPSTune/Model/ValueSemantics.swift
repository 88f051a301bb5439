/// How two textual values of a setting are compared: by meaning, not by text.
/// "0-3" equals "0,1,2,3", the mask "f" equals the list "0-3", " 50\n" equals "50".
public enum ValueSemantics: String, Codable, Sendable, CaseIterable {
  /// A decimal integer ("50", "-1").
  case integer
  /// Text compared with runs of white space folded ("4096\t87380" equals "4096 87380").
  case text
  /// A hex CPU bitmap as rps_cpus prints it; shown to users as a CPU list.
  case cpuMask = "cpu-mask"
  /// A CPU list as *_list files print it.
  case cpuList = "cpu-list"

  /// Whether the kernel's value `a` and the value `b` mean the same thing.
  public func equal(_ a: String, _ b: String) -> Bool {
    switch self {
    case .integer:
      if let x = Int64(a.trimmingWhitespace), let y = Int64(b.trimmingWhitespace) { return x == y }
      return ValueSemantics.text.equal(a, b)
    case .text:
      return a.foldingWhitespace == b.foldingWhitespace
    case .cpuMask:
      if let x = try? CPUSet(mask: a), let y = try? CPUSet(mask: b) { return x == y }
      return ValueSemantics.text.equal(a, b)
    case .cpuList:
      if let x = try? CPUSet(list: a), let y = try? CPUSet(list: b) { return x == y }
      return ValueSemantics.text.equal(a, b)
    }
  }

  /// The value as users read it: CPU masks as lists, white space folded, "" as "(none)".
  public func display(_ raw: String) -> String {
    switch self {
    case .integer, .text:
      let folded = raw.foldingWhitespace
      return folded.isEmpty ? "\"\"" : folded
    case .cpuMask:
      if let set = try? CPUSet(mask: raw) { return set.description }
      return raw.foldingWhitespace
    case .cpuList:
      if let set = try? CPUSet(list: raw) { return set.description }
      return raw.foldingWhitespace
    }
  }
}

extension String {
  /// Leading and trailing white space removed, inner runs folded to one space.
  var foldingWhitespace: String {
    split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
  }
}
