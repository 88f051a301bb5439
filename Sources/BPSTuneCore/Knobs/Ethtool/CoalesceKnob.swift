import BPSTuneKernel

/// Interrupt coalescing of an interface: the 22 fields of struct ethtool_coalesce through
/// ETHTOOL_GCOALESCE / ETHTOOL_SCOALESCE (`ethtool -c` / `-C`). The kernel refuses a non-zero
/// value in a field the driver does not support with EOPNOTSUPP (since 5.7); a driver without
/// coalescing refuses ETHTOOL_GCOALESCE itself, and then every field shows as unsupported.
package struct CoalesceKnob: FieldTableKnob {
  typealias Structure = Ethtool.Coalesce
  package let kind = SettingKind.coalesce
  let what = "coalescing"
  let phase = Phase.device
  let commands: (get: Ethtool.Command, set: Ethtool.Command) = (get: .getCoalesce, set: .setCoalesce)

  package init() {}

  var fieldNames: [String] { Ethtool.coalesceFields.map(\.name) }

  func fields(of value: Ethtool.Coalesce) -> FieldMap {
    FieldMap(
      Ethtool.coalesceFields.map { name, field, flag in
        (name, flag ? (value[keyPath: field] != 0 ? "on" : "off") : String(value[keyPath: field]))
      })
  }

  func applying(_ wanted: FieldMap, to value: Ethtool.Coalesce) -> Ethtool.Coalesce {
    var out = value
    for (name, field, _) in Ethtool.coalesceFields {
      guard let text = wanted[name] else { continue }
      if let n = UInt32(text) {
        out[keyPath: field] = n
      } else if let on = FieldMap.flag(text) {
        out[keyPath: field] = on ? 1 : 0
      }
    }
    return out
  }

  func fieldValue(_ field: String, _ setting: ProfileSetting) throws(BPSTuneError) -> String {
    if field.hasPrefix("adaptive-") { return try ValueReader.bool(setting) ? "on" : "off" }
    return try u32(setting, unit: Self.unit(of: field))
  }

  /// The kernel's unit of a field: µs for the *-usecs fields; seconds for sample-interval
  /// (rate_sample_interval in include/uapi/linux/ethtool.h: "measured in seconds"); none for
  /// the frame counts and packet rates.
  static func unit(of field: String) -> TimeUnit? {
    field.contains("usecs") ? .microseconds : field == "sample-interval" ? .seconds : nil
  }

  /// A non-zero value in a field the driver does not support ("igb: rx-frames not supported"),
  /// known from the ethtool netlink family. Where it cannot be known, the kernel refuses such
  /// a value at write time with EOPNOTSUPP and the executor undoes the apply.
  func limit(_ field: String, _ value: String, current: Ethtool.Coalesce, device: EthtoolDevice) -> String? {
    if let why = Self.virtioLimit(field, value, features: device.virtioFeatures) { return "\(device.driver): \(why)" }
    if value == "0" || value == "off" { return nil }
    guard let supported = device.coalesceSupport, !supported.contains(field) else { return nil }
    return "\(device.driver): \(field) not supported"
  }

  /// virtio_net lists the same coalescing fields for every device, but what a device takes
  /// depends on its negotiated features (drivers/net/virtio_net.c, virtnet_coal_params_supported
  /// and virtnet_set_coalesce): without notification coalescing (VIRTIO_NET_F_NOTF_COAL, bit 53,
  /// or VIRTIO_NET_F_VQ_NOTF_COAL, bit 52) a non-zero rx-usecs or tx-usecs is refused with
  /// EOPNOTSUPP and rx-frames other than 1 or tx-frames above 1 with EINVAL; adaptive-rx needs
  /// VIRTIO_NET_F_VQ_NOTF_COAL. QEMU's virtio-net offers neither.
  static func virtioLimit(_ field: String, _ value: String, features: [Character]?) -> String? {
    guard let features else { return nil }
    let has = { (bit: Int) in bit < features.count && features[bit] == "1" }
    let notification = has(virtioNotificationCoalescing) || has(virtioQueueNotificationCoalescing)
    if !notification && (field == "rx-usecs" || field == "tx-usecs") && value != "0" {
      return "\(field) not supported by this device (no VIRTIO_NET_F_NOTF_COAL)"
    }
    if !notification && field == "rx-frames" && value != "1" {
      return "rx-frames must be 1 on this device (no VIRTIO_NET_F_NOTF_COAL)"
    }
    if !notification && field == "tx-frames" && (UInt32(value) ?? 0) > 1 {
      return "tx-frames must be 0 or 1 on this device (no VIRTIO_NET_F_NOTF_COAL)"
    }
    if field == "adaptive-rx" && value == "on" && !has(virtioQueueNotificationCoalescing) {
      return "adaptive-rx not supported by this device (no VIRTIO_NET_F_VQ_NOTF_COAL)"
    }
    return nil
  }

  /// VIRTIO_NET_F_NOTF_COAL and VIRTIO_NET_F_VQ_NOTF_COAL in include/uapi/linux/virtio_net.h.
  static let virtioNotificationCoalescing = 53
  static let virtioQueueNotificationCoalescing = 52
}
