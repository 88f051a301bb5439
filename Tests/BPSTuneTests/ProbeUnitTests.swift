import Foundation
import Histogram
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

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

  @Test func aReplyCarriesTheReplyFlagAndARequestDoesNot() {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0xaa)
    ProbeMessage.write(buffer, length: 64, run: 7, sequence: 9, sentAt: 11)
    let request = ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: 64)
    #expect(request?.flags == 0 && request?.isReply == false)
    let before = Array(UnsafeRawBufferPointer(buffer))
    ProbeMessage.markReply(buffer)
    let reply = ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: 64)
    #expect(reply?.isReply == true && reply?.flags == ProbeMessage.replyFlag)
    #expect(
      reply.map { ProbeMessage.Header(length: $0.length, run: $0.run, sequence: $0.sequence, sentAt: $0.sentAt) }
        == request)
    // Bit 0 of the little-endian flags at byte 12, and nothing else changed.
    var changed = before
    changed[12] |= 1
    #expect(Array(UnsafeRawBufferPointer(buffer)) == changed)
    ProbeMessage.markReply(buffer)
    #expect(Array(UnsafeRawBufferPointer(buffer)) == changed, "marking twice is marking once")
    // Other (reserved) bits are kept as they came.
    ProbeMessage.write(buffer, length: 64, run: 7, sequence: 9, sentAt: 11, flags: 0x100)
    ProbeMessage.markReply(buffer)
    #expect(ProbeMessage.read(UnsafeRawBufferPointer(buffer), count: 64)?.flags == 0x101)
  }

  @Test func theServerKnowsItsOwnAddressAndPort() throws {
    let specific = ProbeServer.OwnEndpoint(try SocketAddress(parsing: "10.0.0.2:7878"))
    #expect(specific.contains(try SocketAddress(parsing: "10.0.0.2:7878")))
    #expect(!specific.contains(try SocketAddress(parsing: "10.0.0.2:7879")))
    #expect(!specific.contains(try SocketAddress(parsing: "10.0.0.3:7878")))
    let wildcard = ProbeServer.OwnEndpoint(try SocketAddress(parsing: "0.0.0.0:7878"))
    #expect(wildcard.contains(try SocketAddress(parsing: "127.0.0.1:7878")))
    #expect(wildcard.contains(try SocketAddress(parsing: "127.3.2.1:7878")), "all of 127/8 is local")
    #expect(!wildcard.contains(try SocketAddress(parsing: "127.0.0.1:7879")))
    #expect(!wildcard.contains(try SocketAddress(parsing: "192.0.2.1:7878")), "TEST-NET-1 is no address of this host")
    let six = ProbeServer.OwnEndpoint(try SocketAddress(parsing: "[::]:7878"))
    #expect(six.contains(try SocketAddress(parsing: "[::ffff:127.0.0.1]:7878")), "an IPv4 peer of an IPv6 socket")
    #expect(!six.contains(try SocketAddress(parsing: "[2001:db8::1]:7878")))
  }

  @Test func everyNumberOfTheServerIsCheckedAndNamesItsOption() throws {
    var s = ProbeServer.Settings(bind: try SocketAddress(parsing: "127.0.0.1:0"))
    #expect(thrownText { try s.validate() } == nil)
    #expect(s.maxConnections == 8 && s.idleTimeout == 10)
    for bad in [-1, .nan, .infinity, 0, 1e12] {
      s.duration = bad
      #expect(thrownText { try s.validate() }?.hasPrefix("--duration \(bad)") == true, "\(bad)")
      #expect(thrownText { try ProbeServer(settings: s).run { _ in } }?.hasPrefix("--duration") == true)
    }
    s.duration = 1
    for bad in [0, -3, 1025, Int.max] {
      s.maxConnections = bad
      #expect(thrownText { try s.validate() }?.hasPrefix("--max-connections \(bad)") == true, "\(bad)")
    }
    s.maxConnections = 1024
    for bad in [0, -1, .nan, .infinity, 86_401] {
      s.idleTimeout = bad
      #expect(thrownText { try s.validate() }?.hasPrefix("--idle-timeout \(bad)") == true, "\(bad)")
    }
    s.idleTimeout = 0.5
    #expect(thrownText { try s.validate() } == nil)
    s.socket.fifo = 0
    #expect(thrownText { try s.validate() }?.hasPrefix("--fifo 0") == true)
  }

  @Test func everyNumberOfTheClientIsCheckedAndNamesItsOption() throws {
    let good = ProbeClient.Settings(peer: try SocketAddress(parsing: "127.0.0.1:1"))
    #expect(thrownText { try good.validate() } == nil)
    var s = good
    for bad in [-1, .nan, .infinity, 0] {
      s.duration = bad
      #expect(thrownText { try s.validate() }?.hasPrefix("--duration \(bad)") == true, "\(bad)")
    }
    s = good
    for bad in [-1, .nan, .infinity] {
      s.warmup = bad
      #expect(thrownText { try s.validate() }?.hasPrefix("--warmup \(bad)") == true, "\(bad)")
    }
    s = good
    for bad in [0, -1, Int.max, ProbeClient.Settings.maximumCount + 1] {
      s.count = bad
      #expect(thrownText { try s.validate() }?.hasPrefix("--count \(bad)") == true, "\(bad)")
    }
    s = good
    s.rate = Int.max
    #expect(thrownText { try s.validate() }?.hasPrefix("--rate") == true)
    s = good
    s.timeout = 0
    #expect(thrownText { try s.validate() }?.hasPrefix("--timeout 0") == true)
    s = good
    s.delay = Int.max
    #expect(thrownText { try s.validate() }?.hasPrefix("--delay") == true)
    for bad in ["99999999:0", "1000:9999999", "\(Int.max):1"] {
      #expect(thrownText { try ProbeCompare.Workload(parsing: bad) }?.hasPrefix("--workload \(bad)") == true, "\(bad)")
    }
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
        profile: "irq-suspend", snapshot: "b", changes: 3,
        results: [try result([12, 13, 14], busy: 100), try result([15], busy: 7)],
        application: ProbeSocketSettings().application(
          explicit: ApplicationSide(),
          profile: ApplicationSide(receive: .epoll, busyPoll: 0, busyPollBudget: 64, preferBusyPoll: true))),
    ]
    let table = CompareReport.table(columns, workloads: workloads)
    let lines = table.split(separator: "\n")
    #expect(lines[0] == "| round trip µs | interrupts | irq-suspend |")
    // The application side each profile ran with, and where it came from.
    #expect(
      lines[2] == "| application | blocking, no busy-poll option | epoll, busy-poll 0 µs, prefer, budget 64 ([probe]) |"
    )
    #expect(lines[3] == "| closed loop + 0 µs delay | | |")
    #expect(lines[4] == "| | p5: 20.0 | p5: 12.0 |")
    #expect(lines[7] == "| | p99: 20.0 | p99: 14.0 |")
    #expect(lines[8] == "| | busy-poll rx: +0 | busy-poll rx: +100 |")
    #expect(table.contains("| 32k pkt/s + 30 µs delay | | |"))
    #expect(lines.count == 3 + 2 * 9)
    let svg = CompareReport.svg(columns, workloads: workloads)
    #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)
    #expect(svg.contains(">irq-suspend</text>") && svg.contains(">p99.99</text>"))
    #expect(abs(CompareReport.nines(99) - 2) < 1e-9 && abs(CompareReport.nines(99.99) - 4) < 1e-9)
    let json = CompareReport.json(columns, workloads: workloads)
    let doc = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
    #expect(doc?["schema"] as? Int == 1 && doc?["command"] as? String == "probe compare")
    let profiles = doc?["profiles"] as? [[String: Any]]
    #expect(profiles?.count == 2)
    // Each column's socket settings; the [probe] keys it took only where it took some.
    #expect((profiles?[0]["socket"] as? [String: Any])?["receive_mode"] as? String == "blocking")
    #expect(profiles?[0]["from_probe_section"] == nil && profiles?[0]["overridden"] == nil)
    #expect((profiles?[1]["socket"] as? [String: Any])?["busy_poll_budget"] as? Int == 64)
    #expect(profiles?[1]["from_probe_section"] as? [String] == ApplicationSide.keys)
    // A closed loop has no rate: the field is left out, not null.
    #expect((doc?["workloads"] as? [[String: Any]])?.map { $0.keys.sorted() } == [["delay_us"], ["delay_us", "rate"]])
    let client = ProbeReport.json(columns[1].results[0])
    let c = (try? JSONSerialization.jsonObject(with: Data(client.utf8))) as? [String: Any]
    // HdrHistogram reports the highest value equivalent to the recorded one (3 digits).
    #expect(abs(((c?["rtt_us"] as? [String: Double])?["p50"] ?? 0) - 13) < 0.05)
    #expect((c?["proof"] as? [String: Any])?["incoming_napi_id"] as? Int == 8193)
  }
}
