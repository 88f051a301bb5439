import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

@Suite struct FieldMapTests {
  @Test func aStructureSatisfiesTheFieldsAProfileNames() {
    let s = ValueSemantics.fields
    #expect(s.equal("rx=1 tx=1 other=0 combined=0", "rx=1"))
    #expect(!s.equal("rx=1 tx=1 other=0 combined=0", "rx=2"))
    #expect(!s.equal("rx=1", "rx=1 tx=1"))
    #expect(s.equal("adaptive-rx=on", "adaptive-rx=1"))
    #expect(s.display("rx=1 tx=2 other=0", as: "tx=5") == "tx=2")
    #expect(s.change(from: "rx=1 tx=1 other=0", to: "rx=2 tx=2") == "rx, tx: 1 -> 2")
    #expect(FieldMap(parsing: "rx=1 rx=2") == nil && FieldMap(parsing: "rx") == nil)
  }

  @Test func anEntryRecordsWhatTheWriteChanged() {
    let r = ValueSemantics.fields.recorded(
      before: "a=on b=on c=on d=off", after: "a=off", result: "a=off b=off c=on d=off")
    #expect(r.before == "a=on b=on" && r.after == "a=off b=off")
    #expect(ValueSemantics.integer.recorded(before: "1", after: "2", result: "2") == ("1", "2"))
  }
}
