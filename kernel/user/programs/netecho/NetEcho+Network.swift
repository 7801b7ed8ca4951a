import ExoABI
import LibOS

/// `netecho` on the network with the Linux peer (`swift run exo boot
/// --program netecho --peer linux`, docs/network.md): the same server over
/// the kernel's packet filters and NIC.
///
/// Its own checks, printed as `netecho: check PASS|FAIL NAME: DETAIL`
/// (the harness judges them with the peer's):
/// - `filters-installed`: the stack's filters (ARP, ICMP, UDP port 7 for
///   10.0.2.15) are accepted;
/// - `overlap-refused`, `spoof-refused`: a second environment (a fork
///   child that holds no filter) asking for UDP port 7 is refused with
///   `overlap`, and its frames from 10.0.2.15 — a UDP datagram from port 7
///   and an ARP reply — with `notPermitted`;
/// - `frames-sent`: the kernel's transmit rule let every frame the server
///   sent out (ARP and echo replies);
/// - `unclaimed-counted`: between the last datagram echoed and the peer's
///   done message (after its datagram to port 9) the kernel's count of
///   frames no filter claims grew.
/// The server ends when the peer's ``PeerNetwork/doneMessage`` arrives on
/// port 7, printing `netecho: N passed, M failed`.
extension NetEcho {
  /// Window slots of the link: the filters' buffers, then the transmit page.
  static let linkSlots = 0..<8
  /// Window slots of the spoofing child's buffer and frame.
  static let spoofBufferSlot = 8
  static let spoofFrameSlot = 9
  /// The spoofing child's exit status: one bit per refusal that did not
  /// come.
  static let spoofUDPAccepted: UInt64 = 1
  static let spoofARPAccepted: UInt64 = 2
  static let spoofOverlapMissed: UInt64 = 4
  static let spoofSetupFailed: UInt64 = 8

  struct Checks {
    var passed = 0
    var failed = 0
    mutating func record<K: KernelInterface>(
      _ os: LibOS<K>, _ ok: Bool, _ name: String, _ detail: String
    ) {
      if ok { passed += 1 } else { failed += 1 }
      os.print("netecho: check \(ok ? "PASS" : "FAIL") \(name): \(detail)")
    }
  }

  public static func serveNetwork<K: KernelInterface>(_ os: LibOS<K>) throws(ExoError) -> UInt64 {
    var checks = Checks()
    var stack: NetworkStack
    do throws(NetworkError) { stack = try Self.stack() } catch {
      os.print("netecho: the stack refused its configuration: \(error)")
      return 1
    }
    let filters: [PacketFilter]
    do throws(PacketFilterError) { filters = try stack.filters() } catch {
      os.print("netecho: a filter of the stack does not encode: \(error)")
      return 1
    }
    var link: KernelFrameLink<K>
    do throws(ExoError) {
      link = try KernelFrameLink(os, filters: filters, slots: linkSlots)
    } catch {
      checks.record(os, false, "filters-installed", "the kernel refused: \(error)")
      os.print("netecho: \(checks.passed) passed, \(checks.failed) failed")
      return 1
    }
    checks.record(
      os, true, "filters-installed",
      "\(filters.count) filters (ARP, ICMP, UDP port \(echoPort) for \(ip))")

    // A second environment tries to take the server's port and address.
    let child = try os.fork(function: 1)
    os.wait(for: child)
    let status = try os.reap(child)
    checks.record(
      os, status & (spoofOverlapMissed | spoofSetupFailed) == 0, "overlap-refused",
      status & spoofSetupFailed != 0
        ? "the child could not set up (status \(status))"
        : "a second environment's filter for UDP port \(echoPort) is refused with overlap")
    checks.record(
      os, status & (spoofUDPAccepted | spoofARPAccepted | spoofSetupFailed) == 0,
      "spoof-refused",
      "a second environment's UDP datagram from \(ip):\(echoPort) and ARP reply for \(ip) "
        + (status & (spoofUDPAccepted | spoofARPAccepted) == 0
          ? "are refused with notPermitted" : "went out (status \(status))"))
    os.print("netecho: serving \(ip) (ICMP echo, UDP port \(echoPort)) until the peer is done")

    var echoed = 0
    var unclaimedAtLastEcho = os.header(.unclaimedFrames)
    while true {
      let round = serve(&stack, &link, now: os.header(.ticks))
      if round.echoed > 0 {
        echoed += round.echoed
        unclaimedAtLastEcho = os.header(.unclaimedFrames)
      }
      if round.peerDone { break }
      os.yield()
    }
    let unclaimed = os.header(.unclaimedFrames)
    checks.record(
      os, unclaimed > unclaimedAtLastEcho, "unclaimed-counted",
      "frames no filter claims: \(unclaimedAtLastEcho) after the last echo, \(unclaimed) at the end"
    )
    checks.record(
      os, link.refused == 0 && link.transmitted > 0, "frames-sent",
      "\(link.transmitted) frames sent, \(link.refused) refused"
        + (link.lastRefusal.map { " (last: \($0))" } ?? ""))
    os.print(
      "netecho: \(stack.statistics.echoReplies) echo replies, \(echoed) datagrams echoed, "
        + "\(stack.droppedTotal) frames dropped by the stack, \(link.droppedByKernel) by the kernel"
    )
    link.remove()
    os.print("netecho: \(checks.passed) passed, \(checks.failed) failed")
    return checks.failed == 0 ? 0 : 1
  }

