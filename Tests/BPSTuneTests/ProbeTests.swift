import Foundation
import Histogram
import TestSupport
import Testing

@testable import BPSTune

/// The probe's pure parts: the wire format, the proof counters' parsers on real kernel text,
/// workloads, addresses, and the compare report's table and chart.
@Suite struct ProbeUnitTests {
  @Test func aMessageHeaderRoundTripsAndForeignBytesAreRejected() {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    defer { buffer.deallocate() }
    ProbeMessage.write(buffer, length: 64, run: 0xdead_beef, sequence: 1 << 40, sentAt: 123_456_789_012)
    let header = ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: 64)
    #expect(header == ProbeMessage.Header(length: 64, run: 0xdead_beef, sequence: 1 << 40, sentAt: 123_456_789_012))
    #expect(Array(UnsafeRawBufferPointer(buffer)[0..<4]) == Array("BPSP".utf8))
    #expect(ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: 31) == nil)
    buffer.storeBytes(of: UInt32(16).littleEndian, toByteOffset: 4, as: UInt32.self)
    #expect(ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: 64) == nil, "a length below the header")
    buffer.storeBytes(of: UInt32(0x1234).littleEndian, toByteOffset: 0, as: UInt32.self)
    #expect(ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: 64) == nil)
  }

  @Test func countersAreParsedFromTheKernelsOwnLayout() {
    let netstat = """
      TcpExt: SyncookiesSent SyncookiesRecv BusyPollRxPackets TCPAutoCorking
      TcpExt: 0 0 1494 7
      IpExt: InNoRoutes InTruncatedPkts
      IpExt: 0 0
      """
    #expect(ProofCounters.netstat(netstat, group: "TcpExt", name: "BusyPollRxPackets") == 1494)
    #expect(ProofCounters.netstat(netstat, group: "IpExt", name: "BusyPollRxPackets") == nil)
    let softirqs = """
                          CPU0       CPU1
                HI:          1          0
             NET_TX:        10         20
             NET_RX:     12345      54321
      """
    #expect(ProofCounters.softirqs(softirqs, name: "NET_RX") == 66666)
    let interrupts = """
                 CPU0       CPU1
        0:         46          0   IO-APIC   2-edge      timer
       44:       1000        234   PCI-MSIX-0000:00:03.0   1-edge      eth0-TxRx-0
      NMI:          0          0   Non-maskable interrupts
      """
    #expect(ProofCounters.interruptCounts(interrupts) == [0: 46, 44: 1234])
    let before = ProofCounters(busyPollRxPackets: 10, netRxSoftirqs: 5, queueIRQs: [44: 100])
    let after = ProofCounters(busyPollRxPackets: 25, netRxSoftirqs: nil, queueIRQs: [44: 130, 45: 7])
    let delta = before.delta(to: after)
    #expect(delta.busyPollRxPackets == 15 && delta.netRxSoftirqs == nil)
    #expect(delta.queueIRQs == [44: 30, 45: 0] && delta.queueIRQTotal == 30)
  }

  @Test func workloadsAndAddressesParseOrSayWhy() throws {
    #expect(try ProbeCompare.Workload(parsing: "0:0") == .init(rate: nil, delay: 0))
    #expect(try ProbeCompare.Workload(parsing: "closed:30") == .init(rate: nil, delay: 30))
    #expect(try ProbeCompare.Workload(parsing: "32000:30").description == "32k pkt/s + 30 µs delay")
    for bad in ["32000", "-1:0", "x:1", "100:-3", "1:2:3"] {
      #expect(thrownText { try ProbeCompare.Workload(parsing: bad) }?.contains("--workload \(bad)") == true, "\(bad)")
    }
    #expect(try SocketAddress(parsing: "10.0.0.2:7878").description == "10.0.0.2:7878")
    #expect(try SocketAddress(parsing: "[::1]:9").description == "[::1]:9")
    #expect(try SocketAddress(parsing: ":0").description == "0.0.0.0:0")
    for bad in ["10.0.0.2", "10.0.0.2:99999", "::1:80", "[::1]80", "10.0.0.2:x"] {
      #expect(thrownText { try SocketAddress(parsing: bad) }?.contains(bad) == true, "\(bad)")
    }
  }

  @Test func settingsAreCheckedBeforeAnySocketOpens() throws {
    var s = ProbeClient.Settings(peer: try SocketAddress(parsing: "127.0.0.1:1"))
    s.size = 31
    #expect(thrownText { try s.validate() }?.contains("--size 31") == true)
    s.size = 64
    s.socket.receiveMode = .epoll
    s.socket.preferBusyPoll = true
    #expect(thrownText { try s.validate() }?.contains("need --busy-poll") == true)
    s.socket.busyPoll = 50
    #expect(thrownText { try s.validate() } == nil)
    s.rate = 0
    #expect(thrownText { try s.validate() }?.contains("--rate 0") == true)
  }

  /// A result with given round trips (µs), for the reports.
  func result(_ values: [Double], busy: UInt64) throws -> ProbeResult {
    var h = Histogram<UInt64>(highestTrackableValue: ProbeClient.highest)
    for v in values { _ = h.record(UInt64(v * 1000)) }
    return ProbeResult(
      settings: ProbeClient.Settings(peer: try SocketAddress(parsing: "10.0.0.2:7878")), local: "10.0.0.1:5",
      interface: "eth0", sent: UInt64(values.count), received: UInt64(values.count), elapsedNanoseconds: 1_000_000_000,
      histogram: h, cpuNanoseconds: 5000,
      proof: ProofDelta(busyPollRxPackets: busy, netRxSoftirqs: 3, queueIRQs: [44: 9]),
      incomingNAPIID: 8193, interrupted: false)
  }

  @Test func theCompareTableHasTheSeriesShapeAndTheChartOneLinePerProfile() throws {
    let workloads = [ProbeCompare.Workload(rate: nil, delay: 0), ProbeCompare.Workload(rate: 32_000, delay: 30)]
    let columns = [
      ProbeCompare.Column(
        profile: "interrupts", snapshot: "a", changes: 2,
        results: [try result(Array(repeating: 20, count: 99) + [100], busy: 0), try result([30, 31], busy: 0)]),
      ProbeCompare.Column(
        profile: "napi-busy-poll", snapshot: "b", changes: 3,
        results: [try result([12, 13, 14], busy: 100), try result([15], busy: 7)]),
    ]
    let table = CompareReport.table(columns, workloads: workloads)
    let lines = table.split(separator: "\n")
    #expect(lines[0] == "| round trip µs | interrupts | napi-busy-poll |")
    #expect(lines[2] == "| closed loop + 0 µs delay | | |")
    #expect(lines[3] == "| | p5: 20.0 | p5: 12.0 |")
    #expect(lines[6] == "| | p99: 20.0 | p99: 14.0 |")
    #expect(lines[7] == "| | busy-poll rx: +0 | busy-poll rx: +100 |")
    #expect(table.contains("| 32k pkt/s + 30 µs delay | | |"))
    #expect(lines.count == 2 + 2 * 9)
    let svg = CompareReport.svg(columns, workloads: workloads)
    #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)
    #expect(svg.contains(">napi-busy-poll</text>") && svg.contains(">p99.99</text>"))
    #expect(abs(CompareReport.nines(99) - 2) < 1e-9 && abs(CompareReport.nines(99.99) - 4) < 1e-9)
    let json = CompareReport.json(columns, workloads: workloads)
    let doc = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
    #expect(doc?["schema"] as? Int == 1 && doc?["command"] as? String == "probe compare")
    #expect((doc?["profiles"] as? [[String: Any]])?.count == 2)
    let client = ProbeReport.json(columns[1].results[0])
    let c = (try? JSONSerialization.jsonObject(with: Data(client.utf8))) as? [String: Any]
    // HdrHistogram reports the highest value equivalent to the recorded one (3 digits).
    #expect(abs(((c?["rtt_us"] as? [String: Double])?["p50"] ?? 0) - 13) < 0.05)
    #expect((c?["proof"] as? [String: Any])?["incoming_napi_id"] as? Int == 8193)
  }
}
