import Foundation
import Histogram
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTuneProbe

/// `bpstune probe sweep`'s pure parts: the statistics (median, the order-statistic interval
/// and its true coverage against binomial sums worked out by hand, the decision), the --vary
/// options and where each setting goes, the plan (product, caps, the profile as written among
/// the candidates, each candidate's profile as loaded), SplitMix64's order pinned, and the
/// report (table, JSON, the profile --write writes) from synthetic results.
@Suite struct SweepTests {
  // MARK: - Statistics

  typealias Estimate = SweepStatistics.Estimate

  @Test func theMedianOfAnOddAndAnEvenCount() {
    #expect(SweepStatistics.median([3, 1, 2]) == 2)
    #expect(SweepStatistics.median([4, 1, 3, 2]) == 2.5)
    #expect(SweepStatistics.median([7]) == 7)
    #expect(SweepStatistics.median([5, 5, 1, 9, 9]) == 5)
    #expect(SweepStatistics.median([]).isNaN)
  }

  /// The interval [x(k), x(n+1-k)] covers the median with 1 - 2 P(Binomial(n, 1/2) < k); the
  /// sums below are worked out by hand from the binomial coefficients.
  @Test func theIntervalIsTheOrderStatisticsWithTheirTrueCoverage() {
    // n = 2: only [min, max], k = 1: 1 - 2 * C(2,0)/2^2 = 1/2.
    var e = SweepStatistics.estimate([20, 10])
    #expect(e == Estimate(median: 15, low: 10, high: 20, coverage: 0.5))
    // n = 5: k = 1 gives 1 - 2/32 = 0.9375; k = 2 would give 1 - 2 * (1 + 5)/32 = 0.625.
    e = SweepStatistics.estimate([5, 1, 4, 2, 3])
    #expect(e == Estimate(median: 3, low: 1, high: 5, coverage: 0.9375))
    // n = 6: k = 1 gives 1 - 2/64 = 0.96875; k = 2: 1 - 2 * (1 + 6)/64 = 0.78125 < 0.95.
    e = SweepStatistics.estimate([6, 2, 5, 1, 4, 3])
    #expect(e == Estimate(median: 3.5, low: 1, high: 6, coverage: 0.96875))
    // n = 9: k = 2 gives 1 - 2 * (1 + 9)/512 = 0.9609375; k = 3: 1 - 2 * (1 + 9 + 36)/512 = 0.8203.
    e = SweepStatistics.estimate([9, 1, 8, 2, 7, 3, 6, 4, 5].map { Double($0) * 10 })
    #expect(e == Estimate(median: 50, low: 20, high: 80, coverage: 0.9609375))
    // n = 20: P(B < 6) = (1 + 20 + 190 + 1140 + 4845 + 15504)/2^20 = 21700/1048576, so k = 6
    // covers 1 - 43400/1048576 = 0.95861; k = 7 adds C(20,6) = 38760: 1 - 120920/1048576 = 0.8847.
    e = SweepStatistics.estimate((1...20).reversed().map(Double.init))
    #expect(e.median == 10.5 && e.low == 6 && e.high == 15)
    #expect(abs(e.coverage - (1 - 43400.0 / 1_048_576)) < 1e-12, "\(e.coverage)")
    // One repeat: no interval at all, and no coverage.
    e = SweepStatistics.estimate([42])
    #expect(e == Estimate(median: 42, low: 42, high: 42, coverage: 0))
    // Ties and unsorted input change nothing of the method.
    e = SweepStatistics.estimate([3, 3, 3, 1, 9, 3])
    #expect(e == Estimate(median: 3, low: 1, high: 9, coverage: 0.96875))
    #expect(SweepStatistics.estimate([]).median.isNaN)
  }

  @Test func theBinomialTailIsTheHandComputedSum() {
    #expect(SweepStatistics.binomialTail(2, below: 1) == 0.25)
    #expect(SweepStatistics.binomialTail(5, below: 2) == 6.0 / 32)
    #expect(SweepStatistics.binomialTail(9, below: 3) == 46.0 / 512)
    #expect(SweepStatistics.binomialTail(20, below: 6) == 21700.0 / 1_048_576)
    #expect(SweepStatistics.binomialTail(4, below: 5) == 1)
    // Every n up to 50 (the most repeats): the coverage reaches 95% from n = 6 on, never below.
    for n in 1...50 {
      let e = SweepStatistics.estimate((1...n).map(Double.init))
      #expect(n < 6 ? e.coverage < 0.95 : e.coverage >= 0.95, "n = \(n): \(e)")
      #expect(e.low <= e.median && e.median <= e.high)
    }
  }

  /// A cell with the objective's interval [low, high] (median midway) and CPU per round trip.
  func cell(_ low: Double, _ high: Double, cpu: Double, kthread: Double? = nil) -> SweepStatistics.Cell {
    SweepStatistics.Cell(
      objective: Estimate(median: (low + high) / 2, low: low, high: high, coverage: 0.5), cpuPerRoundTrip: cpu,
      kthreadCPUPerRoundTrip: kthread)
  }

  @Test func theDecisionTakesTheLeastCPUAmongTheIndistinguishable() {
    // One workload: 1 is best; 0 overlaps it, 2 does not. 0 is cheaper.
    var d = SweepStatistics.decide(
      [[cell(10, 20, cpu: 5)], [cell(12, 14, cpu: 8)], [cell(30, 40, cpu: 1)]], baseline: 0)
    #expect(d == .init(best: [1], indistinguishable: [[0, 1]], chosen: 0, baselineHolds: true))
    // The kthread's CPU counts: 0 is 5 + 4, 1 is 8.
    d = SweepStatistics.decide(
      [[cell(10, 20, cpu: 5, kthread: 4)], [cell(12, 14, cpu: 8)], [cell(30, 40, cpu: 1)]], baseline: 0)
    #expect(d.chosen == 1 && d.indistinguishable == [[0, 1]])
    // Equal CPU: the first.
    d = SweepStatistics.decide([[cell(13, 20, cpu: 5)], [cell(12, 14, cpu: 5)]], baseline: 1)
    #expect(d.best == [1] && d.chosen == 0 && d.baselineHolds)
    // Intervals that only touch overlap.
    d = SweepStatistics.decide([[cell(14, 20, cpu: 1)], [cell(12, 14, cpu: 5)]], baseline: 1)
    #expect(d.indistinguishable == [[0, 1]] && d.chosen == 0)
    // The baseline (2) apart from the best: it does not hold, and the cheapest of the
    // indistinguishable is chosen even though the baseline is cheaper still.
    d = SweepStatistics.decide(
      [[cell(10, 20, cpu: 5)], [cell(12, 14, cpu: 8)], [cell(30, 40, cpu: 1)]], baseline: 2)
    #expect(d == .init(best: [1], indistinguishable: [[0, 1]], chosen: 0, baselineHolds: false))
    // Nothing overlaps the best: the best alone, whatever its CPU.
    d = SweepStatistics.decide([[cell(1, 2, cpu: 50)], [cell(3, 4, cpu: 1)]], baseline: 1)
    #expect(d == .init(best: [0], indistinguishable: [[0]], chosen: 0, baselineHolds: false))
  }

