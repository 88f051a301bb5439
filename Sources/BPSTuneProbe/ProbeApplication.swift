import BPSTuneCore

/// The application side one profile's measurements run with: the client's socket settings,
/// and which of them came from the profile's [probe] rather than the command line.
package struct ProbeApplication: Sendable, Equatable {
  /// The client's settings for this profile's runs.
  package var socket: ProbeSocketSettings
  /// The [probe] keys taken from the profile.
  package var fromProfile: [String] = []
  /// The [probe] keys the command line gave explicitly instead.
  package var overridden: [String] = []

  /// One cell of the compare table: "epoll, busy-poll 0 µs, prefer, budget 64 ([probe])";
  /// ", the command line's --busy-poll" names what the command line overrode (a [probe] key is
  /// its option's name).
  package var summary: String {
    var sources: [String] = []
    if !fromProfile.isEmpty { sources.append("[probe]") }
    if !overridden.isEmpty {
      sources.append("the command line's " + overridden.map { "--" + $0 }.joined(separator: " "))
    }
    return socket.summary(placement: false) + (sources.isEmpty ? "" : " (\(sources.joined(separator: ", ")))")
  }
}

extension ProbeSocketSettings {
  /// The settings one profile's runs use (`probe compare`, and any command that measures a
  /// profile): each application-side value the command line gave explicitly (`explicit`), else
  /// the profile's [probe] value, else this one's (the command line's, defaults included).
  /// Thread placement (`cpus`, `fifo`) is always the command line's. The result is not
  /// validated: ``validate(for:)`` says which profile a bad combination came from.
  package func application(explicit: ApplicationSide, profile: ApplicationSide?) -> ProbeApplication {
    let assumed = profile ?? ApplicationSide()
    let chosen = explicit.over(assumed)
    var socket = self
    if let receive = chosen.receive { socket.receiveMode = receive }
    if let busyPoll = chosen.busyPoll { socket.busyPoll = busyPoll }
    if let budget = chosen.busyPollBudget { socket.busyPollBudget = budget }
    if let prefer = chosen.preferBusyPoll { socket.preferBusyPoll = prefer }
    let given = Set(explicit.setKeys)
    return ProbeApplication(
      socket: socket, fromProfile: assumed.setKeys.filter { !given.contains($0) },
      overridden: assumed.setKeys.filter { given.contains($0) })
  }
}

extension ProbeApplication {
  /// ``ProbeSocketSettings/validate()`` of these settings; when the profile's [probe] had a part
  /// in them, the error names the profile and the keys it took.
  package func validate(for profile: String) throws(BPSTuneError) {
    do {
      try socket.validate()
    } catch {
      guard !fromProfile.isEmpty else { throw error }
      throw .usage(
        "\(profile): its [probe] (\(fromProfile.joined(separator: ", "))) with this command line: \(error.description)"
      )
    }
  }
}
