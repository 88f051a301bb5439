import BPSTuneKernel

/// "did you mean ...?" for misspelt keys, enum values and names.
package enum Suggestion {
  /// The candidate nearest to `word` by edit distance, if it is near enough to be a typo.
  package static func nearest(to word: String, in candidates: [String]) -> String? {
    // Ties go to the candidate sharing the longest prefix ("of" -> "off", not "on").
    let w = word.lowercased()
    let scored = candidates.map { c in
      (c, distance(w, c.lowercased()), -zip(w, c.lowercased()).prefix { $0 == $1 }.count)
    }
    guard let best = scored.min(by: { ($0.1, $0.2) < ($1.1, $1.2) }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
  }

  /// " (did you mean X?)" or "".
  package static func hint(for word: String, in candidates: [String]) -> String {
    nearest(to: word, in: candidates).map { " (did you mean \($0)?)" } ?? ""
  }

  /// The existing path nearest to `components` below the kernel directory `top` ("/proc/sys",
  /// "/sys"): each component its directory lacks replaced by the directory's nearest entry.
  /// Nil when nothing is missing, or a missing component has no near entry.
  static func nearestPath(_ components: [String], below top: String, on host: KernelHost) -> [String]? {
    var directory = top
    var found: [String] = []
    var replaced = false
    for component in components {
      let entries = host.list(directory)
      var next = component
      if !entries.contains(component) {
        guard let near = nearest(to: component, in: entries) else { return nil }
        next = near
        replaced = true
      }
      found.append(next)
      directory += "/" + next
    }
    return replaced && host.exists(directory) ? found : nil
  }

  /// Levenshtein distance.
  static func distance(_ a: String, _ b: String) -> Int {
    let x = Array(a)
    let y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var row = Array(0...y.count)
    for i in 1...x.count {
      var previous = row[0]
      row[0] = i
      for j in 1...y.count {
        let current = row[j]
        row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
        previous = current
      }
    }
    return row[y.count]
  }
}
