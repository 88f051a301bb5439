import BPSTuneKernel

/// An interface's driver, version, firmware and bus address (ETHTOOL_GDRVINFO, `ethtool -i`).
/// Shown by `bpstune show`; nothing in a profile sets it, so it plans nothing and is never
/// recorded in a snapshot.
package struct DriverKnob: Knob {
  package let kind = SettingKind.driver
  package let sections: [String] = []
  package let interfaceKeys: [String] = []

  package init() {}

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {
    throw setting.origin.error("the driver cannot be set")
  }

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] { [] }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    throw BPSTuneError.invalidPlan(setting: id.description, message: "the driver is not a setting")
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    throw BPSTuneError.invalidPlan(setting: id.description, message: "the driver is not a setting")
  }

  /// Nothing of this kind is ever recorded, so a snapshot naming one is refused.
  package func rejection(of id: SettingID) -> String? { "the driver is not a setting" }

  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] {
    interfaces.flatMap { interface in
      EthtoolSupport.shown(kind, interface: interface, what: "driver information", on: host.ethtool) {
        () throws(SystemError) -> FieldMap in
        let info = try host.ethtool.driverInfo(interface)
        return FieldMap(
          [("name", info.driver), ("version", info.version), ("firmware", info.firmware), ("bus", info.bus)]
            .filter { !$0.1.isEmpty })
      }
    }
  }
}
