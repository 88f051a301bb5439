import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// A long list in a message: grouped by interface (by kind for system settings) and key, the
/// first few queues of a key named, then how many more; every one with -v (issue 27).
@Suite struct ListSummaryTests {
  static func queues(_ interface: String, _ prefix: String, _ key: String, _ count: Int, detail: (Int) -> String)
    -> [Printable.Item]
  {
    (0..<count).map {
      Printable.Item(SettingID(kind: .netdev, interface: interface, queue: "\(prefix)-\($0)", key: key), detail($0))
    }
  }

  @Test func aLongListIsGroupedByInterfaceKindAndKey() {
    let items =
      Self.queues("va", "rx", "rps-cpus", 64) { _ in " is 0, bpstune set 3" }
      + Self.queues("va", "tx", "xps-cpus", 64) { _ in " is 0, bpstune set 3" }
      + [
        Printable.Item(
          SettingID(kind: .netdev, interface: "va", key: "gro-flush-timeout"), " is 0, bpstune set 15000"),
        Printable.Item(SettingID(kind: .sysctl, key: "net.core.busy_read"), " is 0, bpstune set 50"),
      ]
    let e = BPSTuneError.conflicts(items)
    #expect(
      e.description.contains(
        "not overwritten without --force: va: gro-flush-timeout is 0, bpstune set 15000; "
          + "64 rps-cpus (rx-0, rx-1, rx-2 and 61 more) is 0, bpstune set 3; "
          + "64 xps-cpus (tx-0, tx-1, tx-2 and 61 more) is 0, bpstune set 3; sysctl: net.core.busy_read is 0, bpstune set 50 (-v lists every one); nothing was changed"
      ),
      "\(e.description)")
    // -v and JSON: every one.
    #expect(e.fullDescription.contains("va rx-63 rps-cpus is 0, bpstune set 3; va tx-0 xps-cpus"))
    #expect(StateReport.error(e, command: "rollback").contains("\"va tx-63 xps-cpus is 0, bpstune set 3\""))
  }

  @Test func queuesWithDifferentDetailsGiveEachOfTheFirstFew() {
    let items = Self.queues("va", "rx", "irq-cpus", 10) { " is 0, bpstune set \($0)" }
    let text = Printable.summary(items, limit: 5)
    #expect(
      text
        == "va: 10 irq-cpus (rx-0 is 0, bpstune set 0; rx-1 is 0, bpstune set 1; rx-2 is 0, bpstune set 2; and 7 more)",
      "\(text)")
  }

  @Test func manyInterfacesGiveTheFirstFewThenTheRestByName() {
    let items = (0..<20).map {
      Printable.Item(SettingID(kind: .netdev, interface: "v\($0)", key: "threaded"), ": no such file")
    }
    let text = Printable.summary(items, limit: 5, more: " (-v lists every one)")
    #expect(
      text
        == "v0: threaded: no such file; v1: threaded: no such file; v2: threaded: no such file; "
        + "v3: threaded: no such file; v4: threaded: no such file; and 15 more in v5, v6, v7 and 12 more (-v lists every one)",
      "\(text)")
  }

  @Test func aShortListIsGivenWhole() {
    let items = Self.queues("va", "rx", "rps-cpus", 6) { _ in " is 0, bpstune set 3" }
    #expect(Printable.summary(items, limit: 5) == items.map(\.text).joined(separator: "; "))
    // Items that are no settings (snapshot ids): the first few and how many more.
    #expect(
      Printable.summary((1...9).map { Printable.Item("id\($0)") }, limit: 3, separator: ", ")
        == "id1, id2, id3 and 6 more")
  }

  @Test func theUnsupportedSettingsOfAComparedProfileKeepItsName() {
    let items = Self.queues("va", "rx", "threaded", 8) { _ in ": needs Linux 6.13+" }.map {
      var item = $0
      item.scope = "napi-threaded"
      return item
    }
    let e = BPSTuneError.unsupportedSettings(items)
    #expect(
      e.description.contains("napi-threaded: va: 8 threaded (rx-0, rx-1, rx-2 and 5 more): needs Linux 6.13+"),
      "\(e.description)")
    #expect(e.fullDescription.contains("napi-threaded: va rx-7 threaded: needs Linux 6.13+"))
  }
}
