import BPSTuneKernel

/// The scheduling of NAPI kthreads (`napi/IF-ID`), from `kthread = { policy, priority, cpus }`
/// in [interface.napi]: sched_setscheduler(2) and sched_setaffinity(2) on the pid napi-get
/// reports (Linux 6.8+). One setting per rx queue ("veth0 rx-0 kthread"), valued as fields
/// ("policy=fifo priority=50 cpus=1"), or "none" while the NAPI has no kthread.
///
/// A kthread is made anew whenever threaded is turned on, with a new pid and default
/// scheduling; so these settings come after every threaded change of the apply (phase
/// ``Phase/thread``), resolve the pid each time, and are written again when the same apply
/// changes the device's threaded file. When the profile turns threaded off, the kthread's
/// scheduling is recorded (as a change to "none") so that rollback can give it back.
package struct KthreadKnob: Knob {
  package let kind = SettingKind.kthread
  /// sched_setscheduler and sched_setaffinity on another process's thread.
  package let writePrivileges: Set<Privilege> = [.sysNice]
  package let sections: [String] = []
  /// `kthread` lives in [interface.napi], which ``NAPIKnob`` owns and checks.
  package let interfaceKeys: [String] = []

  package init() {}

  package func check(_ setting: ProfileSetting) throws(BPSTuneError) {}

  static let none = "none"

  package func targets(for request: PlanRequest) throws(BPSTuneError) -> [Target] {
    let host = request.host
    var out: [Target] = []
    // The netdev family is asked what it can do only when a profile has NAPI settings.
    let blocks = try NAPIRequest.blocks(in: request)
    if blocks.isEmpty { return [] }
    let caps = (try? host.netdev.capabilities()) ?? .none
    for (spec, napi, names) in blocks {
      let device = spec.settings.first { $0.key == "threaded" }.flatMap { try? ValueReader.bool($0) }
      // Whether the profile's threaded value will be set (per NAPI, or through the device's
      // sysfs file when every queue is selected).
      let threadedTakes = { (selection: NAPISelection) -> Bool in
        guard let t = napi.threaded else { return false }
        return NAPIKnob.needs("threaded", t, caps) == nil || (t == "enabled" && selection.all)
      }
      for interface in names {
        let selection = NAPISelection(napi, interface: interface, host: host)
        let deviceFile = NetdevSysfsKnob.path(interface, queue: nil, file: "threaded")
        let deviceChanges = device.map { (try? host.read(deviceFile)) != ($0 ? "1" : "0") } ?? false
        var asked: Set<String> = []
        if let wanted = napi.kthread {
          let desired = try fields(wanted, interface: interface, host: host)
          let willThread =
            ((napi.threaded == "enabled" || napi.threaded == "busy-poll") && threadedTakes(selection)) || device == true
          for (queue, resolved) in selection.napis() {
            asked.insert(queue)
            var target = Target(
              id: SettingID(kind: kind, interface: interface, queue: queue, key: kind.rawValue), desired: desired,
              semantics: .fields, phase: .thread, origin: wanted.origin.description)
            switch resolved {
            case .failure(let why): target.unsupported = why.reason
            case .success(let n):
              if n.pid == nil && !willThread {
                target.unsupported =
                  napi.threaded == nil
                  ? "\(interface) \(queue)'s NAPI has no kthread: it is not threaded (set threaded in [interface.napi])"
                  : "\(interface) \(queue)'s NAPI has no kthread, and threaded = \"\(napi.threaded!)\" "
                    + "\(NAPIKnob.needs("threaded", napi.threaded!, caps).map { "needs \($0)" } ?? "cannot be set here")"
              } else if deviceChanges {
                target.rewrite = true
                target.note = "written again: the device's threaded file changes first and starts new kthreads"
              }
            }
            out.append(target)
          }
        }
        // Threaded turned off ends the kthread: record its scheduling so rollback restores it.
        let turnsOff = napi.threaded == "disabled" || (device == false && napi.threaded == nil)
        guard turnsOff else { continue }
        let all = NAPISelection(NAPIRequest.all(from: napi), interface: interface, host: host)
        for (queue, resolved) in (napi.threaded == "disabled" ? selection : all).napis() where !asked.contains(queue) {
          guard case .success(let n) = resolved, n.pid != nil else { continue }
          out.append(
            Target(
              id: SettingID(kind: kind, interface: interface, queue: queue, key: kind.rawValue), desired: Self.none,
              semantics: .fields, phase: .thread, origin: napi.origin.description,
              note: "threaded off ends the kthread; its scheduling is recorded for rollback"))
        }
      }
    }
    return out
  }

  /// The profile's kthread table as recorded fields, CPUs resolved and checked on this host.
  private func fields(_ k: NAPIRequest.Kthread, interface: String, host: KernelHost) throws(BPSTuneError) -> String {
    var map = FieldMap()
    if let policy = k.policy {
      map["policy"] = policy
      map["priority"] = String(k.priority ?? 0)
    }
    if let spec = k.cpus {
      let cpus = spec.resolve(on: host, interface: interface)
      let offline = cpus.subtracting(host.onlineCPUs)
      if !offline.isEmpty {
        throw .invalidPlan(
          setting: "\(interface) napi kthread cpus",
          message: "CPU \(offline.listString) is not online (online: \(host.onlineCPUs.listString))")
      }
      map["cpus"] = cpus.listString
    }
    return map.description
  }

  package func rejection(of id: SettingID) -> String? {
    guard id.kind == kind, id.key == kind.rawValue else { return "not a kthread setting" }
    var napi = id
    napi.kind = .napi
    napi.key = "threaded"
    return NAPIKnob().rejection(of: napi)
  }

  /// The NAPI (and so the kthread pid) behind a recorded setting, resolved now.
  private func napi(_ id: SettingID, on host: KernelHost) throws -> NAPIInfo {
    try NAPIKnob.napi(id, rejection: rejection(of: id), on: host)
  }

  package func read(_ id: SettingID, on host: KernelHost) throws -> String {
    guard let pid = try napi(id, on: host).pid else { return Self.none }
    let s = try host.scheduler.schedule(of: Int32(pid))
    return FieldMap([
      ("policy", ThreadSchedule.policyName(s.policy)), ("priority", String(s.priority)), ("cpus", s.cpus.listString),
    ]).description
  }

  package func write(_ id: SettingID, _ value: String, on host: KernelHost) throws {
    let pid = try napi(id, on: host).pid
    // "none": the kthread ended with threaded off; there is nothing to schedule.
    if value == Self.none { return }
    guard let map = FieldMap(parsing: value), !map.isEmpty,
      map.names.allSatisfy(["policy", "priority", "cpus"].contains)
    else { throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(value)\" is not a kthread schedule") }
    guard let pid else { throw Unavailable("\(id.interface!) \(id.queue!)'s NAPI has no kthread (not threaded)") }
    if let name = map["policy"] {
      guard let policy = ThreadSchedule.policyNumber(name), let priority = Int32(map["priority"] ?? "0") else {
        throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(value)\" is not a kthread schedule")
      }
      try host.beforeWrite?("\(id) sched_setscheduler")
      try host.scheduler.setPolicy(of: Int32(pid), policy: policy, priority: priority)
    }
    if let list = map["cpus"] {
      guard let cpus = try? CPUSet(list: list), !cpus.cpus.isEmpty else {
        throw BPSTuneError.invalidPlan(setting: id.description, message: "\"\(list)\" is not a CPU list")
      }
      try host.beforeWrite?("\(id) sched_setaffinity")
      try host.scheduler.setAffinity(of: Int32(pid), cpus)
    }
  }

  package func isGone(_ id: SettingID, on host: KernelHost) -> Bool {
    guard rejection(of: id) == nil, let interface = id.interface, let queue = id.queue else { return false }
    return host.queueIsGone(interface, queue)
  }

  /// Shown by ``NAPIKnob`` in each queue's chain.
  package func show(on host: KernelHost, interfaces: [String]) -> [ShownSetting] { [] }

  /// A real-time kthread that busy-polls never sleeps: say where it competes with the queue
  /// IRQs or the application (the `app-cpus` variable), and when RT throttling is off.
  package func warnings(for request: PlanRequest, entries: [PlanEntry]) -> [String] {
    let host = request.host
    var out: [String] = []
    let throttling =
      request.profile.sections["sysctl"]?.first {
        SysctlKnob().canonicalKey($0.key) == "kernel.sched_rt_runtime_us"
      }.flatMap { try? ValueReader.integer($0, Int64.min...Int64.max) }.map(String.init)
      ?? (try? host.read("/proc/sys/kernel/sched_rt_runtime_us"))
    let app = request.profile.variables["app-cpus"].flatMap { try? CPUSet(list: $0) }
    for entry in entries where entry.id.kind == kind && entry.status != .unsupported {
      guard let map = FieldMap(parsing: entry.target.desired), let policy = map["policy"],
        policy == "fifo" || policy == "rr", let interface = entry.id.interface, let queue = entry.id.queue
      else { continue }
      let threaded =
        entries.first { $0.id == SettingID(kind: .napi, interface: interface, queue: queue, key: "threaded") }
        .map(\.target.desired) ?? (try? NAPIKnob().read(entry.id.with(kind: .napi, key: "threaded"), on: host))
      guard threaded == "busy-poll" else { continue }
      let name = "\(interface) \(queue) kthread (SCHED_\(policy.uppercased()), busy-poll)"
      let cpus = map["cpus"].flatMap { try? CPUSet(list: $0) } ?? host.onlineCPUs
      if let device = try? NAPIDevice.resolve(interface, on: host) {
        for irq in device.napis.compactMap(\.irq) {
          guard let text = try? host.read("/proc/irq/\(irq)/smp_affinity_list"),
            let irqCPUs = try? CPUSet(list: text), !irqCPUs.intersection(cpus).isEmpty
          else { continue }
          out.append(
            "\(name) shares CPU \(irqCPUs.intersection(cpus).listString) with \(interface)'s queue IRQ \(irq); "
              + "the IRQ waits while the thread spins")
        }
      }
      if let app, !app.intersection(cpus).isEmpty {
        out.append(
          "\(name) shares CPU \(app.intersection(cpus).listString) with the application CPUs (app-cpus \(app.listString))"
        )
      }
      if throttling == "-1" {
        out.append(
          "\(name) with kernel.sched_rt_runtime_us = -1 never yields CPU \(cpus.listString): "
            + "other threads there can starve")
      }
    }
    return out
  }
}

extension SettingID {
  /// The same interface and queue, another kind and key.
  func with(kind: SettingKind, key: String) -> SettingID {
    SettingID(kind: kind, interface: interface, queue: queue, key: key)
  }
}

extension NAPIRequest {
  /// The same table selecting every rx queue.
  static func all(from request: NAPIRequest) -> NAPIRequest {
    var r = request
    r.queues = nil
    return r
  }
}
