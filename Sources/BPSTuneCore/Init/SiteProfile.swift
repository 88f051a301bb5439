import BPSTuneKernel

extension InitBase {
  /// The base profile: `--base` (a name or path, loaded as any profile is, so that a missing or
  /// broken one is an error naming it) or the one this host's kernel can take best.
  package static func load(
    _ requested: String?, for topology: HostTopology, loader: ProfileLoader, workingDirectory: String?
  ) throws(BPSTuneError) -> (base: InitBase, include: String) {
    let chosen = requested.map { ($0, "--base \($0)") } ?? choose(for: topology)
    let profile = try loader.load(
      chosen.0, interface: topology.nics.first?.name, workingDirectory: workingDirectory, interfaceIfUsed: true)
    let smtOff =
      (profile.sections["sysfs"] ?? []).contains {
        $0.key == "devices/system/cpu/smt/control" && $0.value == .string("off")
      }
      || (profile.sections["cpu"] ?? []).contains { $0.key == "smt" && $0.value == .bool(false) }
    // [interface.napi] is one setting "napi" whose value is its table.
    let busyPoll = profile.interfaces.contains { block in
      block.settings.contains {
        guard $0.key == "napi", case .table(let napi) = $0.value else { return false }
        return napi["threaded"] == .string("busy-poll")
      }
    }
    // A built-in name is included by name; a file by its absolute path, wherever init runs.
    let include = ProfileSource.isPath(chosen.0) ? profile.path : chosen.0
    var base = InitBase(
      name: chosen.0, why: chosen.1, variables: profile.variableNames, smtOff: smtOff, threadedBusyPoll: busyPoll)
    base.interfaceSettings = profile.interfaces.first { $0.name == topology.nics.first?.name }?.settings ?? []
    return (base, include)
  }
}

