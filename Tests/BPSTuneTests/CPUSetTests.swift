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
