import BPSTuneKernel

/// What will overwrite bpstune's values later, each named by file or process: sysctl.d
/// entries for the same sysctl with another value (systemd-sysctl, `sysctl --system`), tuned
/// running with an active profile, and systemd .link files that select a tuned interface and
/// set the same NIC settings (udev applies them whenever the interface appears). Shown by
/// diff, apply, enable and status as plan warnings. (irqbalance is the IRQ knob's warning.)
package struct Overwriters {
  package var host: KernelHost

  package init(host: KernelHost) { self.host = host }

  /// systemd-sysctl's directories, and /etc/sysctl.conf that procps' `sysctl --system` reads.
  static let sysctlDirectories = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d"]
  /// systemd-udevd's .link directories.
  static let linkDirectories = ["/etc/systemd/network", "/run/systemd/network", "/usr/lib/systemd/network"]

  package func warnings(for entries: [PlanEntry]) -> [String] {
    sysctlWarnings(entries) + tunedWarnings(entries) + linkWarnings(entries)
  }

  /// Text files of a directory, sorted, with the given suffix.
  private func files(in directories: [String], suffix: String) -> [String] {
    var seen: Set<String> = []
    var out: [String] = []
    for directory in directories {
      for name in host.list(directory).sorted() where name.hasSuffix(suffix) && seen.insert(name).inserted {
        out.append(directory + "/" + name)
      }
    }
    return out
  }

  private func lines(of file: String) -> [Substring] {
    guard let bytes = try? Syscalls.readFile(host.path(file), limit: 1 << 20, regularOnly: true) else { return [] }
    // Split as bytes: splitting the String by Character cost more than all of diff's reads.
    return bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
      .map { Substring(String(decoding: $0, as: UTF8.self)) }
  }

  // MARK: sysctl.d

  func sysctlWarnings(_ entries: [PlanEntry]) -> [String] {
    let planned = entries.filter { $0.id.kind == .sysctl && $0.status != .unsupported }
    guard !planned.isEmpty else { return [] }
    var out: [String] = []
    for file in files(in: Self.sysctlDirectories, suffix: ".conf") + ["/etc/sysctl.conf"] {
      for (number, raw) in lines(of: file).enumerated() {
        let line = raw.trimmingWhitespace
        guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix(";"), let eq = line.firstIndex(of: "=") else {
          continue
        }
        var key = line[..<eq].trimmingWhitespace
        if key.hasPrefix("-") { key.removeFirst() }
        key = Self.dotted(key)
        let value = line[line.index(after: eq)...].trimmingWhitespace
        for entry in planned
        where (entry.id.key == key || Syscalls.globMatches(key, entry.id.key))
          && !entry.target.semantics.equal(value, entry.target.desired)
        {
          out.append(
            "\(file):\(number + 1) sets \(entry.id.key) = \(value), the profile \(entry.target.desired); "
              + "systemd-sysctl and `sysctl --system` write it again")
        }
      }
    }
    return out
  }

  /// sysctl.d(5): "/" separates like "." when the key's first separator is "/".
  static func dotted(_ key: String) -> String {
    guard let first = key.first(where: { $0 == "." || $0 == "/" }), first == "/" else { return key }
    return String(key.map { $0 == "/" ? "." : $0 == "." ? "/" : $0 })
  }

  // MARK: tuned

  func tunedWarnings(_ entries: [PlanEntry]) -> [String] {
    guard entries.contains(where: { $0.status != .unsupported }) else { return [] }
    // tuned's pid file, checked against the process (a stale file after a crash says nothing).
    guard let text = try? host.read("/run/tuned/tuned.pid"), let pid = Int(text.trimmingWhitespace),
      (try? host.read("/proc/\(pid)/comm")) == "tuned"
    else { return [] }
    let active = lines(of: "/etc/tuned/active_profile").first.map { $0.trimmingWhitespace } ?? ""
    return [
      "tuned (pid \(pid)) is running"
        + (active.isEmpty ? "" : " with profile \(active) (/etc/tuned/active_profile)")
        + "; it re-applies its profile at start and on udev events and can overwrite these settings"
    ]
  }

  // MARK: .link files

  /// [Link] keys of systemd.link(5) and the bpstune kind they set.
  static let linkKeys: [String: SettingKind] = [
    "RxChannels": .channels, "TxChannels": .channels, "OtherChannels": .channels, "CombinedChannels": .channels,
    "RxBufferSize": .ring, "RxMiniBufferSize": .ring, "RxJumboBufferSize": .ring, "TxBufferSize": .ring,
    "UseAdaptiveRxCoalesce": .coalesce, "UseAdaptiveTxCoalesce": .coalesce, "RxCoalesceSec": .coalesce,
    "RxCoalesceIrqSec": .coalesce, "RxCoalesceLowSec": .coalesce, "RxCoalesceHighSec": .coalesce,
    "TxCoalesceSec": .coalesce, "TxCoalesceIrqSec": .coalesce, "TxCoalesceLowSec": .coalesce,
    "TxCoalesceHighSec": .coalesce, "RxMaxCoalescedFrames": .coalesce, "RxMaxCoalescedIrqFrames": .coalesce,
    "RxMaxCoalescedLowFrames": .coalesce, "RxMaxCoalescedHighFrames": .coalesce, "TxMaxCoalescedFrames": .coalesce,
    "TxMaxCoalescedIrqFrames": .coalesce, "TxMaxCoalescedLowFrames": .coalesce,
    "TxMaxCoalescedHighFrames": .coalesce, "CoalescePacketRateLow": .coalesce, "CoalescePacketRateHigh": .coalesce,
    "CoalescePacketRateSampleIntervalSec": .coalesce, "StatisticsBlockCoalesceSec": .coalesce,
    "ReceiveChecksumOffload": .features, "TransmitChecksumOffload": .features,
    "TCPSegmentationOffload": .features, "TCP6SegmentationOffload": .features,
    "GenericSegmentationOffload": .features, "GenericReceiveOffload": .features,
    "GenericReceiveOffloadHardware": .features, "LargeReceiveOffload": .features,
    "ReceiveVLANCTAGHardwareAcceleration": .features, "TransmitVLANCTAGHardwareAcceleration": .features,
    "ReceiveVLANCTAGFilter": .features, "TransmitVLANSTAGHardwareAcceleration": .features,
    "NTupleFilter": .features, "ReceivePacketSteeringCPUMask": .netdev,
  ]

  func linkWarnings(_ entries: [PlanEntry]) -> [String] {
    var kinds: [String: Set<SettingKind>] = [:]
    for entry in entries where entry.status != .unsupported {
      if let interface = entry.id.interface { kinds[interface, default: []].insert(entry.id.kind) }
    }
    guard !kinds.isEmpty else { return [] }
    var out: [String] = []
    for file in files(in: Self.linkDirectories, suffix: ".link") {
      var section = ""
      var names: [String]? = nil
      var drivers: [String]? = nil
      var sets: [String: SettingKind] = [:]
      for raw in lines(of: file) {
        let line = raw.trimmingWhitespace
        if line.hasPrefix("[") {
          section = line
          continue
        }
        guard !line.hasPrefix("#"), !line.hasPrefix(";"), let eq = line.firstIndex(of: "=") else { continue }
        let key = line[..<eq].trimmingWhitespace
        let value = line[line.index(after: eq)...].trimmingWhitespace
        let words = value.split(separator: " ").map(String.init)
        switch (section, key) {
        case ("[Match]", "OriginalName"): names = (names ?? []) + words
        case ("[Match]", "Driver"): drivers = (drivers ?? []) + words
        case ("[Link]", _): if let kind = Self.linkKeys[key] { sets[key] = kind }
        default: break
        }
      }
      guard !sets.isEmpty else { continue }
      for (interface, touched) in kinds.sorted(by: { $0.key < $1.key }) {
        let byName = names.map { $0.contains { Syscalls.globMatches($0, interface) } } ?? true
        let driver = try? Syscalls.realPath(host.path("/sys/class/net/\(interface)/device/driver"))
        let driverName = driver.map { String($0.split(separator: "/").last ?? "") }
        let byDriver =
          drivers.map { d in driverName.map { name in d.contains { Syscalls.globMatches($0, name) } } ?? false }
          ?? true
        guard byName && byDriver else { continue }
        let same = sets.filter { touched.contains($0.value) }.keys.sorted()
        if !same.isEmpty {
          out.append(
            "\(file) selects \(interface) and sets \(same.joined(separator: ", ")); "
              + "udev applies it whenever \(interface) appears (bpstune-interface@\(interface).service runs after)")
        }
      }
    }
    return out
  }
}