  @Test func withSeveralWorkloadsTheChosenIsIndistinguishableInTheMost() {
    // Workload 0: 1 best, 0 and 2 overlap it. Workload 1: 3 best, 2 overlaps it.
    // 2 is indistinguishable in both; 0 (cheapest) and 1 and 3 in one each.
    let cells = [
      [cell(10, 12, cpu: 1), cell(100, 120, cpu: 1)],
      [cell(9, 11, cpu: 9), cell(50, 60, cpu: 9)],
      [cell(11, 13, cpu: 6), cell(25, 35, cpu: 6)],
      [cell(20, 30, cpu: 2), cell(20, 30, cpu: 2)],
    ]
    var d = SweepStatistics.decide(cells, baseline: 0)
    #expect(d.best == [1, 3])
    #expect(d.indistinguishable == [[0, 1, 2], [2, 3]])
    #expect(d.chosen == 2)
    #expect(!d.baselineHolds, "the baseline is indistinguishable in one workload of two")
    d = SweepStatistics.decide(cells, baseline: 2)
    #expect(d.baselineHolds)
    // CPU is summed over the workloads: 0 and 1 tie on count (one each with 2 and 3 gone), 1
    // cheaper in total.
    let two = [
      [cell(10, 12, cpu: 1), cell(100, 120, cpu: 9)],
      [cell(9, 11, cpu: 5), cell(50, 60, cpu: 4)],
    ]
    d = SweepStatistics.decide(two, baseline: 0)
    #expect(d.indistinguishable == [[0, 1], [1]] && d.chosen == 1)
    // No workloads: nothing holds.
    #expect(!SweepStatistics.decide([[], []], baseline: 0).baselineHolds)
  }

  // MARK: - --vary

  let files = TemporaryDirectory("bpstune-sweep")

  /// Loads `text` as the profile file NAME.profile, with -i eth0 where it uses ${iface}.
  func profile(_ text: String, _ name: String = "base", overrides: [String: String] = [:]) throws -> Profile {
    let path = files.write("\(name).profile", text)
    return try ProfileLoader().load(path, overrides: overrides, interface: "eth0", interfaceIfUsed: true)
  }

  static let baseText = """
    [profile]
    description = "every place a sweep can vary"
    [variables]
    app-cpus = "2-3"
    defer = "0"
    [sysctl]
    net.core.busy_read = 50
    [sysfs]
    "devices/virtual/workqueue/cpumask" = "1-3"
    [[interface]]
    name = "${iface}"
    napi-defer-hard-irqs = "${defer}"
    gro-flush-timeout = "15000"
    coalesce = { rx-usecs = 10, tx-usecs = 20 }
    [interface.napi]
    irq-suspend-timeout = 0
    """

  func vary(_ text: String, in profile: Profile) throws -> SweepVary {
    try SweepVary(parsing: text, profile: profile)
  }

