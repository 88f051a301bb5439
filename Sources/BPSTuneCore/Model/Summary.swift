import BPSTuneKernel

extension Printable {
  /// One item of a list in a message: the setting it is about, when it is about one, and what
  /// is said of it. A long list groups its items by the setting's interface (by its kind for a
  /// system setting) and key; see ``summary(_:limit:separator:more:)``.
  package struct Item: Sendable, Equatable {
    /// The setting, or nil for an item that is not one (a snapshot id).
    package var setting: SettingID?
    /// What follows the setting's name, with its leading punctuation (" is 0, bpstune set 50",
    /// ": no such sysctl"); the whole item when there is no setting.
    package var detail: String
    /// What the item belongs to beyond the host, before its name ("napi-busy-poll", the
    /// profile a compare planned it for).
    package var scope: String?

    package init(_ setting: SettingID, _ detail: String = "", scope: String? = nil) {
      self.setting = setting
      self.detail = detail
      self.scope = scope
    }

    package init(_ text: String) {
      setting = nil
      detail = text
    }

    /// The item as a full list gives it: "va rx-0 rps-cpus is 0, bpstune set 3".
    package var text: String { (scope.map { $0 + ": " } ?? "") + (setting?.description ?? "") + detail }
  }

  /// What every message says of a list: the whole list when it has at most `limit` + 1 items
  /// ("and 1 more" would save nothing); otherwise a summary, with `more` after it when it leaves
  /// anything out. Items without a setting give the first `limit` and "and N more". Settings
  /// are grouped by interface (by kind for system settings), and within a group by key, each
  /// key that several queues share counted with its first queues named, its detail given once
  /// when every queue has the same: "va: 64 rps-cpus (rx-0, rx-1, rx-2 and 61 more) is 0,
  /// bpstune set 3; gro-flush-timeout is 0, bpstune set 15000; sysctl: net.core.busy_read is
  /// 0, bpstune set 50". At most `limit` such parts are given, then "and N more in" the groups
  /// left out.
  package static func summary(_ items: [Item], limit: Int, separator: String = "; ", more: String = "") -> String {
    guard items.count > limit + 1 else { return items.map(\.text).joined(separator: separator) }
    let and = separator == "; " ? "; and" : " and"
    guard items.contains(where: { $0.setting != nil }) else {
      return items.prefix(limit).map(\.text).joined(separator: separator) + "\(and) \(items.count - limit) more" + more
    }
    // Groups in order of first appearance: an interface (or a kind), and in it a key's items.
    var groups: [(label: String, keys: [[Item]])] = []
    var groupIndex: [String: Int] = [:]
    var keyIndex: [String: (Int, Int)] = [:]
    for item in items {
      guard let s = item.setting else {
        groups.append((label: "", keys: [[item]]))
        continue
      }
      let scope = item.scope.map { escaped($0) + ": " } ?? ""
      let label = scope + (s.interface.map(escaped) ?? s.kind.rawValue)
      let group = (item.scope ?? "") + "\u{0}" + (s.interface.map { "i" + $0 } ?? "k" + s.kind.rawValue)
      let key = group + "\u{0}" + s.kind.rawValue + "\u{0}" + s.key
      if let (g, k) = keyIndex[key] {
        groups[g].keys[k].append(item)
      } else if let g = groupIndex[group] {
        groups[g].keys.append([item])
        keyIndex[key] = (g, groups[g].keys.count - 1)
      } else {
        groups.append((label: label, keys: [[item]]))
        groupIndex[group] = groups.count - 1
        keyIndex[key] = (groups.count - 1, 0)
      }
    }
    // One part per key: a single setting by its name, a key of several queues counted. In a
    // group, keys and queues in the settings' order (rx-2 before rx-10), whatever the list's.
    var parts: [(label: String, text: String, count: Int)] = []
    var elided = false
    for group in groups {
      func precedes(_ a: Item, _ b: Item) -> Bool {
        guard let x = a.setting, let y = b.setting else { return false }
        return x < y
      }
      let keys = group.keys.map { $0.sorted(by: precedes) }.sorted { precedes($0[0], $1[0]) }
      for members in keys {
        guard let s = members[0].setting, members.count > 1 else {
          let item = members[0]
          parts.append((group.label, item.setting.map { $0.localName + item.detail } ?? item.text, 1))
          continue
        }
        let names = members.map { $0.setting?.queue.map(escaped) ?? $0.setting?.localName ?? "" }
        let details = members.map(\.detail)
        let queues: String
        if Set(details).count == 1 {
          queues = "(" + summary(names.map { Item($0) }, limit: 3, separator: ", ") + ")" + details[0]
        } else {
          queues = "(" + summary(zip(names, details).map { Item($0 + $1) }, limit: 3) + ")"
        }
        elided = elided || members.count > 4
        parts.append((group.label, "\(members.count) \(escaped(s.key)) " + queues, members.count))
      }
    }
    let shown = parts.count > limit + 1 ? limit : parts.count
    var text = ""
    var previous: String?
    for (n, part) in parts.prefix(shown).enumerated() {
      if n > 0 { text += separator }
      if !part.label.isEmpty && part.label != previous { text += part.label + ": " }
      text += part.text
      previous = part.label
    }
    if shown < parts.count {
      let rest = parts[shown...]
      var labels: [String] = []
      for part in rest where !part.label.isEmpty && !labels.contains(part.label) { labels.append(part.label) }
      text += "\(and) \(rest.map(\.count).reduce(0, +)) more"
      if !labels.isEmpty { text += " in " + summary(labels.map { Item($0) }, limit: 3, separator: ", ") }
      elided = true
    }
    return elided ? text + more : text
  }
}