  /// The fork child of ``serveNetwork(_:)``: an environment without
  /// filters that claims the server's port and sends as the server.
  static func spoof<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart) -> UInt64 {
    var status: UInt64 = 0
    do throws(ExoError) {
      try os.allocate(slot: spoofBufferSlot, private: true)
      try os.allocate(slot: spoofFrameSlot, private: true)
    } catch {
      return spoofSetupFailed
    }
    // The server's UDP port 7 filter, into this environment's buffer, in
    // a free filter slot.
    let filter: PacketFilter
    do throws(PacketFilterError) {
      filter = try NetworkStack.udpFilter(ip: ip, port: echoPort)
    } catch {
      return spoofSetupFailed
    }
    guard
      let slot = (0..<os.bounds.filters).first(where: {
        os.filter($0, .state) == FilterState.free.rawValue
      })
    else { return spoofSetupFailed }
    let words = filter.words
    for i in 0..<filter.tests.count {
      let r = os.kernel.sys(
        FilterTestArguments(
          filter: UInt64(slot), index: UInt64(i), first: words[1 + 2 * i],
          second: words[2 + 2 * i]))
      if r.error != nil { return spoofSetupFailed }
    }
    let install = os.kernel.sys(
      FilterInstallArguments(
        filter: UInt64(slot), count: UInt64(filter.tests.count), slot: UInt64(spoofBufferSlot)))
    if install.error != .overlap { status |= spoofOverlapMissed }
    _ = os.kernel.sys(FilterRemoveArguments(filter: UInt64(slot)))
    // A stack with the server's addresses that knows the peer.
    var stack: NetworkStack
    do throws(NetworkError) { stack = try Self.stack() } catch { return spoofSetupFailed }
    let peerIP = IPv4Address(
      PeerNetwork.peerAddress.0, PeerNetwork.peerAddress.1, PeerNetwork.peerAddress.2,
      PeerNetwork.peerAddress.3)
    let (a, b, c, d, e, f) = PeerNetwork.peerMAC
    let peerMAC = MACAddress(
      UInt64(a) << 40 | UInt64(b) << 32 | UInt64(c) << 24 | UInt64(d) << 16 | UInt64(e) << 8
        | UInt64(f))
    let request = EthernetHeader(destination: .broadcast, source: peerMAC, type: EtherType.arp)
      .frame(
        ARPPacket(
          operation: ARPPacket.request, senderMAC: peerMAC, senderIP: peerIP,
          targetMAC: MACAddress(0), targetIP: ip
        ).bytes)
    let replies = stack.receive(request, now: 0)
    guard let reply = replies.first else { return spoofSetupFailed }
    if KernelFrameLink.send(os, reply, slot: spoofFrameSlot) != .notPermitted {
      status |= spoofARPAccepted
    }
    let datagram: [[UInt8]]
    do throws(NetworkError) {
      datagram = try stack.send(
        Array("spoofed".utf8), from: echoPort, to: peerIP, port: 40_000, now: 0)
    } catch {
      return status | spoofSetupFailed
    }
    guard let frame = datagram.first else { return status | spoofSetupFailed }
    if KernelFrameLink.send(os, frame, slot: spoofFrameSlot) != .notPermitted {
      status |= spoofUDPAccepted
    }
    return status
  }
}
