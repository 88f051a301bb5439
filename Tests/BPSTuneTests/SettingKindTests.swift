import Foundation
import Testing

@testable import BPSTuneCore

/// The kinds of setting (``SettingKind``): each has its knob, the registry's, or is host, which
/// has none; their words are the ones snapshots recorded and the JSON schema lists.
@Suite struct SettingKindTests {
  /// The words snapshots and every JSON report have always had; a snapshot written by an
  /// earlier bpstune names these.
  @Test func theWordsAreTheRecordedOnes() {
    #expect(
      SettingKind.allCases.map(\.rawValue) == [
        "sysctl", "sysfs", "netdev", "cpu", "irq", "napi", "kthread", "channels", "ring", "coalesce", "features",
        "driver", "cmdline", "host",
      ])
    #expect(SettingKind.allCases.allSatisfy { "\($0)" == $0.rawValue })
  }

  /// Every kind but host has a knob of that kind; host (what `bpstune show` lists of the host)
  /// has none.
  @Test(arguments: SettingKind.allCases) func everyKindButHostHasItsKnob(kind: SettingKind) {
    if kind == .host {
      #expect(KnobRegistry.knob(for: kind) == nil)
    } else {
      #expect(KnobRegistry.knob(for: kind)?.kind == kind)
    }
  }

  /// The knobs that plan are every kind's knob, once each, of the type the lookup returns.
  @Test func theStandardKnobsAreEachKindsKnobOnce() {
    let kinds = KnobRegistry.standard.map(\.kind)
    #expect(kinds.count == Set(kinds).count)
    #expect(Set(kinds) == Set(SettingKind.allCases).subtracting([.host]))
    for knob in KnobRegistry.standard {
      #expect(
        KnobRegistry.knob(for: knob.kind).map { ObjectIdentifier(type(of: $0)) } == ObjectIdentifier(type(of: knob)),
        "\(knob.kind)")
    }
  }

  /// The shipped JSON schema's `kind` enum is these words, in this order.
  @Test func theSchemaListsEveryKind() throws {
    var root = #filePath
    for _ in 0..<3 { root = (root as NSString).deletingLastPathComponent }
    let data = try Data(contentsOf: URL(fileURLWithPath: root + "/contrib/schema/bpstune-output.schema.json"))
    let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let defs = try #require(schema["$defs"] as? [String: Any])
    let setting = try #require(defs["setting"] as? [String: Any])
    let properties = try #require(setting["properties"] as? [String: Any])
    let kind = try #require(properties["kind"] as? [String: Any])
    #expect(kind["enum"] as? [String] == SettingKind.allCases.map(\.rawValue))
  }

  /// Settings sort by their kind's word, not by the order of the cases (host before irq).
  @Test func settingsSortByTheKindsWord() {
    let ids = SettingKind.allCases.map { SettingID(kind: $0, key: "k") }
    #expect(ids.sorted().map(\.kind.rawValue) == SettingKind.allCases.map(\.rawValue).sorted())
    #expect(SettingID(kind: .host, key: "z") < SettingID(kind: .irq, key: "a"))
  }

  /// A kind encodes as its word; a word that is no kind does not decode, unless the decoder
  /// collects such words (as a snapshot's reader does, to refuse them in its own words).
  @Test func aKindIsItsWordInJSON() throws {
    let encoded = String(decoding: try JSONEncoder().encode(SettingID(kind: .coalesce, key: "coalesce")), as: UTF8.self)
    #expect(encoded.contains("\"kind\":\"coalesce\""), "\(encoded)")
    #expect(try JSONDecoder().decode(SettingKind.self, from: Data("\"napi\"".utf8)) == .napi)
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(SettingKind.self, from: Data("\"shell\"".utf8)) }
    let decoder = JSONDecoder()
    let unknown = SettingKind.UnknownNames()
    decoder.userInfo[SettingKind.unknownNamesKey] = unknown
    let ids = try decoder.decode(
      [SettingID].self, from: Data(#"[{"kind":"irq","key":"a"},{"kind":"shell","key":"b"}]"#.utf8))
    #expect(ids.map(\.kind) == [.irq, .host])
    #expect(unknown.name(at: "0.kind") == nil && unknown.name(at: "1.kind") == "shell")
  }
}
