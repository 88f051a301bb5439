import BPSTuneKernel

/// Why busy polling did not engage in a probe run, from what this host can check: asked for (the
/// socket's SO_BUSY_POLL, or net.core.busy_read / busy_poll) but BusyPollRxPackets did not
/// grow, or the socket saw no NAPI id. Each cause is one line, and only one this side checked:
/// the interface's GRO and TSO (ETHTOOL_GFEATURES), whether it is a veth (ETHTOOL_GDRVINFO), an
/// XDP program attached (/sys/class/net/IF/... is silent on that, so it is not claimed), and the
/// sysctls.
package enum ProbeDiagnosis {
  /// The lines to print after the run; empty when busy polling engaged or was not asked for.
  package static func causes(_ r: ProbeResult, on host: KernelHost) -> [String] {
    let sysctl = { (name: String) -> Int in
      (try? host.readFresh("/proc/sys/net/core/" + name)).flatMap { Int($0.trimmingWhitespace) } ?? 0
    }
    let socketOption = r.settings.socket.busyPoll ?? 0
    let busyRead = sysctl("busy_read")
    let asked = socketOption > 0 || busyRead > 0 || sysctl("busy_poll") > 0
    let polled = (r.proof.busyPollRxPackets ?? 0) > 0
    guard asked, !polled || r.incomingNAPIID == 0 else { return [] }
    var lines = [
      "busy polling was asked for (\(socketOption > 0 ? "--busy-poll \(socketOption)" : "net.core.busy_read/busy_poll")) "
        + "but did not engage: BusyPollRxPackets +\(r.proof.busyPollRxPackets ?? 0), NAPI id \(r.incomingNAPIID)"
    ]
    if r.incomingNAPIID == 0 {
      lines.append(
        "the socket saw no NAPI id (SO_INCOMING_NAPI_ID 0): its packets did not arrive through a NAPI it can poll")
    }
    guard let interface = r.interface else {
      lines.append("the interface the replies arrive on is unknown: pass -i IF to check it")
      return lines
    }
    let driver = try? host.ethtool.driverInfo(interface).driver
    if let gro = (try? host.ethtool.features(interface))?.named("rx-gro"), !gro.active {
      lines.append(
        "\(interface): rx-gro is off"
          + (driver == "veth" ? " (a veth receives through its NAPI only with GRO on or XDP)" : "")
          + ": ethtool -K \(interface) gro on")
    }
    if driver == "veth" {
      lines.append(
        "\(interface) is a veth: the peer end must send without TSO (ethtool -K PEER tso off), or its large "
          + "segments skip the NAPI this side polls; this side cannot read the peer's features from here")
    }
    if r.incomingNAPIID != 0 && !polled && socketOption == 0 && busyRead == 0 {
      lines.append("net.core.busy_read is 0 and no --busy-poll was given: blocking reads do not busy-poll")
    }
    return lines
  }
}
