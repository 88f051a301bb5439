/// A set of CPU numbers, read and written in the kernel's two textual forms:
/// the list form of `cpulist_parse()` ("0-3,8", "" for none) used by *_list files, and the
/// hex bitmap form of `bitmap_parse()` ("00000000,0000000f") used by rps_cpus, xps_cpus,
/// smp_affinity and the workqueue cpumask.
package struct CPUSet: Hashable, Sendable, CustomStringConvertible {
  package private(set) var cpus: Set<Int>

  /// Largest CPU number accepted (the kernel's NR_CPUS ceiling is 8192).
  package static let maxCPU = 8191

  package init<S: Sequence>(_ cpus: S) where S.Element == Int { self.cpus = Set(cpus) }

  package static let empty = CPUSet([])

  /// Parses the kernel list syntax: "0-3,8", "0-7:2/4" (every 2nd of groups of 4), "" = none.
  package init(list text: String) throws(CPUSetError) {
    var result = Set<Int>()
    let trimmed = text.trimmingWhitespace
    if trimmed.isEmpty {
      self.cpus = []
      return
    }
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
      let piece = part.trimmingWhitespace
      guard !piece.isEmpty else { throw .malformed(text, "empty element") }
      var rangePart = Substring(piece)
      var stride = 1
      var group = 0
      if let colon = piece.firstIndex(of: ":") {
        rangePart = piece[..<colon]
        let spec = piece[piece.index(after: colon)...].split(separator: "/", omittingEmptySubsequences: false)
        guard spec.count == 2, let used = Int(spec[0]), let size = Int(spec[1]), used > 0, size > 0, used <= size
        else { throw .malformed(text, "bad group \"\(piece)\"") }
        stride = used
        group = size
      }
      let bounds = rangePart.split(separator: "-", omittingEmptySubsequences: false)
      guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds.last!)
      else { throw .malformed(text, "\"\(piece)\" is not a CPU number or range") }
      guard low >= 0, high >= low else { throw .malformed(text, "range \"\(piece)\" runs backwards") }
      guard high <= CPUSet.maxCPU else { throw .malformed(text, "CPU \(high) is above \(CPUSet.maxCPU)") }
      for cpu in low...high where group == 0 || (cpu - low) % group < stride {
        result.insert(cpu)
      }
    }
    self.cpus = result
  }

  /// Parses a hex bitmap as the kernel prints it: 32-bit groups separated by commas, most
  /// significant first ("ff", "00000000,00000003"). An optional "0x" prefix is accepted.
  package init(mask text: String) throws(CPUSetError) {
    // Byte by byte: the differ parses one mask per queue, twice, and Character-level string
    // work (replacing, hexDigitValue) cost more than reading the files.
    var bytes = Array(text.utf8)
    let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    while let last = bytes.last, isSpace(last) { bytes.removeLast() }
    var start = bytes.firstIndex { !isSpace($0) } ?? bytes.endIndex
    bytes.removeAll { $0 == UInt8(ascii: ",") }
    start = min(start, bytes.endIndex)
    if bytes.count - start >= 2, bytes[start] == UInt8(ascii: "0"), bytes[start + 1] | 0x20 == UInt8(ascii: "x") {
      start += 2
    }
    guard start < bytes.endIndex else { throw .malformed(text, "empty mask") }
    var result = Set<Int>()
    for (position, byte) in bytes[start...].reversed().enumerated() {
      let nibble: Int
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = Int(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = Int(byte - UInt8(ascii: "a")) + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = Int(byte - UInt8(ascii: "A")) + 10
      default:
        let digits = String(decoding: bytes[start...], as: UTF8.self)
        let shown = digits.reversed().first { !$0.isHexDigit } ?? "?"
        throw .malformed(text, "\"\(shown)\" is not a hex digit")
      }
      guard nibble != 0 else { continue }
      for bit in 0..<4 where nibble & (1 << bit) != 0 {
        let cpu = position * 4 + bit
        guard cpu <= CPUSet.maxCPU else { throw .malformed(text, "CPU \(cpu) is above \(CPUSet.maxCPU)") }
        result.insert(cpu)
      }
    }
    self.cpus = result
  }

  package var isEmpty: Bool { cpus.isEmpty }
  package var sorted: [Int] { cpus.sorted() }

  /// The kernel list form, with ranges folded: "0-3,8"; "" for the empty set.
  package var listString: String {
    var parts: [String] = []
    var runStart: Int?
    var previous = -2
    for cpu in sorted {
      if cpu != previous + 1 {
        if let start = runStart { parts.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
        runStart = cpu
      }
      previous = cpu
    }
    if let start = runStart { parts.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
    return parts.joined(separator: ",")
  }

  /// The hex bitmap form the kernel accepts, in 32-bit groups: "3", "1,00000000"; "0" when empty.
  package var maskString: String {
    guard let highest = cpus.max() else { return "0" }
    var words = [UInt32](repeating: 0, count: highest / 32 + 1)
    for cpu in cpus { words[cpu / 32] |= 1 << UInt32(cpu % 32) }
    var text = String(words.last!, radix: 16)
    for word in words.dropLast().reversed() {
      let hex = String(word, radix: 16)
      text += "," + String(repeating: "0", count: 8 - hex.count) + hex
    }
    return text
  }

  package var description: String { listString.isEmpty ? "(none)" : listString }

  package func intersection(_ other: CPUSet) -> CPUSet { CPUSet(cpus.intersection(other.cpus)) }
  package func union(_ other: CPUSet) -> CPUSet { CPUSet(cpus.union(other.cpus)) }
  package func subtracting(_ other: CPUSet) -> CPUSet { CPUSet(cpus.subtracting(other.cpus)) }
}

/// In JSON, the list form: "1,3-5".
extension CPUSet: Codable {
  package init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    self = try CPUSet(list: text)
  }

  package func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(listString)
  }
}

package enum CPUSetError: Error, Equatable, Sendable, CustomStringConvertible {
  case malformed(String, String)

  package var description: String {
    switch self {
    case .malformed(let text, let why): "\"\(text)\" is not a CPU set: \(why)"
    }
  }
}

extension StringProtocol {
  /// The string without leading and trailing spaces, tabs and newlines.
  package var trimmingWhitespace: String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
      return ""
    }
    return String(self[first...last])
  }
}

extension String {
  package func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
