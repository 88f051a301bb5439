import Foundation

/// A network namespace with one veth pair, made with iproute2 and removed when the value goes
/// away (also when the test fails). Names start with "bpst-" so `make clean-netns` finds
/// anything a killed run left behind.
public final class NetworkNamespace: @unchecked Sendable {
  public let name: String
  /// The veth ends inside the namespace.
  public let a: String
  public let b: String
  /// This namespace's /run: every command run inside it sees this directory there, so that
  /// bpstune's host-wide lock (/run/bpstune/lock) is the namespace's own, as if each namespace
  /// were a host; parallel tests do not wait for each other's locks.
  private let runDirectory = TemporaryDirectory("bpstune-run")
  nonisolated(unsafe) private static var counter = 0
  private static let lock = NSLock()

  /// `bare`: the namespace only, without the veth pair (``NamespacePair`` adds its own).
  public init(gro: Bool = false, queues: Int = 1, bare: Bool = false) throws {
    let n: Int = NetworkNamespace.lock.withLock {
      NetworkNamespace.counter += 1
      return NetworkNamespace.counter
    }
    name = "bpst-\(getpid())-\(n)"
    a = "vA\(n)"
    b = "vB\(n)"
    try Self.check(Run.command(["ip", "netns", "add", name]))
    if bare { return }
    do {
      try exec([
        "ip", "link", "add", a, "numtxqueues", "\(queues)", "numrxqueues", "\(queues)", "type", "veth", "peer", "name",
        b, "numtxqueues", "\(queues)", "numrxqueues", "\(queues)",
      ])
      try exec(["ip", "link", "set", a, "up"])
      try exec(["ip", "link", "set", b, "up"])
      if gro {
        try exec(["ethtool", "-K", a, "gro", "on"])
        try exec(["ethtool", "-K", b, "gro", "on"])
      }
    } catch {
      Run.command(["ip", "netns", "del", name])
      throw error
    }
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  static func check(_ f: Finished) throws {
    if f.status != 0 { throw Failure(description: f.description) }
  }

  /// Runs a command inside the namespace (`ip netns exec`, which also mounts its /sys), with
  /// the namespace's own /run bound in a private mount namespace (gone with the command).
  @discardableResult
  public func run(_ arguments: [String], environment: [String: String] = [:]) -> Finished {
    Run.command(command(arguments), environment: environment)
  }

  /// The command line that runs `arguments` inside the namespace as ``run(_:environment:)``
  /// does (for a ``Background`` program).
  public func command(_ arguments: [String]) -> [String] {
    [
      "ip", "netns", "exec", name, "unshare", "--mount", "--propagation", "private", "sh", "-c",
      "mount --bind \"$0\" /run && exec \"$@\"", runDirectory.path,
    ] + arguments
  }

  public func exec(_ arguments: [String]) throws {
    try Self.check(run(arguments))
  }

  /// A kernel file read with cat inside the namespace: independent of bpstune.
  public func cat(_ path: String) -> String {
    run(["cat", path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs bpstune inside the namespace.
  @discardableResult
  public func bpstune(_ arguments: [String], stateDir: String) -> Finished {
    run([Run.bpstune] + arguments + ["--state-dir", stateDir, "--no-color"])
  }

  deinit {
    Run.command(["ip", "netns", "del", name])
  }
}

/// Two network namespaces joined by a veth pair, for what crosses a network: the latency
/// probe's client in `client` (on `clientIF`, 10.X.Y.1) and its peer in `server` (10.X.Y.2).
/// GRO is on at both ends and TSO off, so that each side receives through its veth's NAPI
/// (without that a veth skips its NAPI and nothing can be busy-polled). Removed when the value
/// goes away, also on failure.
public final class NamespacePair: @unchecked Sendable {
  public let client: NetworkNamespace
  public let server: NetworkNamespace
  public let clientIF: String
  public let serverIF: String
  public let clientAddress: String
  public let serverAddress: String

  public init() throws {
    client = try NetworkNamespace(bare: true)
    server = try NetworkNamespace(bare: true)
    let n = Int(client.name.split(separator: "-").last!)! % 250
    let p = Int(getpid()) % 250
    clientIF = "pc\(n)"
    serverIF = "ps\(n)"
    clientAddress = "10.\(p + 1).\(n).1"
    serverAddress = "10.\(p + 1).\(n).2"
    try NetworkNamespace.check(
      Run.command([
        "ip", "link", "add", clientIF, "netns", client.name, "type", "veth", "peer", "name", serverIF, "netns",
        server.name,
      ]))
    for (ns, interface, address) in [(client, clientIF, clientAddress), (server, serverIF, serverAddress)] {
      try ns.exec(["ip", "addr", "add", address + "/24", "dev", interface])
      try ns.exec(["ip", "link", "set", "lo", "up"])
      try ns.exec(["ip", "link", "set", interface, "up"])
      try ns.exec(["ethtool", "-K", interface, "gro", "on", "tso", "off"])
    }
  }
}
