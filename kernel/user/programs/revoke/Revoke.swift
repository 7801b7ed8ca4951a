import ExoABI
import LibOS

/// An application under memory pressure survives revocation and
/// repossession with its data intact. Environment 0 is the resource
/// manager; its fork child is the application, which holds 8 pages of
/// data (computed from a source it can recompute) and a 4-page buffer it
/// never wrote. The manager asks for pages back three times:
///
/// 1. 4 pages, a long deadline: the libOS gives back the clean buffer
///    pages; no data is touched.
/// 2. 3 pages, a long deadline: only written pages are left; the libOS
///    gives back the 3 least recently used ones and tells the application,
///    which rebuilds their data from its source.
/// 3. 2 pages, a deadline of 3 ticks, which the application ignores: the
///    kernel's abort repossesses 2 pages, the libOS reconciles its tables
///    with the repossession vector and the application rebuilds them.
///
/// After each round the application checks every word of its data.
public enum Revoke {
  /// The application's data pages and its clean buffer.
  static let dataSlots = 0..<8
  static let bufferSlots = 8..<12
  /// Words of data per page.
  static let words = 64

  /// The data's source: word `word` of data page `slot`.
  static func value(_ slot: Int, _ word: Int) -> UInt64 {
    UInt64(slot + 1) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(word) &* 0x1000_0000_01B3
  }

  /// RPC commands to the application (`m0`); every reply is (rounds
  /// checked, failures).
  enum Command: UInt64 {
    case status = 0
    case ignoreNextRequest = 1
    case stop = 2
  }

  public static func main<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart?)
    throws(ExoError) -> UInt64
  {
    start == nil ? try manager(os) : try application(os)
  }

  // MARK: The resource manager

  static func manager<K: KernelInterface>(_ os: LibOS<K>) throws(ExoError) -> UInt64 {
    let app = try os.fork(function: 1)
    let e = app.environment
    // Ready once it has checked its data the first time.
    var checked = try waitForChecks(os, app, 1)
    var owned = 0
    for i in 0..<os.bounds.pages where os.page(os.firstPage + UInt64(i), .owner) == e {
      owned += 1
    }
    os.print("revoke: manager: the application holds \(owned) pages")
    let rounds: [(count: UInt64, ticks: UInt64, ignored: Bool)] = [
      (4, RevocationLimits.maximumDeadline, false), (3, RevocationLimits.maximumDeadline, false),
      (2, 3, true),
    ]
    for round in rounds {
      if round.ignored { _ = try os.rpc(app, Message(Command.ignoreNextRequest.rawValue)) }
      let result = os.kernel.sys(
        RevocationRequestArguments(
          target: e, envCap: app.capability, count: round.count, ticks: round.ticks))
      os.print(
        "revoke: manager: revocationRequest(\(round.count) pages, \(round.ticks) ticks) -> "
          + (result.error == nil ? "ok" : "error \(result.status)")
          + (round.ignored ? " (the application ignores it)" : ""))
      guard result.error == nil else { return 1 }
      while os.revocation(e, .phase) != RevocationPhase.none.rawValue { os.yield() }
      let returned = os.revocation(e, .returned)
      let repossessed = os.revocation(e, .repossessed)
      os.print(
        "revoke: manager: the request ended: \(returned) returned, \(repossessed) repossessed"
          + (repossessed > 0 ? " by the abort" : ""))
      checked = try waitForChecks(os, app, checked.rounds + 1)
    }
    _ = try os.rpc(app, Message(Command.stop.rawValue))
    os.wait(for: app)
    let status = try os.reap(app)
    guard status == 0, checked.failures == 0 else {
      os.print("revoke: manager: the application failed (status \(status))")
      return 1
    }
    os.print("revoke: manager: the application survived 3 revocations with its data intact")
    return 0
  }

  /// Asks the application until it has checked its data `rounds` times.
  static func waitForChecks<K: KernelInterface>(_ os: LibOS<K>, _ app: Child, _ rounds: UInt64)
    throws(ExoError) -> (rounds: UInt64, failures: UInt64)
  {
    while true {
      let reply = try os.rpc(app, Message(Command.status.rawValue))
      if reply.m0 >= rounds { return (reply.m0, reply.m1) }
      os.yield()
    }
  }

  // MARK: The application

  static func application<K: KernelInterface>(_ os: LibOS<K>) throws(ExoError) -> UInt64 {
    var lost: [Int] = []
    os.lostHook = { lost.append($0) }
    var rounds: UInt64 = 0
    var failures: UInt64 = 0
    var stop = false
    os.serve { _, message in
      switch Command(rawValue: message.m0) {
      case .ignoreNextRequest: os.ignoresRequests = 1
      case .stop: stop = true
      case .status, nil: break
      }
      return Message(rounds, failures)
    }
    for s in dataSlots.lowerBound..<bufferSlots.upperBound { try os.allocate(slot: s) }
    for s in dataSlots { write(os, s) }
    os.print(
      "revoke: app: \(dataSlots.count) pages of data, \(bufferSlots.count) pages of buffer never written"
    )
    failures += check(os)
    rounds += 1
    var seen = (os.pagesReturned, os.pagesRepossessed)
    var mapped = mappedSlots(os)
    while !stop {
      os.yield()  // a revocation point: requests are answered, losses reconciled
      let now = (os.pagesReturned, os.pagesRepossessed)
      guard now != seen, !os.revocationPending else { continue }
      let gone = mapped.filter { os.slots[$0].page == none }
      let returned = now.0 - seen.0
      let repossessed = now.1 - seen.1
      var line = "revoke: app: "
      if returned > 0 { line += "gave back \(returned) pages" }
      if repossessed > 0 { line += "\(repossessed) pages were repossessed" }
      line += " (slots \(gone.map(String.init).joined(separator: " ")))"
      let rebuild = lost.filter { dataSlots.contains($0) }.sorted()
      line +=
        rebuild.isEmpty
        ? ", all clean: nothing lost"
        : ", data lost in \(rebuild.count): rebuilt from its source"
      os.print(line)
      for s in rebuild { write(os, s) }
      lost = []
      failures += check(os)
      rounds += 1
      seen = now
      mapped = mappedSlots(os)
    }
    return failures == 0 ? 0 : 1
  }

  static func write<K: KernelInterface>(_ os: LibOS<K>, _ slot: Int) {
    for w in 0..<words { os.store(slot: slot, word: w, value(slot, w)) }
  }

  /// Checks every word of data; prints the result and returns the number
  /// of words that differ.
  static func check<K: KernelInterface>(_ os: LibOS<K>) -> UInt64 {
    var bad: UInt64 = 0
    for s in dataSlots {
      for w in 0..<words where os.load(slot: s, word: w) != value(s, w) { bad += 1 }
    }
    let total = dataSlots.count * words
    os.print(
      bad == 0
        ? "revoke: app: all \(dataSlots.count) data pages intact (\(total) words checked)"
        : "revoke: app: \(bad) of \(total) words of data wrong")
    return bad
  }

  static func mappedSlots<K: KernelInterface>(_ os: LibOS<K>) -> [Int] {
    (0..<os.userSlots).filter { os.slots[$0].page != none }
  }
}
