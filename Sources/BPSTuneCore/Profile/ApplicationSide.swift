import BPSTuneKernel

/// How an application (or the probe) waits for a packet, and so how it busy-polls.
package enum ReceiveMode: String, Sendable, Codable, CaseIterable {
  /// recv(2) sleeps until a packet arrives (with SO_BUSY_POLL it first polls the NAPI).
  case blocking
  /// A non-blocking recv(2) in a loop: the thread never sleeps.
  case spin
  /// epoll_wait(2) then recv(2), as an event-driven server does; with busy polling set, the
  /// epoll instance's own parameters (EPIOCSPARAMS, Linux 6.9+).
  case epoll
}

/// A profile's `[probe]` section: the application side the profile assumes, that is how the
/// application waits for packets and how it busy-polls. Some configurations do nothing unless
/// the application does its part (IRQ suspension needs epoll with prefer_busy_poll). bpstune
/// never applies it to the host: diff, apply, verify and enable ignore it. `probe compare` runs
/// the profile's measurements with it unless the command line says otherwise, and `profiles
/// show` says what an application must do.
///
///     [probe]
///     receive = "epoll"          # "blocking" | "spin" | "epoll"
///     busy-poll = 0              # µs: SO_BUSY_POLL, or the epoll instance's busy_poll_usecs
///     busy-poll-budget = 64      # SO_BUSY_POLL_BUDGET, or busy_poll_budget
///     prefer-busy-poll = true    # SO_PREFER_BUSY_POLL, or prefer_busy_poll
///
/// Every key is optional; a field left nil is one the profile does not state.
package struct ApplicationSide: Sendable, Equatable {
  package var receive: ReceiveMode?
  /// µs: SO_BUSY_POLL, or in epoll mode the epoll instance's busy_poll_usecs.
  package var busyPoll: Int?
  /// SO_BUSY_POLL_BUDGET, or in epoll mode busy_poll_budget.
  package var busyPollBudget: Int?
  /// SO_PREFER_BUSY_POLL, or in epoll mode prefer_busy_poll.
  package var preferBusyPoll: Bool?

  /// The section's keys, in the order reports list them.
  package static let keys = ["receive", "busy-poll", "busy-poll-budget", "prefer-busy-poll"]

  package init(
    receive: ReceiveMode? = nil, busyPoll: Int? = nil, busyPollBudget: Int? = nil, preferBusyPoll: Bool? = nil
  ) {
    self.receive = receive
    self.busyPoll = busyPoll
    self.busyPollBudget = busyPollBudget
    self.preferBusyPoll = preferBusyPoll
  }

  /// Reads a section's settings (variables expanded, includes merged): each key checked, every
  /// error naming its file and key and saying what is allowed.
  init(_ settings: [ProfileSetting]) throws(BPSTuneError) {
    for setting in settings {
      switch setting.key {
      case "receive":
        receive = ReceiveMode(rawValue: try ValueReader.choice(setting, ReceiveMode.allCases.map(\.rawValue)))
      case "busy-poll": busyPoll = Int(try ValueReader.integer(setting, 0...Int64(Int32.max), unit: .microseconds))
      case "busy-poll-budget": busyPollBudget = Int(try ValueReader.integer(setting, 1...Int64(UInt16.max)))
      case "prefer-busy-poll": preferBusyPoll = try ValueReader.bool(setting)
      default: throw setting.origin.error("unknown [probe] key" + Suggestion.hint(for: setting.key, in: Self.keys))
      }
    }
    // The epoll instance takes its budget and prefer flag in the same ioctl as busy_poll_usecs.
    if receive == .epoll && busyPoll == nil,
      let stray = settings.first(where: {
        ($0.key == "prefer-busy-poll" && preferBusyPoll == true) || $0.key == "busy-poll-budget"
      })
    {
      throw stray.origin.error(
        "with receive = \"epoll\" needs busy-poll, the epoll instance's busy_poll_usecs set in the same EPIOCSPARAMS"
          + " ioctl (0 for one busy-poll pass per epoll_wait, as IRQ suspension uses)")
    }
  }

  /// The keys this states, in ``keys`` order.
  package var setKeys: [String] {
    zip(Self.keys, [receive != nil, busyPoll != nil, busyPollBudget != nil, preferBusyPoll != nil]).filter(\.1).map(
      \.0)
  }

  /// This one's fields where it states them, `base`'s elsewhere (the command line over a
  /// profile's [probe], an including profile over an included one).
  package func over(_ base: ApplicationSide) -> ApplicationSide {
    ApplicationSide(
      receive: receive ?? base.receive, busyPoll: busyPoll ?? base.busyPoll,
      busyPollBudget: busyPollBudget ?? base.busyPollBudget, preferBusyPoll: preferBusyPoll ?? base.preferBusyPoll)
  }

  /// What an application must do to get the profile's effect, one sentence: the receive loop
  /// and the options, by the names the kernel gives them for that loop.
  package var instructions: String {
    let epoll = receive == .epoll
    var options: [String] = []
    if let busyPoll { options.append(epoll ? "busy_poll_usecs \(busyPoll)" : "SO_BUSY_POLL \(busyPoll) (µs)") }
    if let busyPollBudget {
      options.append(epoll ? "busy_poll_budget \(busyPollBudget)" : "SO_BUSY_POLL_BUDGET \(busyPollBudget)")
    }
    if let preferBusyPoll {
      options.append((epoll ? "prefer_busy_poll " : "SO_PREFER_BUSY_POLL ") + (preferBusyPoll ? "1" : "0"))
    }
    let list = options.joined(separator: ", ")
    let sockets = options.isEmpty ? "" : ", with setsockopt(2) on each socket: \(list)"
    switch receive {
    case .epoll:
      guard !options.isEmpty else { return "the application must wait for packets in epoll_wait(2)" }
      let onePass =
        busyPoll == 0 && preferBusyPoll == true
        ? "; with busy_poll_usecs 0 each epoll_wait makes one busy-poll pass (Linux 6.13+)" : ""
      return "the application must busy-poll through epoll: epoll_wait(2) on an epoll instance set with the"
        + " EPIOCSPARAMS ioctl (Linux 6.9+) to \(list)\(onePass)"
    case .blocking: return "the application must receive with blocking recv(2)\(sockets)"
    case .spin: return "the application must receive with non-blocking recv(2) in a loop that never sleeps\(sockets)"
    case nil:
      guard !options.isEmpty else { return "the profile assumes nothing of the application" }
      return "the application must set \(list) with setsockopt(2) on each socket"
        + " (or the same through EPIOCSPARAMS on its epoll instance when it waits in epoll_wait)"
    }
  }
}
