import ExoABI
import LibOS
import Testing

/// Random interleavings of sends (to known, unknown, silent and invalid
/// hosts, from bound and unbound ports), ARP replies and requests from the
/// hosts, and time passing (retries, expiry). Every frame the stack
/// transmits is checked (an ARP request is a broadcast for a real
/// destination; a datagram goes to its host's true MAC with its data and
/// ports), every refused send is refused for the right reason, and at the
/// end, once every waiting datagram is resolved or given up, each
/// accepted datagram was transmitted exactly once or counted as
/// `arpUnresolved`, never both.
@Suite("LibOS network stack: sending")
struct NetworkSendPropertyTests {
  static let mac = MACAddress(0x5254_0012_3456)
  static let ip = IPv4Address(10, 0, 2, 15)
  /// Hosts that answer ARP, and one (the last) that never does.
  static let hosts: [(mac: MACAddress, ip: IPv4Address)] = [
    (MACAddress(0x5254_0000_0002), IPv4Address(10, 0, 2, 2)),
    (MACAddress(0x5254_0000_0003), IPv4Address(10, 0, 2, 3)),
    (MACAddress(0x0200_0000_0004), IPv4Address(10, 0, 2, 4)),
    (MACAddress(0x5254_0000_0005), IPv4Address(10, 0, 2, 5)),
    (MACAddress(0x5254_0000_0006), IPv4Address(10, 0, 2, 6)),
  ]
  static let silent = hosts.count - 1

  struct Sent {
    var host: Int
    var port: UInt16
    var destinationPort: UInt16
    var data: [UInt8]
    var transmitted = 0
  }

