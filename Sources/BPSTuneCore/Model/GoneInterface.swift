import BPSTuneKernel

extension KernelHost {
  /// The interface of `setting` when it is gone from this host (the device went, and the
  /// setting with it), else nil: what undo and rollback skip rather than count as left changed.
  package func goneInterface(of setting: SettingID) -> String? {
    setting.interface.flatMap { interfaceExists($0) ? nil : $0 }
  }
}
