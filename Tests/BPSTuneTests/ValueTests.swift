import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct CPUSetTests {
  @Test(arguments: [
    ("0-3", [0, 1, 2, 3]), ("0,1,2,3", [0, 1, 2, 3]), ("", []), (" 8 ", [8]), ("0-3,8", [0, 1, 2, 3, 8]),
    ("0-7:2/4", [0, 1, 4, 5]),
  ])
  func parsesKernelListSyntax(text: String, cpus: [Int]) throws {
    #expect(try CPUSet(list: text).sorted == cpus)
  }

  @Test(arguments: [
    ("f", [0, 1, 2, 3]), ("00000000,00000003", [0, 1]), ("1,00000000", [32]), ("0", []), ("0x5", [0, 2]),
    ("0XA", [1, 3]), (" Ff\n", [0, 1, 2, 3, 4, 5, 6, 7]), ("80000000,00000000,00000001", [0, 95]),
  ])
  func parsesKernelMasks(text: String, cpus: [Int]) throws {
    #expect(try CPUSet(mask: text).sorted == cpus)
  }

  @Test(arguments: [
    ("", "empty mask"), ("0x", "empty mask"), (" , ", "empty mask"), ("fg", "\"g\" is not a hex digit"),
    ("1-2", "\"-\" is not a hex digit"), ("é1", "\"é\" is not a hex digit"),
    ("1" + String(repeating: "0", count: 2048), "above 8191"),
  ])
  func rejectsMalformedMasks(text: String, reason: String) {
    #expect(throws: CPUSetError.self) { try CPUSet(mask: text) }
    do { _ = try CPUSet(mask: text) } catch { #expect(error.description.contains(reason), "\(error)") }
  }

  @Test(arguments: ["3-1", "a", "1,,2", "0-99999", "-1", "1-2-3"])
  func rejectsMalformedLists(text: String) {
    #expect(throws: CPUSetError.self) { try CPUSet(list: text) }
  }

  @Test func formatsBothForms() throws {
    let set = try CPUSet(list: "0-3,8,33")
    #expect(set.listString == "0-3,8,33")
    #expect(set.maskString == "2,0000010f")
    #expect(try CPUSet(mask: set.maskString) == set)
    #expect(CPUSet.empty.maskString == "0")
    #expect(CPUSet.empty.listString == "")
  }
}

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