  /// Runs `count` sequences from `seed` (with `bug` planted); the
  /// failures found, and how many datagrams went out and were given up.
  static func run(seed: UInt64, count: Int, steps: Int, bug: NetworkPlantedBug? = nil)
    -> (failures: [String], transmitted: Int, unresolved: UInt64, refused: Int)
  {
    var failures: [String] = []
    var totals = (transmitted: 0, unresolved: UInt64(0), refused: 0)
    for s in 0..<count {
      var g = SplitMix64(seed: SplitMix64.derive(seed, s))
      guard var stack = try? NetworkStack(mac: mac, ip: ip, arpLifetime: 300) else {
        return (["the stack refused its configuration"], 0, 0, 0)
      }
      stack.plantedBug = bug
      try? stack.bind(port: 7)
      try? stack.bind(port: 9)
      var sent: [Sent] = []
      var asked: Set<UInt32> = []
      var now: UInt64 = 0
      func fail(_ what: String) {
        if failures.count < 5 { failures.append("seed \(seed) sequence \(s) at \(now): \(what)") }
      }
      func check(_ frames: [[UInt8]]) {
        for f in frames {
          guard let e = EthernetHeader(parsing: f), e.source == mac else {
            fail("a frame not from our MAC")
            continue
          }
          if e.type == EtherType.arp {
            guard let a = ARPPacket(parsing: f), a.operation == ARPPacket.request,
              e.destination == .broadcast, a.senderIP == ip, a.senderMAC == mac,
              hosts.contains(where: { $0.ip == a.targetIP })
            else {
              fail("a bad ARP request")
              continue
            }
            asked.insert(a.targetIP.value)
            continue
          }
          guard let packet = try? IPv4Header.parse(f),
            let udp = try? UDPHeader.parse(f, packet.payload, ip: packet.header),
            packet.header.source == ip
          else {
            fail("a frame the stack would drop itself")
            continue
          }
          let data = Array(f[udp.data])
          // Datagrams alike (no room for a tag) match the first not yet seen.
          func same(_ d: Sent) -> Bool {
            hosts[d.host].ip == packet.header.destination && d.port == udp.header.sourcePort
              && d.destinationPort == udp.header.destinationPort && d.data == data
          }
          let i =
            sent.firstIndex { same($0) && $0.transmitted == 0 } ?? sent.firstIndex(where: same)
          guard let i else {
            fail("a datagram never sent")
            continue
          }
          if e.destination != hosts[sent[i].host].mac { fail("a datagram to the wrong MAC") }
          sent[i].transmitted += 1
          if sent[i].transmitted > 1 { fail("a datagram transmitted twice") }
        }
      }
      func arpFrame(_ h: Int, _ operation: UInt16) -> [UInt8] {
        let a = ARPPacket(
          operation: operation, senderMAC: hosts[h].mac, senderIP: hosts[h].ip,
          targetMAC: operation == ARPPacket.reply ? mac : .zero, targetIP: ip)
        return EthernetHeader(
          destination: operation == ARPPacket.reply ? mac : .broadcast, source: hosts[h].mac,
          type: EtherType.arp
        ).frame(a.bytes)
      }
      for k in 0..<steps {
        switch g.next() % 8 {
        case 0, 1, 2, 3:
          let h = Int(g.next() % UInt64(hosts.count + 2))
          let port: UInt16 = [7, 9, 8][Int(g.next() % 3)]
          let destinationPort = UInt16(g.next() % 3)
          let size = g.next() % 16 == 0 ? UDPHeader.maximumPayload + 1 : Int(g.next() % 64)
          // A unique tag in the first bytes tells datagrams apart.
          var data = [UInt8](repeating: UInt8(truncatingIfNeeded: k), count: size)
          if size >= 2 { (data[0], data[1]) = (UInt8(s & 0xFF), UInt8(k & 0xFF)) }
          if size >= 3 { data[2] = UInt8(truncatingIfNeeded: k >> 8) }
          let destination = h < hosts.count ? hosts[h].ip : (h == hosts.count ? ip : .broadcast)
          let waiting = stack.pending.count
          let known = h < hosts.count && stack.arp.lookup(destination, now: now) != nil
          let expected: NetworkError? =
            port == 8
            ? .notBound
            : destinationPort == 0
              ? .invalidPort
              : h >= hosts.count
                ? .invalidDestination
                : size > UDPHeader.maximumPayload
                  ? .payloadTooLong
                  : (!known && waiting >= NetworkStack.maximumPending) ? .pendingFull : nil
          do throws(NetworkError) {
            let frames = try stack.send(
              data, from: port, to: destination, port: destinationPort, now: now)
            if let expected { fail("sent what \(expected) should refuse") }
            sent.append(
              Sent(host: h, port: port, destinationPort: destinationPort, data: data))
            check(frames)
          } catch {
            totals.refused += 1
            if error != expected {
              fail("refused with \(error), expected \(String(describing: expected))")
            }
            if stack.pending.count != waiting { fail("a refused send changed what waits") }
          }
        case 4, 5:
          // A host that was asked answers (the silent one never does).
          let h = Int(g.next() % UInt64(silent))
          if asked.contains(hosts[h].ip.value) {
            check(stack.receive(arpFrame(h, ARPPacket.reply), now: now))
          }
        case 6:
          let h = Int(g.next() % UInt64(silent))
          let out = stack.receive(arpFrame(h, ARPPacket.request), now: now)
          // The ARP reply first, then what waited for this host.
          if out.first.flatMap({ ARPPacket(parsing: $0) })?.operation != ARPPacket.reply {
            fail("an ARP request not answered")
          }
          check(Array(out.dropFirst()))
        default:
          now += g.next() % 16
          check(stack.poll(now: now))
        }
        if stack.pending.count > NetworkStack.maximumPending { fail("too many datagrams wait") }
      }
      // Everything resolves: the hosts answer, time passes until the
      // silent host's datagrams are given up.
      for h in 0..<silent { check(stack.receive(arpFrame(h, ARPPacket.reply), now: now)) }
      for _ in 0...NetworkStack.arpAttempts {
        now += NetworkStack.arpRetryTicks
        check(stack.poll(now: now))
        for h in 0..<silent { check(stack.receive(arpFrame(h, ARPPacket.reply), now: now)) }
      }
      if !stack.pending.isEmpty { fail("\(stack.pending.count) datagrams still wait") }
      let transmitted = sent.filter { $0.transmitted == 1 }.count
      let unresolved = stack.dropped(.arpUnresolved)
      if transmitted + Int(unresolved) != sent.count {
        fail("\(sent.count) accepted, \(transmitted) transmitted, \(unresolved) given up")
      }
      totals.transmitted += transmitted
      totals.unresolved += unresolved
    }
    return (failures, totals.transmitted, totals.unresolved, totals.refused)
  }

  @Test("every accepted datagram goes out once, to the right MAC, or is given up")
  func sends() {
    let result = Self.run(seed: 0x5E4D, count: 50, steps: 200)
    #expect(result.failures.isEmpty, "\(result.failures)")
    // The sequences reach every outcome.
    #expect(result.transmitted >= 1000 && result.unresolved >= 50 && result.refused >= 500)
  }

  @Test("a planted bug is caught: datagrams that waited for ARP stay waiting")
  func plantedBug() {
    #expect(!Self.run(seed: 0x5E4D, count: 50, steps: 200, bug: .pendingKept).failures.isEmpty)
  }
}
