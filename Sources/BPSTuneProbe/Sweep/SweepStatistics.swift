/// The statistics of a sweep: each candidate's objective over its repeats as a median with a
/// distribution-free confidence interval from the order statistics of the repeats, and the
/// decision among the candidates.
package enum SweepStatistics {
  /// A median and the interval around it.
  package struct Estimate: Sendable, Equatable {
    package var median: Double
    package var low: Double
    package var high: Double
    /// The probability that the interval holds the true median: 95% or more where the repeats
    /// allow it; with fewer than 6 repeats no order statistics reach 95%, and [min, max] covers
    /// it with 1 - 2^(1-n) (n = 2: 50%, 5: 93.75%).
    package var coverage: Double

    package func overlaps(_ other: Estimate) -> Bool { low <= other.high && other.low <= high }
  }

  /// The median of `values` (the mean of the middle two for an even count).
  package static func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }

  /// The median of the repeats and the order-statistic interval [x(k), x(n+1-k)] for the largest
  /// k whose coverage, 1 - 2 P(Binomial(n, 1/2) < k), is at least 95%; [min, max] when no k is.
  package static func estimate(_ values: [Double]) -> Estimate {
    let s = values.sorted()
    let n = s.count
    guard n > 0 else { return Estimate(median: .nan, low: .nan, high: .nan, coverage: 0) }
    // P(Binomial(n, 1/2) = i) for i = 0...n, summed from the tail.
    var k = 1
    var coverage = 1 - 2 * binomialTail(n, below: 1)
    while k + 1 <= (n + 1) / 2 {
      let next = 1 - 2 * binomialTail(n, below: k + 1)
      if next < 0.95 { break }
      k += 1
      coverage = next
    }
    return Estimate(median: median(s), low: s[k - 1], high: s[n - k], coverage: coverage)
  }

  /// P(Binomial(n, 1/2) < k).
  static func binomialTail(_ n: Int, below k: Int) -> Double {
    var sum = 0.0
    var choose = 1.0  // C(n, i)
    for i in 0..<k {
      if i > 0 { choose = choose * Double(n - i + 1) / Double(i) }
      sum += choose
    }
    return sum / pow2(n)
  }

  static func pow2(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 2 } }

  /// One candidate's figures for one workload.
  package struct Cell: Sendable {
    package var objective: Estimate
    /// Client CPU µs per round trip (median over the repeats).
    package var cpuPerRoundTrip: Double
    /// Busy-poll kthread CPU µs per round trip (median), where the NAPI has one.
    package var kthreadCPUPerRoundTrip: Double?
    package var totalCPUPerRoundTrip: Double { cpuPerRoundTrip + (kthreadCPUPerRoundTrip ?? 0) }
  }

  /// Which candidate a sweep chooses, per workload and overall.
  package struct Decision: Sendable, Equatable {
    /// Per workload: the candidate with the best objective, and those whose intervals overlap
    /// its interval (statistically indistinguishable from it; the best included).
    package var best: [Int]
    package var indistinguishable: [[Int]]
    /// The chosen candidate: among those indistinguishable from the best in the most workloads,
    /// the one with the least CPU per round trip (client and kthread) summed over the workloads.
    package var chosen: Int
    /// The profile as written is indistinguishable from the best in every workload: no
    /// candidate beats it beyond noise.
    package var baselineHolds: Bool
  }

  /// `cells[candidate][workload]`; `baseline` is the candidate of the profile as written.
  package static func decide(_ cells: [[Cell]], baseline: Int) -> Decision {
    let workloads = cells.first?.count ?? 0
    var best: [Int] = []
    var sets: [[Int]] = []
    for w in 0..<workloads {
      let b = cells.indices.min { cells[$0][w].objective.median < cells[$1][w].objective.median } ?? 0
      best.append(b)
      sets.append(cells.indices.filter { cells[$0][w].objective.overlaps(cells[b][w].objective) })
    }
    let count = cells.indices.map { c in sets.filter { $0.contains(c) }.count }
    let most = count.max() ?? 0
    let cpu = cells.map { row in row.reduce(0) { $0 + $1.totalCPUPerRoundTrip } }
    let chosen = cells.indices.filter { count[$0] == most }.min { (cpu[$0], $0) < (cpu[$1], $1) } ?? 0
    return Decision(
      best: best, indistinguishable: sets, chosen: chosen,
      baselineHolds: workloads > 0 && sets.allSatisfy { $0.contains(baseline) })
  }
}