/// The site profile `bpstune init` writes: it includes the base and sets its variables to the
/// layout, each decision a comment with its evidence, headed by the date, kernel and host it
/// was made for. Every value from the host is written as a TOML basic string or an escaped
/// comment (``ConfigText``): a host name or driver cannot end a line early.
package enum SiteProfile {
  package static func text(
    _ layout: SiteLayout, topology t: HostTopology, include: String, command: String, date: String
  ) -> String {
    var lines: [String] = []
    func comment(_ text: String) { lines += wrapped(text).map(ConfigText.comment) }
    func why(_ topic: String) {
      for d in layout.decisions where d.topic == topic { comment("\(d.topic) = \(d.value): \(d.why)") }
    }
    let names = layout.nics.map(\.name).joined(separator: ", ")
    let host = t.hostname.isEmpty || t.hostname == "(none)" ? "a host without a name" : t.hostname
    comment("Site profile for \(names) on \(host), written by `\(command)` on \(date)")
    comment(
      "for Linux \(t.release): \(t.online.sorted.count) online CPUs in \(t.cores.count) cores on \(t.nodes.count) "
        + "NUMA node(s)\(t.virtualization.map { ", a virtual machine (\($0))" } ?? "").")
    comment("Each setting below says why, with what init read. Run init again after a change of hardware,")
    comment("kernel or boot parameters; check with `bpstune diff` before `bpstune apply`.")
    for warning in layout.warnings { comment("NOTE: \(warning)") }
    lines.append("")
    lines.append("[profile]")
    let first = layout.nics.first
    let nodes = layout.nics.map { nic in nic.name + (nic.node.map { " (NUMA node \($0))" } ?? "") }
      .joined(separator: ", ")
    let app = layout.app.isEmpty ? "no application CPUs" : "app CPUs \(layout.app.listString)"
    lines.append(
      "description = "
        + ConfigText.tomlString(
          "Site layout for \(nodes): \(layout.base.name), "
            + "poll CPUs \(layout.poll.listString), \(app)"))
    lines.append("include = [\(ConfigText.tomlString(include))]")
    lines.append("")
    lines.append("[variables]")
    why("base")
    func variable(_ name: String, _ value: String) { lines.append("\(name) = \(ConfigText.tomlString(value))") }
    if let first, layout.base.variables.contains("iface") { variable("iface", first.name) }
    why("housekeeping-cpus")
    variable("housekeeping-cpus", layout.housekeeping.listString)
    for nic in layout.nics { why("poll-cpus \(nic.name)") }
    variable("poll-cpus", first?.poll.listString ?? "")
    variable("irq-cpus", "${poll-cpus}")
    if layout.base.variables.contains("poll-cpu") { variable("poll-cpu", "${poll-cpus}") }
    why("app-cpus")
    variable("app-cpus", layout.app.listString)
    if layout.base.variables.contains("latency-cpus") {
      comment("latency-cpus: the poll and application CPUs, kept out of deep idle by the base's [cpu]")
      variable("latency-cpus", layout.poll.union(layout.app).listString)
    }
    why("idle-cpus")
    for (index, nic) in layout.nics.enumerated() {
      lines.append("")
      lines.append("[[interface]]")
      lines.append(
        "name = "
          + (index == 0 && layout.base.variables.contains("iface") ? "\"${iface}\"" : ConfigText.tomlString(nic.name)))
      why("channels \(nic.name)")
      if !nic.channels.isEmpty {
        let fields = nic.channels.map { "\($0.name) = \($0.count)" } + nic.zeroedChannels.map { "\($0) = 0" }
        lines.append("channels = { " + fields.joined(separator: ", ") + " }")
      }
      why("ring \(nic.name)")
      // The first NIC's ring merges into the base's ${iface} block field by field: only the
      // fields capped at the driver's maximum are written. A further NIC's block is its own, so
      // it carries every field the base asks, the capped ones at their maximum.
      var ring = nic.rings.map { (name: $0.name, value: "\($0.count)") }
      if index > 0, case .table(let asked)? = layout.base.interfaceSettings.first(where: { $0.key == "ring" })?.value {
        ring = asked.keys.sorted().map { name in
          (name, nic.rings.first { $0.name == name }.map { "\($0.count)" } ?? asked[name]!.inlineTOML)
        }
      }
      if !ring.isEmpty {
        lines.append(
          "ring = { " + ring.map { "\(ConfigText.tomlKey($0.name)) = \($0.value)" }.joined(separator: ", ") + " }")
      }
      why("irq-affinity \(nic.name)")
      if nic.hasIRQs {
        comment("irq-affinity: \(nic.name)'s queue IRQs on its poll CPUs")
        lines.append("irq-affinity = " + (index == 0 ? "\"${irq-cpus}\"" : ConfigText.tomlString(nic.poll.listString)))
      }
      // A further NIC gets the base's settings for ${iface} written out: a profile's ${iface}
      // names one interface.
      var napi: [(String, String)] = []
      if index > 0 {
        comment("the base's settings for ${iface}, for \(nic.name) too")
        let own = ["channels", "irq-affinity", "ring"]
        for setting in layout.base.interfaceSettings where !own.contains(setting.key) {
          if setting.key == "napi", case .table(let table) = setting.value {
            napi += table.keys.sorted().map { ($0, table[$0]!.inlineTOML) }
          } else {
            lines.append("\(ConfigText.tomlKey(setting.key)) = \(setting.value.inlineTOML)")
          }
        }
      }
      if layout.base.threadedBusyPoll && (nic.poll.sorted.count > 1 || index > 0) {
        let queues = (0..<nic.poll.sorted.count).map(String.init).joined(separator: ", ")
        let cpus = index == 0 ? "\"${poll-cpus}\"" : ConfigText.tomlString(nic.poll.listString)
        napi.removeAll { ["queues", "threaded", "kthread"].contains($0.0) }
        napi += [
          ("queues", "[\(queues)]"), ("threaded", "\"busy-poll\""),
          ("kthread", "{ policy = \"fifo\", priority = 50, cpus = \(cpus) }"),
        ]
      }
      if !napi.isEmpty {
        lines.append("")
        lines.append("[interface.napi]")
        if layout.base.threadedBusyPoll {
          comment(
            "one busy-poll kthread per queue on \(nic.name)'s poll CPUs (the scheduler gives each SCHED_FIFO "
              + "kthread a CPU of the set)")
        }
        for (key, value) in napi { lines.append("\(key) = \(value)") }
      }
    }
    if !layout.cmdline.isEmpty {
      lines.append("")
      lines.append("[cmdline]")
      why("cmdline")
      for (name, value) in layout.cmdline { lines.append("\(name) = \(ConfigText.tomlString(value))") }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Why an interface name cannot be written into a profile as itself, or nil. A profile has no
  /// way to write a control character in a string (the loader refuses one), `${...}` in it is a
  /// variable and `*`, `?` and `[` make a glob: such a name would load as another name, or not
  /// at all. `-i` refuses these before reading the host; init checks the names it finds itself too.
  package static func unwritableName(_ name: String) -> String? {
    if let c = Printable.controlCharacter(in: name) {
      return "holds the control character \(c), which a profile cannot hold"
    }
    if name.contains("$") || KernelHost.isGlob(name) {
      return "a name with $, *, ? or [ cannot be written into a profile"
    }
    return nil
  }

  /// A comment's text in lines of at most 96 columns, broken at spaces; the lines after the
  /// first indented.
  static func wrapped(_ text: String, width: Int = 96) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false) {
      if !line.isEmpty && line.count + 1 + word.count > width {
        lines.append(line)
        line = "  " + word
      } else {
        line += (line.isEmpty ? "" : " ") + word
      }
    }
    lines.append(line)
    return lines
  }
}
