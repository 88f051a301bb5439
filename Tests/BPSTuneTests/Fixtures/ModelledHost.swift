import Foundation
import TestSupport
import Testing

@testable import BPSTuneCore
@testable import BPSTuneKernel
@testable import BPSTunePersistence
@testable import BPSTuneProbe

/// A scenario whose host has models of kernel interfaces (ethtool, netdev): plan, apply and
/// roll back a profile on it.
protocol ModelledHost {
  var base: Scenario { get }
  func host() -> KernelHost
}

extension ModelledHost {
  func plan(_ text: String) throws -> Plan { try Planner().plan(try base.profile(text), on: host()) }

  func apply(_ text: String, skip: Bool = false) throws -> Applier.Outcome {
    try Applier(executor: base.executor(host())).apply(try base.profile(text), skipUnsupported: skip)
  }

  func rollback() throws -> Snapshot {
    let restorer = Restorer(executor: base.executor(host()))
    return try restorer.restore(restorer.plan(try #require(try restorer.candidate().snapshot)), force: false)
  }
}
