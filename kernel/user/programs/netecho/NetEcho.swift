import ExoABI
import LibOS

/// An echo server on the libOS network stack: it answers ARP and ICMP echo
/// requests for its address and sends every UDP datagram that reaches port
/// 7 back to where it came from (RFC 862).
///
/// ``serve(_:_:now:)`` is the server, written against ``FrameLink`` only.
/// ``main(_:_:)`` runs it over a ``ScriptedPeer`` — two hosts on the link
/// that send it ARP, echo requests, datagrams and hostile frames and check
/// every frame it transmits — and prints `netecho: N passed, M failed`.
/// ``serveNetwork(_:)`` runs it over the kernel's packet filters and NIC
/// (``KernelFrameLink``) for the Linux peer of `exo boot --peer linux`.
public enum NetEcho {
  /// The addresses `exo boot --peer linux` gives the exokernel's guest.
  public static let mac: MACAddress = {
    let (a, b, c, d, e, f) = PeerNetwork.exoMAC
    return MACAddress(
      UInt64(a) << 40 | UInt64(b) << 32 | UInt64(c) << 24 | UInt64(d) << 16 | UInt64(e) << 8
        | UInt64(f))
  }()
  public static let ip: IPv4Address = {
    let (a, b, c, d) = PeerNetwork.exoAddress
    return IPv4Address(a, b, c, d)
  }()
  public static let echoPort = PeerNetwork.echoPort

  /// A stack at ``mac`` and ``ip`` with a socket on ``echoPort``.
  public static func stack() throws(NetworkError) -> NetworkStack {
    var stack = try NetworkStack(mac: mac, ip: ip)
    try stack.bind(port: echoPort)
    return stack
  }

  /// What one round of ``serve(_:_:now:)`` did.
  public struct Round: Sendable {
    /// Datagrams echoed, and those it could not echo.
    public var echoed = 0
    public var failed = 0
    /// The peer's ``PeerNetwork/doneMessage`` arrived (it is not echoed).
    public var peerDone = false
  }

  /// Handles the frames waiting on `link` at tick `now` and echoes the
  /// datagrams that arrived on port 7 (not those from port 0, which
  /// expects no answer, nor the peer's done message).
  @discardableResult
  public static func serve<L: FrameLink>(_ stack: inout NetworkStack, _ link: inout L, now: UInt64)
    -> Round
  {
    stack.serve(&link, now: now)
    var round = Round()
    while let datagram = try? stack.dequeue(port: echoPort) {
      guard datagram.sourcePort != 0 else { continue }
      guard datagram.data != Array(PeerNetwork.doneMessage.utf8) else {
        round.peerDone = true
        continue
      }
      do throws(NetworkError) {
        let frames = try stack.send(
          datagram.data, from: echoPort, to: datagram.source, port: datagram.sourcePort, now: now)
        for frame in frames { link.transmit(frame) }
        round.echoed += 1
      } catch {
        round.failed += 1
      }
    }
    return round
  }

  /// Serves `peer`'s steps one after the other until all are done (at
  /// most 100 rounds), then checks the drops the peer's hostile frames
  /// must have caused. The results are in `peer`.
  public static func exercise(
    _ stack: inout NetworkStack, _ peer: inout ScriptedPeer, ticks: () -> UInt64
  ) {
    var rounds = 0
    while !peer.done && rounds < 100 {
      peer.advance()
      if serve(&stack, &peer, now: ticks()).failed > 0 { peer.fail("a datagram was not echoed") }
      rounds += 1
    }
    peer.finish()
    peer.check(stack.pending.isEmpty, "\(stack.pending.count) datagram(s) still wait for ARP")
    for (reason, count) in ScriptedPeer.drops {
      let dropped = stack.dropped(reason)
      peer.check(dropped == count, "dropped \(dropped) frame(s) for \(reason), expected \(count)")
    }
  }

  /// The program: with `network` (``PeerNetwork/onNetworkArgument``) it
  /// serves the Linux peer over the kernel's packet filters
  /// (``serveNetwork(_:)``), otherwise the scripted peer.
  public static func main<K: KernelInterface>(
    _ os: LibOS<K>, _ start: ForkStart?, network: Bool = false
  ) throws(ExoError) -> UInt64 {
    if let start { return spoof(os, start) }
    if network { return try serveNetwork(os) }
    var stack: NetworkStack
    do throws(NetworkError) { stack = try Self.stack() } catch {
      os.print("netecho: the stack refused its configuration: \(error)")
      return 1
    }
    var peer = ScriptedPeer(server: mac, serverIP: ip)
    exercise(&stack, &peer) { os.header(.ticks) }
    for line in peer.log { os.print("netecho: " + line) }
    os.print(
      "netecho: \(stack.statistics.echoReplies) echo replies, "
        + "\(stack.statistics.datagramsSent) datagrams echoed, \(stack.droppedTotal) frames dropped"
    )
    os.print("netecho: \(peer.passed) passed, \(peer.failed) failed")
    return peer.failed == 0 ? 0 : 1
  }
}