  @Test func eachSettingFindsItsPlace() throws {
    let p = try profile(Self.baseText)
    let cases: [(String, SweepVary.Place, [String])] = [
      ("app-cpus=2-3|4-5", .variable, ["2-3", "4-5"]),
      ("defer=0,100", .variable, ["0", "100"]),
      ("net.core.busy_read=0,50", .sysctl, ["0", "50"]),
      ("net.ipv4.tcp_fastopen=1,3", .sysctl, ["1", "3"]),
      ("devices/virtual/workqueue/cpumask=1-3|2-3", .sysfs, ["1-3", "2-3"]),
      ("napi-defer-hard-irqs=0,100", .interface, ["0", "100"]),
      ("gro-flush-timeout=0, 15us ,20000", .interface, ["0", "15us", "20000"]),
      ("rps-cpus=0,1|2", .interface, ["0,1", "2"]),
      ("coalesce.rx-usecs=0,50", .interfaceField(table: "coalesce", field: "rx-usecs"), ["0", "50"]),
      ("ring.rx=256,1024", .interfaceField(table: "ring", field: "rx"), ["256", "1024"]),
      ("napi.defer-hard-irqs=0,100", .napi("defer-hard-irqs"), ["0", "100"]),
      ("napi.threaded=enabled,disabled", .napi("threaded"), ["enabled", "disabled"]),
      ("defer-hard-irqs=1,2", .napi("defer-hard-irqs"), ["1", "2"]),
      ("irq-suspend-timeout=0,1000000", .napi("irq-suspend-timeout"), ["0", "1000000"]),
    ]
    for (text, place, values) in cases {
      let v = try vary(text, in: p)
      #expect(v.place == place, "\(text)")
      #expect(v.values == values, "\(text)")
      #expect(v.setting == String(text[..<text.firstIndex(of: "=")!]), "\(text)")
    }
    // Sixteen values are allowed.
    #expect(
      try vary("net.core.busy_read=" + (1...16).map(String.init).joined(separator: ","), in: p).values.count == 16)
  }

  @Test func aVaryThatCannotBeUsedIsOneLineNamingIt() throws {
    let p = try profile(Self.baseText)
    let cases: [(String, String)] = [
      ("napi-defer-hard-irqs", "--vary napi-defer-hard-irqs: expected SETTING=V1,V2,..."),
      ("=1,2", "--vary =1,2: expected SETTING=V1,V2,..."),
      ("napi-defer-hard-irqs=", "--vary napi-defer-hard-irqs: an empty value in \"\""),
      ("napi-defer-hard-irqs=1,,2", "--vary napi-defer-hard-irqs: an empty value in \"1,,2\""),
      ("napi-defer-hard-irqs=1, ", "--vary napi-defer-hard-irqs: an empty value in \"1, \""),
      ("app-cpus=1-2||3", "--vary app-cpus: an empty value in \"1-2||3\""),
      ("napi-defer-hard-irqs=1,2,1", "--vary napi-defer-hard-irqs: a value is given twice"),
      ("gro-flush-timeout=15us, 15us", "--vary gro-flush-timeout: a value is given twice"),
      (
        "net.core.busy_read=" + (0...16).map(String.init).joined(separator: ","),
        "--vary net.core.busy_read: 17 values; at most 16"
      ),
      (
        "napi-defer-hard-irq=1,2",
        "--vary napi-defer-hard-irq: not a variable of \(p.name), a sysctl, a /sys path or an interface setting (did you mean napi-defer-hard-irqs?)"
      ),
      (
        "app-cpu=1|2",
        "--vary app-cpu: not a variable of \(p.name), a sysctl, a /sys path or an interface setting (did you mean app-cpus?)"
      ),
      ("napi.defer-hard-irq=1,2", "--vary napi.defer-hard-irq: not a per-NAPI key (did you mean defer-hard-irqs?)"),
    ]
    for (text, message) in cases {
      let error = thrownText { try vary(text, in: p) }
      #expect(error == message, "\(text)")
      #expect(error.map { !$0.contains("\n") } ?? false)
    }
  }

  // MARK: - The plan

  @Test func candidatesAreTheProductWithTheFirstVaryingSlowest() throws {
    let p = try profile(Self.baseText)
    let plan = try SweepPlan(
      profile: p,
      varies: [try vary("net.core.busy_read=0,50", in: p), try vary("napi-defer-hard-irqs=1,2,3", in: p)])
    #expect(
      plan.candidates.dropFirst().map(\.values) == [
        ["0", "1"], ["0", "2"], ["0", "3"], ["50", "1"], ["50", "2"], ["50", "3"],
      ])
    // No combination is the profile as written (busy_read 50 with deferral 0): it is added first.
    #expect(plan.candidates.count == 7)
    #expect(plan.candidates[0] == SweepCandidate(values: [], isBaseline: true))
    #expect(plan.candidates.dropFirst().allSatisfy { !$0.isBaseline })
    #expect(plan.candidates[0].label(plan.varies) == "as written")
    #expect(plan.candidates[4].label(plan.varies) == "busy_read=50 napi-defer-hard-irqs=1")
  }

  @Test func moreThanSixtyFourCandidatesOrASettingTwiceIsRefused() throws {
    let p = try profile(Self.baseText)
    let sixteen = (1...16).map(String.init).joined(separator: ",")
    let ok = try SweepPlan(
      profile: p, varies: [try vary("net.core.busy_read=" + sixteen, in: p), try vary("defer=0,1,2,3", in: p)])
    #expect(ok.candidates.count == 64 + 1, "64 combinations and the profile as written")
    let over = thrownText {
      try SweepPlan(
        profile: p,
        varies: [
          try vary("net.core.busy_read=1,2,3,4,5", in: p), try vary("defer=1,2,3,4,5", in: p),
          try vary("gro-flush-timeout=1,2,3", in: p),
        ])
    }
    #expect(over == "probe sweep: 5 x 5 x 3 = 75 candidates; at most 64")
    let twice = thrownText {
      try SweepPlan(profile: p, varies: [try vary("defer=1,2", in: p), try vary("defer=3,4", in: p)])
    }
    #expect(twice == "--vary defer: given twice")
    #expect(
      thrownText { try SweepPlan(profile: p, varies: []) } == "probe sweep: give at least one --vary SETTING=V1,V2,...")
  }

  @Test func theProfileAsWrittenIsFoundAmongTheCombinationsByValue() throws {
    let p = try profile(Self.baseText)
    func baselines(_ varies: String...) throws -> [[String]] {
      let plan = try SweepPlan(profile: p, varies: try varies.map { try vary($0, in: p) })
      return plan.candidates.filter(\.isBaseline).map(\.values)
    }
    // "15000" as written (a string) is the value 15000, and 015000 too; 15us is not by its text
    // (the profile as written is added here; once planned, ``SweepPlan/settle(_:)`` finds it by
    // meaning: theCandidatesAreSettledByMeaningOncePlanned).
    #expect(try baselines("gro-flush-timeout=15000,20000") == [["15000"]])
    #expect(try baselines("gro-flush-timeout=20000,015000") == [["015000"]])
    #expect(try baselines("gro-flush-timeout=15us,20us") == [[]])
    // A sysctl, a variable (the value after --set), a table's field, a sysfs path.
    #expect(try baselines("net.core.busy_read=0,50") == [["50"]])
    #expect(try baselines("defer=100,0") == [["0"]])
    #expect(try baselines("coalesce.rx-usecs=50,10") == [["10"]])
    #expect(try baselines("coalesce.tx-usecs=20,40", "net.core.busy_read=50,0") == [["20", "50"]])
    #expect(try baselines("devices/virtual/workqueue/cpumask=1-3|2-3") == [["1-3"]])
    // Only the combination with every value as written.
    #expect(try baselines("net.core.busy_read=0,50", "defer=0,100") == [["50", "0"]])
    // A setting the profile does not set: the profile as written is added.
    #expect(try baselines("net.core.busy_poll=0,50") == [[]])
    #expect(try baselines("coalesce.rx-frames=1,2") == [[]])
    // --set changes what "as written" means.
    let set = try profile(Self.baseText, "set", overrides: ["defer": "100"])
    let plan = try SweepPlan(profile: set, varies: [try vary("defer=0,100", in: set)])
    #expect(plan.candidates.map(\.isBaseline) == [false, true])
  }

  /// [interface.napi] is one interface key, "napi", whose value is a table: the per-NAPI value
  /// as written is that table's field.
  @Test
  func aPerNAPIValueAsWrittenIsFound() throws {
    let p = try profile(Self.baseText)
    let plan = try SweepPlan(profile: p, varies: [try vary("irq-suspend-timeout=0,1000000", in: p)])
    #expect(plan.candidates.map(\.isBaseline) == [true, false], "\(plan.candidates)")
    let named = try SweepPlan(profile: p, varies: [try vary("napi.irq-suspend-timeout=5,0", in: p)])
    #expect(named.candidates.map(\.isBaseline) == [false, true], "\(named.candidates)")
    // A per-NAPI key the profile does not set: the profile as written is added.
    let unset = try SweepPlan(profile: p, varies: [try vary("napi.defer-hard-irqs=0,1", in: p)])
    #expect(unset.candidates.map(\.values) == [[], ["0"], ["1"]])
  }

  /// An interface setting's value as written is the one the profile gives the swept interface:
  /// from the ${iface} block wherever it stands, or from a later block naming the interface (the
  /// planner lets the later block win); never from a first block that names another interface.
  @Test func theValueAsWrittenIsTheSweptInterfaces() throws {
    let text = """
      [[interface]]
      name = "eth0"
      napi-defer-hard-irqs = 5
      coalesce = { rx-usecs = 5 }
      [interface.napi]
      defer-hard-irqs = 5
      [[interface]]
      name = "${iface}"
      napi-defer-hard-irqs = 100
      coalesce = { rx-usecs = 100 }
      [interface.napi]
      defer-hard-irqs = 100
      [[interface]]
      name = "eth*"
      gro-flush-timeout = 20000
      """
    let path = files.write("blocks.profile", text)
    for interface in ["eth0", "eth1"] {
      // -i eth0: the eth0 block and the ${iface} block both name it, the later wins; -i eth1:
      // the eth0 block is another interface's.
      let p = try ProfileLoader().load(path, interface: interface, interfaceIfUsed: true)
      func baselines(_ text: String) throws -> [[String]] {
        try SweepPlan(profile: p, varies: [try vary(text, in: p)]).candidates.filter(\.isBaseline).map(\.values)
      }
      #expect(try baselines("napi-defer-hard-irqs=5,100") == [["100"]], "-i \(interface)")
      #expect(try baselines("coalesce.rx-usecs=5,100") == [["100"]], "-i \(interface)")
      #expect(try baselines("napi.defer-hard-irqs=5,100") == [["100"]], "-i \(interface)")
      // A glob block after it that matches the interface.
      #expect(try baselines("gro-flush-timeout=0,20000") == [["20000"]], "-i \(interface)")
    }
    // A glob that does not match the swept interface gives it nothing.
    let other = try ProfileLoader().load(path, interface: "ens1", interfaceIfUsed: true)
    let plan = try SweepPlan(profile: other, varies: [try vary("gro-flush-timeout=0,20000", in: other)])
    #expect(plan.candidates.map(\.values) == [[], ["0"], ["20000"]])
  }

  /// Once every candidate is planned, values are compared by meaning, as the plan takes them:
  /// a combination whose values mean the profile's own takes the place of the profile as
  /// written, and two candidates that ask the same of the host are refused, naming the --vary.
  @Test func theCandidatesAreSettledByMeaningOncePlanned() throws {
    let kernel = FakeKernel()
    kernel.addInterface("eth0")
    kernel.set("/proc/sys/net/core/busy_read", "0")
    let host = KernelHost(root: kernel.root)
    let p = try profile(
      """
      [variables]
      poll = "0"
      [sysctl]
      net.core.busy_read = "50us"
      [[interface]]
      name = "${iface}"
      gro-flush-timeout = "15us"
      rps-cpus = "0-1"
      [probe]
      busy-poll = "${poll}"
      """, "meaning")
    /// The plan of `varies`, settled as the sweep settles it; the index dropped.
    func settled(_ varies: String...) throws -> (plan: SweepPlan, dropped: Int?) {
      var plan = try SweepPlan(profile: p, varies: try varies.map { try vary($0, in: p) })
      let effects = try ProbeSweep.load(plan, overrides: [:], interface: "eth0").map { candidate in
        SweepPlan.Effect(
          plan: try Planner().plan(candidate, on: host),
          application: ProbeSocketSettings().application(explicit: ApplicationSide(), profile: candidate.probe))
      }
      let dropped = try plan.settle(effects)
      return (plan, dropped)
    }
    // 15000 ns is 15us: it is the profile as written, and none is added.
    var (plan, dropped) = try settled("gro-flush-timeout=0,15000")
    #expect(dropped == 0)
    #expect(plan.candidates == [.init(values: ["0"], isBaseline: false), .init(values: ["15000"], isBaseline: true)])
    // A CPU list written another way; a sysctl in µs written in ms; with a second --vary.
    (plan, dropped) = try settled("rps-cpus=2|0,1")
    #expect(dropped == 0 && plan.candidates.map(\.isBaseline) == [false, true], "\(plan.candidates)")
    (plan, dropped) = try settled("net.core.busy_read=0,0.05ms", "gro-flush-timeout=15000,20us")
    #expect(dropped == 0, "\(plan.candidates)")
    #expect(plan.candidates.filter(\.isBaseline).map(\.values) == [["0.05ms", "15000"]])
    #expect(plan.candidates.count == 4)
    // Found by its text already: nothing to drop.
    (plan, dropped) = try settled("gro-flush-timeout=15us,0")
    #expect(dropped == nil && plan.candidates.map(\.isBaseline) == [true, false])
    // No combination means the profile's own values: it stays, first.
    (plan, dropped) = try settled("gro-flush-timeout=0,20000")
    #expect(dropped == nil && plan.candidates.map(\.values) == [[], ["0"], ["20000"]])
    // A variable used only by [probe]: the plans are the same, the application side is not.
    (plan, dropped) = try settled("poll=0,50")
    #expect(dropped == nil && plan.candidates.map(\.isBaseline) == [true, false])

    // Two values of the same meaning: refused, naming the --vary, whether or not either is the
    // profile's own.
    for (varies, message) in [
      (["gro-flush-timeout=15us,15000"], "--vary gro-flush-timeout: 15us and 15000 are the same value on this host"),
      (["gro-flush-timeout=20us,20000"], "--vary gro-flush-timeout: 20us and 20000 are the same value on this host"),
      (["rps-cpus=2-3|2,3"], "--vary rps-cpus: 2-3 and 2,3 are the same value on this host"),
      (
        ["net.core.busy_read=0,50", "gro-flush-timeout=1ms,1000000"],
        "--vary gro-flush-timeout: 1ms and 1000000 are the same value on this host"
      ),
    ] {
      var plan = try SweepPlan(profile: p, varies: try varies.map { try vary($0, in: p) })
      let effects = try ProbeSweep.load(plan, overrides: [:], interface: "eth0").map { candidate in
        SweepPlan.Effect(
          plan: try Planner().plan(candidate, on: host),
          application: ProbeSocketSettings().application(explicit: ApplicationSide(), profile: candidate.probe))
      }
      #expect(thrownText { try plan.settle(effects) } == message + "; give it once", "\(varies)")
    }
  }

  /// Two candidates that differ in more than one --vary and still ask the same are named whole.
  @Test func candidatesAlikeInSeveralValuesAreNamedWhole() throws {
    let p = try profile(Self.baseText)
    var plan = try SweepPlan(
      profile: p, varies: [try vary("net.core.busy_read=0,50", in: p), try vary("defer=0,100", in: p)])
    #expect(plan.candidates.map(\.values) == [["0", "0"], ["0", "100"], ["50", "0"], ["50", "100"]])
    // Every candidate apart by its application side, but for 1 and 2.
    let effects = (0..<4).map { c in
      var socket = ProbeSocketSettings()
      socket.busyPoll = c == 2 ? 1 : c
      return SweepPlan.Effect(
        plan: Plan(profile: "x", entries: [], warnings: []), application: ProbeApplication(socket: socket))
    }
    #expect(
      thrownText { try plan.settle(effects) }
        == "probe sweep: candidates busy_read=0 defer=100 and busy_read=50 defer=0 ask the same of this host; vary what tells them apart"
    )
  }

  @Test func eachCandidateLoadsAsTheProfileWithItsValues() throws {
    let p = try profile(Self.baseText)
    // One setting of each place; all but the first with one value.
    let plan = try SweepPlan(
      profile: p,
      varies: [
        try vary("napi-defer-hard-irqs=0,100", in: p), try vary("gro-flush-timeout=15us", in: p),
        try vary("net.core.busy_read=0", in: p), try vary("coalesce.rx-usecs=64", in: p),
        try vary("app-cpus=4-5", in: p), try vary("napi.defer-hard-irqs=3", in: p),
        try vary("devices/virtual/workqueue/cpumask=0-1", in: p),
      ])
    #expect(plan.candidates.map(\.isBaseline) == [true, false, false])
    let c = plan.candidates[2]
    #expect(c.values == ["100", "15us", "0", "64", "4-5", "3", "0-1"])
    let text = plan.text(c, interfaceName: "${iface}")
    #expect(text.contains("include = [\"\(p.path)\"]"), "\(text)")
    // Loaded as the sweep loads it: -i for ${iface}, the candidate's variables over --set.
    let loaded = try ProfileLoader().load(
      text: text, path: p.path + ".sweep-2", overrides: plan.overrides(c, base: [:]), interface: "eth0",
      interfaceIfUsed: true)
    #expect(loaded.files == [p.path + ".sweep-2", p.path])
    #expect(loaded.variables["app-cpus"] == "4-5")
    #expect(loaded.sections["sysctl"]?.first { $0.key == "net.core.busy_read" }?.value == .integer(0))
    #expect(
      loaded.sections["sysfs"]?.first { $0.key == "devices/virtual/workqueue/cpumask" }?.value == .string("0-1"))
    #expect(loaded.interfaces.map(\.name) == ["eth0"])
    let settings = Dictionary(uniqueKeysWithValues: loaded.interfaces[0].settings.map { ($0.key, $0.value) })
    #expect(settings["napi-defer-hard-irqs"] == .integer(100))
    #expect(settings["gro-flush-timeout"] == .string("15us"))
    // A table's field merges with the profile's other fields.
    #expect(settings["coalesce"] == .table(["rx-usecs": .integer(64), "tx-usecs": .integer(20)]))
    #expect(settings["napi"] == .table(["defer-hard-irqs": .integer(3), "irq-suspend-timeout": .integer(0)]))

    // ProbeSweep.load loads every candidate the same way, each named after its values; the
    // profile as written has the profile's own values.
    let profiles = try ProbeSweep.load(plan, overrides: [:], interface: "eth0")
    #expect(profiles.count == 3)
    #expect(profiles[2].name == ProbeSweep.name(of: c, in: plan))
    #expect(!profiles[2].name.contains(" ") && profiles[2].name.hasPrefix("base@napi-defer-hard-irqs=100,"))
    #expect(profiles[2].variables == loaded.variables)
    func values(_ p: Profile) -> [String: ProfileValue] {
      Dictionary(uniqueKeysWithValues: p.interfaces[0].settings.map { ($0.key, $0.value) })
    }
    #expect(values(profiles[2]) == settings)
    #expect(profiles[0].name == "base@as-written")
    #expect(values(profiles[0]) == values(p))
    #expect(profiles[0].sections["sysctl"]?.map(\.value) == p.sections["sysctl"]?.map(\.value))
    #expect(values(profiles[1])["napi-defer-hard-irqs"] == .integer(0))
  }

  @Test func theInterfaceACandidateVariesIsIfaceOrTheOnlyBlock() throws {
    let iface = try profile(Self.baseText)
    #expect(try SweepPlan.interfaceName(of: iface, raw: iface.interfaces.map(\.name)) == "${iface}")
    let named = try profile("[[interface]]\nname = \"eth0\"\nnapi-defer-hard-irqs = 1\n", "named")
    #expect(try SweepPlan.interfaceName(of: named, raw: named.interfaces.map(\.name)) == "eth0")
    let two = try profile(
      "[[interface]]\nname = \"eth0\"\nthreaded = 1\n[[interface]]\nname = \"eth1\"\nthreaded = 1\n", "two")
    #expect(
      thrownText { try SweepPlan.interfaceName(of: two, raw: two.interfaces.map(\.name)) }
        == "probe sweep: \(two.name) has 2 interface blocks and no ${iface}: an interface setting cannot say which it varies"
    )
  }

  /// A field name from the command line is one TOML key, however it is written: it cannot
  /// close the inline table, add a field, or start a section (a root-only [sysctl] such as
  /// kernel.core_pattern) in the candidate's profile; the loader refuses it by name.
  @Test func aHostileFieldStaysOneKeyAndIsRefused() throws {
    let p = try profile(Self.baseText)
    for field in [
      "rx-usecs, tx-usecs", "rx-usecs }\n[sysctl]\nkernel.core_pattern", "rx-usecs\" , \"tx-usecs",
    ] {
      let plan = try SweepPlan(profile: p, varies: [try vary("coalesce.\(field)=5", in: p)])
      let candidate = try #require(plan.candidates.first { !$0.values.isEmpty })
      let text = plan.text(candidate, interfaceName: "${iface}")
      #expect(text.contains("coalesce = { \(ConfigText.tomlString(field)) = 5 }"), "\(text)")
      #expect(!text.split(separator: "\n").contains { $0.hasPrefix("[sysctl]") }, "\(text)")
      let refused = thrownText { try ProbeSweep.load(plan, overrides: [:], interface: "eth0") }
      #expect(refused?.contains("coalesce") == true && refused?.contains("\n") == false, "\(refused ?? "loaded")")
    }
  }

  /// A candidate that stopped while measured is one line naming it and the reason once: exit 3
  /// when its rollback undid changes, exit 2 when its apply had changed nothing.
  @Test func aFailedCandidateIsOneLineNamingItAndTheReasonOnce() throws {
    let name = "veth@napi-defer-hard-irqs=0,gro-flush-timeout=15us"
    var e = ProbeSweep.failure(.interrupted, candidate: name, undone: 2)
    #expect(e.description == "probe sweep: candidate \(name): interrupted; undid 2 change(s), the host is as before")
    #expect(e.exitCode == 3)
    let peer = BPSTuneError.probe(what: "10.0.0.2:7878", message: "no reply within 1000 ms")
    e = ProbeSweep.failure(.failed(peer), candidate: name, undone: 1)
    #expect(
      e.description
        == "probe sweep: candidate \(name): probe 10.0.0.2:7878: no reply within 1000 ms; undid 1 change(s), the host is as before"
    )
    e = ProbeSweep.failure(.interrupted, candidate: "veth@as-written", undone: nil)
    #expect(e.description == "probe sweep: candidate veth@as-written: interrupted; the host is as before")
    #expect(e.exitCode == 2)
  }

  // MARK: - The order

  @Test func splitMix64IsTheReferenceGeneratorAndASeedFixesTheOrder() {
    // The reference outputs of SplitMix64 (Steele, Lea and Flood; Vigna's splitmix64.c) for
    // seeds 0 and 1234567.
    var g = SplitMix64(seed: 0)
    #expect(
      [g.next(), g.next(), g.next()] == [
        16_294_208_416_658_607_535, 7_960_286_522_194_355_700, 487_617_019_471_545_679,
      ])
    g = SplitMix64(seed: 1_234_567)
    #expect(
      [g.next(), g.next(), g.next()] == [
        6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
      ])
    // Fisher-Yates from the top, j = next() % (i + 1): pinned, so that a change of either is
    // caught (a replayed --seed must give the same order on any machine, any release).
    #expect(ProbeSweep.orders(candidates: 4, repeats: 2, seed: 7) == [[1, 2, 0, 3], [0, 2, 1, 3]])
    #expect(
      ProbeSweep.orders(candidates: 5, repeats: 3, seed: 7) == [[4, 1, 3, 0, 2], [2, 0, 3, 1, 4], [2, 4, 3, 1, 0]])
    #expect(ProbeSweep.orders(candidates: 9, repeats: 1, seed: 0) == [[1, 0, 3, 5, 6, 8, 2, 4, 7]])
    #expect(ProbeSweep.orders(candidates: 1, repeats: 3, seed: 7) == [[0], [0], [0]])
    #expect(ProbeSweep.orders(candidates: 0, repeats: 1, seed: 7) == [[]])
    // Every order is a permutation; the same seed gives the same orders, others differ.
    var distinct: Set<[[Int]]> = []
    for seed in UInt64(0)..<200 {
      for n in [2, 3, 5, 17, 65] {
        let orders = ProbeSweep.orders(candidates: n, repeats: 3, seed: seed &* 0x1234_5678_9abc)
        #expect(orders.allSatisfy { $0.sorted() == Array(0..<n) }, "seed \(seed), \(n)")
        #expect(orders == ProbeSweep.orders(candidates: n, repeats: 3, seed: seed &* 0x1234_5678_9abc))
        if n == 17 { distinct.insert(orders) }
      }
    }
    #expect(distinct.count == 200)
    #expect(ProbeSweep.orders(candidates: 4, repeats: 50, seed: UInt64.max).count == 50)
  }

  // MARK: - The report

  /// A result whose round trips are all `us` µs, with `cpu` µs of client CPU and `kthread` µs of
  /// NAPI kthread CPU per round trip.
  func result(_ us: Double, cpu: Double, kthread: Double? = nil, count: UInt64 = 1000) throws -> ProbeResult {
    var h = Histogram<UInt64>(highestTrackableValue: ProbeClient.highest)
    _ = h.record(UInt64(us * 1000), count: count)
    return ProbeResult(
      settings: ProbeClient.Settings(peer: try SocketAddress(parsing: "10.0.0.2:7878")), local: "10.0.0.1:5",
      interface: "eth0", sent: count, received: count, elapsedNanoseconds: 1_000_000_000, histogram: h,
      cpuNanoseconds: UInt64(cpu * 1000 * Double(count)),
      proof: ProofDelta(
        busyPollRxPackets: count / 2, netRxSoftirqs: count * 2, queueIRQs: [44: count / 4],
        kthreadNanoseconds: kthread.map { UInt64($0 * 1000 * Double(count)) }),
      incomingNAPIID: 8193, interrupted: false)
  }

  static let workloads = [ProbeCompare.Workload(rate: nil, delay: 0), ProbeCompare.Workload(rate: 2000, delay: 30)]

  /// A 2 x 2 sweep of the veth profile (as written: 0 and 0), two workloads, two repeats.
  func sweep() throws -> SweepPlan {
    let p = try profile(
      """
      [profile]
      description = "veth"
      [[interface]]
      name = "${iface}"
      napi-defer-hard-irqs = 0
      gro-flush-timeout = 0
      """, "veth")
    return try SweepPlan(
      profile: p,
      varies: [try vary("napi-defer-hard-irqs=0,100", in: p), try vary("gro-flush-timeout=0,15us", in: p)])
  }

  /// The objective (µs), CPU and kthread CPU per round trip of one workload in one repeat.
  typealias Figure = (Double, Double, Double?)

  /// Runs with per candidate, per repeat, per workload the objective (µs), CPU and kthread CPU.
  func runs(_ figures: [[[Figure]]]) throws -> [ProbeSweep.Run] {
    var out: [ProbeSweep.Run] = []
    for (c, repeats) in figures.enumerated() {
      for (r, workloads) in repeats.enumerated() {
        out.append(
          ProbeSweep.Run(
            candidate: c, repeatIndex: r,
            results: try workloads.map { try result($0.0, cpu: $0.1, kthread: $0.2) }))
      }
    }
    return out
  }

  @Test func theReportHasEveryCandidateAndWorkloadAndSaysWhatItChose() throws {
    let plan = try sweep()
    #expect(plan.candidates.map(\.isBaseline) == [true, false, false, false])
    // Candidate 1 is best in both workloads; 2 overlaps it in the first only, 3 in both and
    // costs less (5 + 2 kthread against 10); 0, the profile as written, is apart in both.
    let runs = try runs([
      [[(100, 4, nil), (200, 4, nil)], [(110, 4, nil), (210, 4, nil)]],
      [[(50, 10, nil), (100, 10, nil)], [(55, 10, nil), (105, 10, nil)]],
      [[(52, 1, nil), (300, 1, nil)], [(60, 1, nil), (310, 1, nil)]],
      [[(54, 5, 2), (102, 5, 2)], [(58, 5, 2), (104, 5, 2)]],
    ])
    let report = SweepReport(
      plan: plan, runs: runs, workloads: Self.workloads, objective: .p99, repeats: 2, seed: 7, incomplete: nil)
    #expect(report.orders == [[1, 2, 0, 3], [0, 2, 1, 3]])
    let d = try #require(report.decision)
    #expect(d.best == [1, 1])
    #expect(d.indistinguishable == [[1, 2, 3], [1, 3]])
    #expect(d.chosen == 3)
    #expect(!d.baselineHolds)

    let table = report.table()
    #expect(table.hasPrefix("probe sweep veth: objective p99, 2 repeat(s), seed 7 (--seed 7 replays the order)"))
    #expect(table.contains("| candidate | closed loop + 0 µs delay | 2k pkt/s + 30 µs delay |"), "\(table)")
    let rows = table.split(separator: "\n").filter { $0.hasPrefix("| napi-") }
    #expect(rows.count == 4, "\(table)")
    for (c, row) in rows.enumerated() {
      #expect(row.hasPrefix("| \(report.label(c))"), "\(row)")
      #expect(row.components(separatedBy: "p99 ").count - 1 == 2, "\(row)")
      #expect(row.contains("irq/rt 0.25") && row.contains("busy-poll rx/rt 0.5"), "\(row)")
    }
    #expect(rows[0].hasPrefix("| napi-defer-hard-irqs=0 gro-flush-timeout=0 (as written) |"))
    #expect(rows[3].contains("**chosen**") && rows.filter { $0.contains("**chosen**") }.count == 1)
    #expect(rows[3].contains("cpu 5.0+2.0 kthread"), "\(rows[3])")
    #expect(rows[1].contains("p50 "), "\(rows[1])")
    #expect(
      table.contains(
        "best under closed loop + 0 µs delay: napi-defer-hard-irqs=0 gro-flush-timeout=15us; indistinguishable: napi-defer-hard-irqs=100 gro-flush-timeout=0, napi-defer-hard-irqs=100 gro-flush-timeout=15us"
      ), "\(table)")
    #expect(
      table.contains(
        "best under 2k pkt/s + 30 µs delay: napi-defer-hard-irqs=0 gro-flush-timeout=15us; indistinguishable: napi-defer-hard-irqs=100 gro-flush-timeout=15us"
      ), "\(table)")
    #expect(table.contains("chosen: napi-defer-hard-irqs=100 gro-flush-timeout=15us: the least CPU per round trip"))
    #expect(!table.contains("no candidate beats"), "\(table)")
    #expect(table.contains("order statistics of the 2 repeat(s)") && table.contains("covers the median with 50"))

    // JSON: every candidate with a cell per workload, the orders, the decision.
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
    #expect(doc["schema"] as? Int == 1 && doc["command"] as? String == "probe sweep")
    #expect(doc["seed"] as? String == "7" && doc["repeats"] as? Int == 2 && doc["objective"] as? String == "p99")
    #expect(doc["orders"] as? [[Int]] == [[1, 2, 0, 3], [0, 2, 1, 3]])
    #expect((doc["workloads"] as? [[String: Int]])?.count == 2)
    let varies = try #require(doc["varies"] as? [[String: Any]])
    #expect(varies.map { $0["setting"] as? String } == ["napi-defer-hard-irqs", "gro-flush-timeout"])
    let candidates = try #require(doc["candidates"] as? [[String: Any]])
    #expect(candidates.count == 4)
    for (c, candidate) in candidates.enumerated() {
      #expect(candidate["label"] as? String == report.label(c))
      #expect(candidate["baseline"] as? Bool == (c == 0))
      #expect(
        candidate["values"] as? [String: String]
          == ["napi-defer-hard-irqs": plan.candidates[c].values[0], "gro-flush-timeout": plan.candidates[c].values[1]])
      let cells = try #require(candidate["cells"] as? [[String: Any]])
      #expect(cells.count == 2)
      for cell in cells {
        #expect(cell["repeats"] as? Int == 2)
        let o = try #require(cell["objective_us"] as? [String: Double])
        #expect(o["low"]! <= o["median"]! && o["median"]! <= o["high"]!)
        #expect(cell["queue_irqs_per_rt"] as? Double == 0.25 && cell["busy_poll_rx_per_rt"] as? Double == 0.5)
        #expect(cell["net_rx_per_rt"] as? Double == 2)
        #expect((cell["kthread_cpu_us_per_rt"] as? Double) == (c == 3 ? 2 : nil))
      }
    }
    let first = try #require((candidates[1]["cells"] as? [[String: Any]])?.first)
    #expect(abs(((first["objective_us"] as? [String: Double])?["median"] ?? 0) - 52.5) < 0.2, "\(first)")
    #expect(first["cpu_us_per_rt"] as? Double == 10)
    let decision = try #require(doc["decision"] as? [String: Any])
    #expect(decision["best"] as? [Int] == [1, 1] && decision["chosen"] as? Int == 3)
    #expect(decision["indistinguishable"] as? [[Int]] == [[1, 2, 3], [1, 3]])
    #expect(decision["baseline_holds"] as? Bool == false)
    #expect(doc["incomplete"] == nil)

    // The chart: a point and an interval per candidate and workload, the chosen in red.
    let svg = report.svg()
    #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
    #expect(svg.components(separatedBy: "<circle").count - 1 == 8)
    #expect(svg.components(separatedBy: "fill=\"#d62728\" stroke").count - 1 == 2, "the chosen point red")
    #expect(
      svg.components(separatedBy: "\">#").count - 1 == 2 * 4 * 2,
      "each candidate numbered on each axis and named in its legend")
    #expect(svg.components(separatedBy: "fill=\"white\" stroke").count - 1 == 2, "the profile as written hollow")
  }

  @Test func whenNothingBeatsTheProfileAsWrittenItIsSaidPlainly() throws {
    let plan = try sweep()
    // All overlap; 2 is cheapest.
    let runs = try runs(
      (0..<4).map { (c: Int) -> [[Figure]] in
        let cpu: Double = c == 2 ? 1 : 10 - Double(c)
        return [[(50, cpu, nil), (80, 10, nil)], [(60, cpu, nil), (90, 10, nil)]]
      })
    let report = SweepReport(
      plan: plan, runs: runs, workloads: Self.workloads, objective: .p50, repeats: 2, seed: 9, incomplete: nil)
    let d = try #require(report.decision)
    #expect(d.baselineHolds && d.chosen == 2)
    let lines = report.decisionLines()
    #expect(
      lines.last
        == "no candidate beats veth's own values beyond noise; napi-defer-hard-irqs=100 gro-flush-timeout=0 gets the same p50 for less CPU"
    )
    // With the baseline cheapest, no "for less CPU".
    let cheap = try self.runs(
      (0..<4).map { (c: Int) -> [[Figure]] in
        let cpu = Double(c + 1)
        return [[(50, cpu, nil), (80, 1, nil)], [(60, cpu, nil), (90, 1, nil)]]
      })
    let own = SweepReport(
      plan: plan, runs: cheap, workloads: Self.workloads, objective: .p50, repeats: 2, seed: 9, incomplete: nil)
    #expect(own.decision?.chosen == 0)
    #expect(own.decisionLines().last == "no candidate beats veth's own values beyond noise")
    #expect(own.table().contains("| napi-defer-hard-irqs=0 gro-flush-timeout=0 (as written) **chosen** |"))
    // p50 is the objective: its column, and p99 beside it.
    #expect(
      own.table().contains("| p50 55.0 [50.0, 60.0]; p99 55.0; cpu 1.0; irq/rt 0.25; busy-poll rx/rt 0.5 |"),
      "\(own.table())")
  }

  @Test func anIncompleteSweepShowsWhatItMeasuredAndDecidesNothingWithoutTheBaseline() throws {
    let plan = try sweep()
    // Interrupted in repeat 1 after candidates 1 and 2.
    let all = try runs((0..<4).map { (_: Int) -> [[Figure]] in [[(50, 1, nil), (80, 1, nil)]] })
    let report = SweepReport(
      plan: plan, runs: all.filter { [1, 2].contains($0.candidate) }, workloads: Self.workloads, objective: .p99,
      repeats: 2, seed: 7, incomplete: "probe sweep: interrupted")
    #expect(report.decision == nil)
    let table = report.table()
    #expect(table.components(separatedBy: " | not measured | not measured |").count - 1 == 2, "\(table)")
    #expect(table.contains("no decision: the profile as written was not measured in every workload"))
    #expect(table.hasSuffix("incomplete: probe sweep: interrupted"))
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
    #expect(doc["decision"] == nil && doc["incomplete"] as? String == "probe sweep: interrupted")
    let candidates = try #require(doc["candidates"] as? [[String: Any]])
    #expect(candidates.map { $0["cells"] != nil } == [false, true, true, false])
    #expect(
      report.chosenProfile(
        include: "veth", interfaceName: "${iface}", overrides: [:], command: "c", date: "d", kernel: "k", driver: nil)
        == nil)
  }

  /// The interval's words match its coverage: with nothing measured there is no coverage to
  /// state, and a candidate measured fewer times than --repeat is not the one to quote.
  @Test
  func theIntervalTextStatesTheCoverageOfTheRepeats() throws {
    let plan = try sweep()
    let none = SweepReport(
      plan: plan, runs: [], workloads: Self.workloads, objective: .p99, repeats: 2, seed: 7, incomplete: "x")
    #expect(!none.intervalText.contains(" 0% only"), "\(none.intervalText)")
    let five = try runs(
      (0..<4).map { (_: Int) -> [[Figure]] in (0..<5).map { (_: Int) -> [Figure] in [(50, 1, nil), (80, 1, nil)] } })
    let report = SweepReport(
      plan: plan, runs: five, workloads: Self.workloads, objective: .p99, repeats: 5, seed: 7, incomplete: nil)
    #expect(report.intervalText.contains("covers the median with 93.75% only"), "\(report.intervalText)")
    #expect(
      none.intervalText.hasSuffix(
        "(with 2 repeat(s) [min, max] covers the median with 50% only; --repeat 6 or more for 95%)"))
    // Interrupted after one repeat of some candidates: their coverage (none) is the one stated.
    let once = try runs(
      (0..<4).map { (c: Int) -> [[Figure]] in
        (0..<(c == 2 ? 1 : 5)).map { (_: Int) -> [Figure] in [(50, 1, nil), (80, 1, nil)] }
      })
    let partial = SweepReport(
      plan: plan, runs: once, workloads: Self.workloads, objective: .p99, repeats: 5, seed: 7, incomplete: "x")
    #expect(
      partial.intervalText.contains("(with 1 repeat(s) [min, max] covers the median with 0% only"),
      "\(partial.intervalText)")
    // Six repeats reach 95%: nothing to add.
    let six = try runs(
      (0..<4).map { (_: Int) -> [[Figure]] in (0..<6).map { (_: Int) -> [Figure] in [(50, 1, nil), (80, 1, nil)] } })
    let enough = SweepReport(
      plan: plan, runs: six, workloads: Self.workloads, objective: .p99, repeats: 6, seed: 7, incomplete: nil)
    #expect(enough.intervalText == "95% interval of the median from the order statistics of the 6 repeat(s)")
  }

  @Test func theChosenProfileIncludesTheSweptOneCitesTheMeasurementAndPlans() throws {
    let plan = try sweep()
    let runs = try runs([
      [[(100, 4, nil), (200, 4, nil)], [(110, 4, nil), (210, 4, nil)]],
      [[(50, 10, nil), (100, 10, nil)], [(55, 10, nil), (105, 10, nil)]],
      [[(52, 1, nil), (300, 1, nil)], [(60, 1, nil), (310, 1, nil)]],
      [[(54, 5, 2), (102, 5, 2)], [(58, 5, 2), (104, 5, 2)]],
    ])
    let report = SweepReport(
      plan: plan, runs: runs, workloads: Self.workloads, objective: .p99, repeats: 2, seed: 7, incomplete: nil)
    let command = "bpstune probe sweep veth.profile --vary napi-defer-hard-irqs=0,100 --vary gro-flush-timeout=0,15us"
    let text = try #require(
      report.chosenProfile(
        include: plan.profile.path, interfaceName: "${iface}", overrides: ["iface": "eth0"], command: command,
        date: "2026-12-06", kernel: "6.18.0", driver: "veth"))
    let header = text.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
    #expect(header.first == "# Chosen by measurement: `\(command)` on 2026-12-06, Linux 6.18.0, driver veth.")
    #expect(header.contains { $0.contains("Objective p99; 2 repeat(s), seed 7;") }, "\(text)")
    #expect(
      header.contains { $0.hasPrefix("# closed loop + 0 µs delay: p99 ") && $0.contains("CPU 7.0 µs per round trip") })
    #expect(header.contains { $0.hasPrefix("# chosen: napi-defer-hard-irqs=100 gro-flush-timeout=15us") })
    #expect(header.last?.contains("say nothing about real latency") == true, "\(text)")
    #expect(text.contains("include = [\"\(plan.profile.path)\"]") && text.contains("[variables]\niface = \"eth0\"\n"))

    // It loads on its own (the include found, ${iface} from its own [variables]) with the
    // chosen values, and plans on a host with that interface: nothing unsupported.
    let kernel = FakeKernel()
    kernel.addInterface("eth0")
    let path = files.path + "/chosen.profile"
    let chosen = try ProfileLoader().load(text: text, path: path)
    #expect(chosen.files == [path, plan.profile.path])
    let settings = Dictionary(uniqueKeysWithValues: chosen.interfaces[0].settings.map { ($0.key, $0.value) })
    #expect(chosen.interfaces.map(\.name) == ["eth0"])
    #expect(settings == ["napi-defer-hard-irqs": .integer(100), "gro-flush-timeout": .string("15us")])
    let planned = try Planner().plan(chosen, on: KernelHost(root: kernel.root))
    #expect(planned.unsupported.isEmpty)
    let desired = Dictionary(uniqueKeysWithValues: planned.entries.map { ($0.id.description, $0.target.desired) })
    #expect(desired == ["eth0 napi-defer-hard-irqs": "100", "eth0 gro-flush-timeout": "15000"], "\(desired)")

    // The include as the user named it (a built-in profile's name stays a name).
    let named = try #require(
      report.chosenProfile(
        include: "veth", interfaceName: "${iface}", overrides: [:], command: command, date: "d", kernel: "k",
        driver: nil))
    #expect(named.contains("include = [\"veth\"]") && !named.contains("[variables]"))
    #expect(named.split(separator: "\n").first?.hasSuffix("on d, Linux k.") == true)
  }

  @Test func aChosenVariableIsWrittenUnderVariables() throws {
    let p = try profile(
      """
      [variables]
      defer = "0"
      [[interface]]
      name = "eth0"
      napi-defer-hard-irqs = "${defer}"
      """, "var")
    let plan = try SweepPlan(profile: p, varies: [try vary("defer=0,100", in: p)])
    // Only candidate 1 is measured apart from the baseline, and both overlap: 1 is cheaper.
    let runs = try runs([[[(50, 5, nil)], [(50, 5, nil)]], [[(50, 1, nil)], [(50, 1, nil)]]])
    let report = SweepReport(
      plan: plan, runs: runs, workloads: [Self.workloads[0]], objective: .p99, repeats: 2, seed: 1, incomplete: nil)
    #expect(report.decision?.chosen == 1)
    let text = try #require(
      report.chosenProfile(
        include: p.path, interfaceName: "eth0", overrides: [:], command: "c", date: "d", kernel: "k", driver: nil))
    #expect(text.contains("[variables]\ndefer = \"100\"\n") && !text.contains("[[interface]]"), "\(text)")
    let loaded = try ProfileLoader().load(text: text, path: files.path + "/var-chosen.profile")
    #expect(
      loaded.interfaces[0].settings.first?.value == .string("100")
        || loaded.interfaces[0].settings.first?.value == .integer(100))
    #expect(loaded.variables["defer"] == "100")
  }
}
