import BPSTuneKernel

/// Units of time settings; strings with a unit ("15us", "1ms") convert to the kernel's unit.
package enum TimeUnit: Sendable {
  case nanoseconds, microseconds, seconds

  var symbol: String {
    switch self {
    case .nanoseconds: "ns"
    case .microseconds: "µs"
    case .seconds: "s"
    }
  }

  var perSecond: Double {
    switch self {
    case .nanoseconds: 1e9
    case .microseconds: 1e6
    case .seconds: 1
    }
  }

  /// A string with a unit that comes out whole in this unit, for messages.
  var example: String { self == .seconds ? "2s" : "15us" }
}

/// A CPU set as profiles write it: a kernel CPU list, or a symbolic set resolved on the host.
package enum CPUSpec: Sendable, Equatable, CustomStringConvertible {
  case set(CPUSet)
  /// @online: every online CPU.
  case online
  /// @local: the interface's NUMA-local CPUs (device/local_cpulist).
  case local

  /// The CPUs on this host; @local needs the interface.
  package func resolve(on host: KernelHost, interface: String?) -> CPUSet {
    switch self {
    case .set(let s): s
    case .online: host.onlineCPUs
    case .local: interface.map { host.localCPUs(of: $0) } ?? host.onlineCPUs
    }
  }

  package var description: String {
    switch self {
    case .set(let s): s.listString
    case .online: "@online"
    case .local: "@local"
    }
  }
}

/// Typed readings of profile values shared by the knobs. Each error says what is allowed.
enum ValueReader {
  static func integer(
    _ setting: ProfileSetting, _ range: ClosedRange<Int64>, unit: TimeUnit? = nil, allowBool: Bool = false
  ) throws(BPSTuneError) -> Int64 {
    let allowed =
      "a whole number from \(range.lowerBound) to \(range.upperBound)"
      + (unit.map { " (\($0.symbol); or a string with a unit such as \"\($0.example)\")" } ?? "")
    let number: Int64
    switch setting.value {
    case .integer(let v): number = v
    case .bool(let b) where allowBool || range == 0...1: number = b ? 1 : 0
    case .string(let s):
      if let v = Int64(s.trimmingWhitespace) {
        number = v
      } else if range == 0...1, let b = try? boolean(s) {
        number = b ? 1 : 0
      } else if let unit, let v = time(s, in: unit) {
        guard let whole = v else {
          throw setting.origin.error("\"\(s)\" is not a whole number of \(unit.symbol)")
        }
        number = whole
      } else {
        throw setting.origin.error("expected \(allowed), got \(setting.value)")
      }
    default:
      throw setting.origin.error("expected \(allowed), got \(setting.value.typeName)")
    }
    guard range.contains(number) else {
      throw setting.origin.error("\(number) is out of range: expected \(allowed)")
    }
    return number
  }

  /// "15us" -> 15000 (ns). nil: not a time; .some(nil): a time, not whole in this unit.
  static func time(_ text: String, in unit: TimeUnit) -> Int64?? {
    let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1)]
    let t = text.trimmingWhitespace
    for (suffix, seconds) in units where t.hasSuffix(suffix) {
      let number = t.dropLast(suffix.count).trimmingWhitespace
      guard let value = Double(number), value >= 0, value.isFinite else { return nil }
      let converted = value * seconds * unit.perSecond
      let rounded = converted.rounded()
      guard abs(converted - rounded) < 1e-6, rounded < 9.2e18 else { return .some(nil) }
      return .some(Int64(rounded))
    }
    return nil
  }

  static func boolean(_ text: String) throws(BPSTuneError) -> Bool {
    switch text.lowercased() {
    case "on", "true", "yes", "1": return true
    case "off", "false", "no", "0": return false
    default: throw .usage("not a boolean")
    }
  }

  static func bool(_ setting: ProfileSetting) throws(BPSTuneError) -> Bool {
    switch setting.value {
    case .bool(let b): return b
    case .integer(let i) where i == 0 || i == 1: return i == 1
    case .string(let s):
      if let b = try? boolean(s) { return b }
    default: break
    }
    throw setting.origin.error("expected true/false (or \"on\"/\"off\"), got \(setting.value)")
  }

  static func choice(_ setting: ProfileSetting, _ allowed: [String]) throws(BPSTuneError) -> String {
    guard case .string(let s) = setting.value else {
      throw setting.origin.error("expected one of \(allowed.joined(separator: ", ")), got \(setting.value.typeName)")
    }
    guard allowed.contains(s) else {
      throw setting.origin.error(
        "\"\(s)\" is not one of \(allowed.joined(separator: ", "))" + Suggestion.hint(for: s, in: allowed))
    }
    return s
  }

  static func cpus(_ setting: ProfileSetting, allowLocal: Bool) throws(BPSTuneError) -> CPUSpec {
    let text: String
    switch setting.value {
    case .string(let s): text = s.trimmingWhitespace
    case .integer(let i) where i >= 0: text = String(i)
    default:
      throw setting.origin.error(
        "expected a CPU list such as \"0-3,8\", \"\", \"@online\" or \"@local\", got \(setting.value.typeName)")
    }
    switch text {
    case "@online": return .online
    case "@local":
      guard allowLocal else { throw setting.origin.error("@local needs an interface; use it in [[interface]] blocks") }
      return .local
    default:
      if text.hasPrefix("@") {
        throw setting.origin.error(
          "unknown CPU set \"\(text)\"" + Suggestion.hint(for: text, in: ["@online", "@local"]))
      }
      do {
        return .set(try CPUSet(list: text))
      } catch {
        throw setting.origin.error(error.description)
      }
    }
  }
}
