import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct ValueSemanticsTests {
  @Test(arguments: [
    (ValueSemantics.cpuList, "0-3", "0,1,2,3", true), (.cpuMask, "f", "0000000f", true),
    (.cpuMask, "00000000,00000003", "3", true), (.cpuMask, "3", "1", false), (.integer, "50\n", " 50", true),
    (.integer, "-1", "-1", true), (.integer, "1", "0", false), (.text, "4096\t87380", "4096 87380", true),
    (.text, "on", "off", false),
  ])
  func comparesByMeaning(semantics: ValueSemantics, a: String, b: String, equal: Bool) {
    #expect(semantics.equal(a, b) == equal)
  }

  @Test func displaysMasksAsLists() {
    #expect(ValueSemantics.cpuMask.display("0000000f") == "0-3")
    #expect(ValueSemantics.cpuMask.display("0") == "(none)")
  }

  @Test(arguments: [
    ("15us", TimeUnit.nanoseconds, Int64(15000)), ("1ms", .microseconds, 1000), ("2s", .microseconds, 2_000_000),
    ("2s", .seconds, 2), ("3000ms", .seconds, 3),
  ])
  func convertsTimeUnits(text: String, unit: TimeUnit, value: Int64) {
    #expect(ValueReader.time(text, in: unit) == .some(.some(value)))
  }

  @Test func refusesFractionalTimes() {
    #expect(ValueReader.time("1500ns", in: .microseconds) == .some(nil))
    #expect(ValueReader.time("fast", in: .microseconds) == nil)
    #expect(ValueReader.time("500ms", in: .seconds) == .some(nil))
  }

  @Test func suggestsNearNames() {
    #expect(Suggestion.nearest(to: "rx-usec", in: ["rx-usecs", "tx-usecs", "ring"]) == "rx-usecs")
    #expect(Suggestion.nearest(to: "zzzzzz", in: ["threaded"]) == nil)
  }
}
