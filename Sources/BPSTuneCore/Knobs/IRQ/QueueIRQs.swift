import BPSTuneKernel

/// An interface's queue interrupts: the device's MSI/MSI-X vectors
/// (/sys/class/net/IF/device/msi_irqs, or its parent's for virtio) joined with their action
/// names in /proc/interrupts, keeping those whose name says which queue they serve, or whose
/// number napi-get reports as a NAPI's irq (Linux 6.8+, drivers that set it).
/// IRQ numbers change when channels re-create queues, so IRQs are named by action name.
package struct QueueIRQ: Equatable {
  package var number: Int
  /// The action name in /proc/interrupts: "eth0-TxRx-0", "virtio2-input.0", "mlx5_comp3@pci:...".
  var name: String
  /// The queue index the name gives.
  var queue: Int
}

package enum QueueIRQs {
  /// /proc/interrupts as number -> action name (the last column).
  static func names(on host: KernelHost) -> [Int: String] {
    guard let text = try? host.read("/proc/interrupts") else { return [:] }
    var out: [Int: String] = [:]
    for line in text.split(separator: "\n") {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard words.count >= 3, words[0].hasSuffix(":"), let n = Int(words[0].dropLast()) else { continue }
      out[n] = String(words.last!)
    }
    return out
  }

  /// The MSI vectors of the interface's device; nil when it has none (veth, no device).
  static func vectors(_ interface: String, on host: KernelHost) -> Set<Int>? {
    for dir in ["/sys/class/net/\(interface)/device/msi_irqs", "/sys/class/net/\(interface)/device/../msi_irqs"] {
      let entries = host.list(dir).compactMap(Int.init)
      if !entries.isEmpty { return Set(entries) }
    }
    return nil
  }

  /// The queue a vector's name serves, for the naming schemes of igb/igc/ixgbe/e1000e
  /// ("eth0-TxRx-0", "eth0-rx-1"), i40e/ice ("i40e-eth0-TxRx-0"), virtio ("virtio2-input.0")
  /// and mlx5 ("mlx5_comp0@pci:0000:03:00.0"); nil for other vectors (link, config, admin).
  static func queue(of name: String, interface: String) -> Int? {
    func number(after marker: String, in text: Substring) -> Int? {
      guard let range = text.ranges(of: marker).last else { return nil }
      let digits = text[range.upperBound...].prefix { $0.isNumber }
      return digits.isEmpty ? nil : Int(digits)
    }
    let n = Substring(name)
    if name.hasPrefix("virtio") {
      return number(after: "-input.", in: n) ?? number(after: "-output.", in: n)
    }
    if name.hasPrefix("mlx5_comp") {
      return number(after: "mlx5_comp", in: n.prefix { $0 != "@" })
    }
    guard name.contains(interface + "-") else { return nil }
    for marker in ["-TxRx-", "-rx-", "-tx-", "-fp-", "-rxtx-"] {
      if let q = number(after: marker, in: n), n.hasSuffix(String(q)) { return q }
    }
    return nil
  }

  /// The interface's queue IRQs in queue order, or why there are none.
  package static func discover(_ interface: String, on host: KernelHost) -> Result<[QueueIRQ], Unavailable> {
    guard let vectors = vectors(interface, on: host) else {
      return .failure(
        Unavailable("\(interface) has no queue IRQs (no MSI vectors: a virtual device polls without them)"))
    }
    let names = names(on: host)
    // Where the name does not say, napi-get's irq attribute does (the NAPI and its rx queue);
    // the NAPIs are asked for only then.
    var napis: NAPIDevice??
    let irqs = vectors.compactMap { v -> QueueIRQ? in
      guard let name = names[v] else { return nil }
      if let q = queue(of: name, interface: interface) { return QueueIRQ(number: v, name: name, queue: q) }
      if napis == nil { napis = .some(try? NAPIDevice.resolve(interface, on: host)) }
      guard let device = napis!, let napi = device.napis.first(where: { $0.irq == UInt32(v) }),
        let q = device.queues(of: napi).first
      else { return nil }
      return QueueIRQ(number: v, name: name, queue: q)
    }.sorted { ($0.queue, $0.name) < ($1.queue, $1.name) }
    if irqs.isEmpty {
      return .failure(Unavailable("\(interface) has MSI vectors but none named for a queue in /proc/interrupts"))
    }
    return .success(irqs)
  }
}
