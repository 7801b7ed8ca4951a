import ExoABI
import LibOS
import Testing

/// The network stack's calls, case by case: sockets, sending (with ARP
/// asked, retried and given up), the ARP cache, queue limits, the largest
/// echo, and refused arguments that change nothing.
@Suite("LibOS network stack")
struct NetworkStackTests {
  static let mac = MACAddress(0x5254_0012_3456)
  static let ip = IPv4Address(10, 0, 2, 15)
  static let peer = (mac: MACAddress(0x5254_0000_0002), ip: IPv4Address(10, 0, 2, 2))

  func stack(ports: [UInt16] = [7]) throws -> NetworkStack {
    var s = try NetworkStack(mac: Self.mac, ip: Self.ip)
    for p in ports { try s.bind(port: p) }
    return s
  }

  /// The peer's ARP reply to a request of the stack.
  func arpReply() -> [UInt8] {
    let p = ARPPacket(
      operation: ARPPacket.reply, senderMAC: Self.peer.mac, senderIP: Self.peer.ip,
      targetMAC: Self.mac, targetIP: Self.ip)
    return EthernetHeader(destination: Self.mac, source: Self.peer.mac, type: EtherType.arp)
      .frame(p.bytes)
  }

  @Test(
    "a stack needs a unicast MAC and IPv4 address",
    arguments: [
      (MACAddress.broadcast, IPv4Address(10, 0, 2, 15)),
      (MACAddress.zero, IPv4Address(10, 0, 2, 15)),
      (MACAddress(0x0100_5E00_0001), IPv4Address(10, 0, 2, 15)),
      (MACAddress(0x5254_0012_3456), IPv4Address(0)),
      (MACAddress(0x5254_0012_3456), IPv4Address.broadcast),
      (MACAddress(0x5254_0012_3456), IPv4Address(127, 0, 0, 1)),
      (MACAddress(0x5254_0012_3456), IPv4Address(224, 0, 0, 1)),
    ])
  func invalidAddresses(mac: MACAddress, ip: IPv4Address) {
    #expect(throws: NetworkError.invalidAddress) { try NetworkStack(mac: mac, ip: ip) }
  }

  @Test("bind and unbind refuse bad ports and change nothing")
  func binding() throws {
    var s = try stack()
    let before = s.sockets
    #expect(throws: NetworkError.invalidPort) { try s.bind(port: 0) }
    #expect(throws: NetworkError.portInUse) { try s.bind(port: 7) }
    #expect(throws: NetworkError.notBound) { try s.unbind(port: 8) }
    #expect(throws: NetworkError.notBound) { try s.dequeue(port: 8) }
    #expect(s.sockets == before)
    for p in 1..<UInt16(NetworkStack.maximumSockets) { try s.bind(port: 1000 + p) }
    #expect(throws: NetworkError.tooManySockets) { try s.bind(port: 999) }
    try s.unbind(port: 7)
    try s.bind(port: 999)
    #expect(s.sockets.count == NetworkStack.maximumSockets)
  }

  @Test("send refuses bad arguments and changes nothing")
  func sendRefusals() throws {
    var s = try stack()
    let cases: [(UInt16, IPv4Address, UInt16, Int, NetworkError)] = [
      (8, Self.peer.ip, 9, 1, .notBound),
      (7, Self.peer.ip, 0, 1, .invalidPort),
      (7, IPv4Address.broadcast, 9, 1, .invalidDestination),
      (7, Self.ip, 9, 1, .invalidDestination),
      (7, IPv4Address(0), 9, 1, .invalidDestination),
      (7, Self.peer.ip, 9, UDPHeader.maximumPayload + 1, .payloadTooLong),
    ]
    for (from, to, port, size, error) in cases {
      let before = s
      #expect(throws: error) {
        try s.send([UInt8](repeating: 1, count: size), from: from, to: to, port: port, now: 0)
      }
      #expect(s.pending == before.pending && s.statistics == before.statistics)
    }
  }

  @Test("a datagram to an unknown host waits for ARP, then goes out")
  func sendWaitsForARP() throws {
    var s = try stack()
    let first = try s.send([1, 2, 3], from: 7, to: Self.peer.ip, port: 4000, now: 5)
    #expect(first.count == 1)
    let request = try #require(ARPPacket(parsing: first[0]))
    #expect(request.operation == ARPPacket.request && request.targetIP == Self.peer.ip)
    #expect(EthernetHeader(parsing: first[0])?.destination == .broadcast)
    // A second datagram to the same host asks nothing more.
    #expect(try s.send([4], from: 7, to: Self.peer.ip, port: 4001, now: 6).isEmpty)
    let out = s.receive(arpReply(), now: 7)
    #expect(out.count == 2 && s.pending.isEmpty)
    let expected: [(port: UInt16, data: [UInt8])] = [(4000, [1, 2, 3]), (4001, [4])]
    for (frame, e) in zip(out, expected) {
      let (port, data) = (e.port, e.data)
      #expect(EthernetHeader(parsing: frame)?.destination == Self.peer.mac)
      let ip = try IPv4Header.parse(frame)
      #expect(ip.header.destination == Self.peer.ip && ip.header.source == Self.ip)
      // The UDP checksum, verified by the oracle's own arithmetic.
      let segment = frame[ip.payload]
      let pseudo: [UInt64] = [0x0A00, 0x020F, 0x0A00, 0x0202, 17, UInt64(segment.count)]
      #expect(NetworkOracle.checksum(segment, extra: pseudo) == 0)
      let udp = try UDPHeader.parse(frame, ip.payload, ip: ip.header)
      #expect(udp.header.destinationPort == port && Array(frame[udp.data]) == data)
    }
    // Now the address is known: the next datagram goes at once.
    let direct = try s.send([9], from: 7, to: Self.peer.ip, port: 4002, now: 8)
    #expect(direct.count == 1 && EtherType.ipv4 == EthernetHeader(parsing: direct[0])?.type)
    #expect(s.statistics.datagramsSent == 3)
  }

  @Test("ARP is asked again, then the waiting datagrams are dropped")
  func arpGivesUp() throws {
    var s = try stack()
    _ = try s.send([1], from: 7, to: Self.peer.ip, port: 4000, now: 0)
    _ = try s.send([2], from: 7, to: Self.peer.ip, port: 4000, now: 0)
    #expect(s.poll(now: NetworkStack.arpRetryTicks - 1).isEmpty)
    var requests = 1
    var now: UInt64 = 0
    while !s.pending.isEmpty && now < 1000 {
      now += NetworkStack.arpRetryTicks
      requests += s.poll(now: now).count
    }
    #expect(requests == NetworkStack.arpAttempts)
    #expect(s.dropped(.arpUnresolved) == 2)
  }

  @Test("at most maximumPending datagrams wait")
  func pendingLimit() throws {
    var s = try stack()
    for i in 0..<NetworkStack.maximumPending {
      _ = try s.send([1], from: 7, to: IPv4Address(10, 0, 3, UInt8(i + 1)), port: 9, now: 0)
    }
    #expect(throws: NetworkError.pendingFull) {
      try s.send([1], from: 7, to: IPv4Address(10, 0, 4, 1), port: 9, now: 0)
    }
    #expect(s.pending.count == NetworkStack.maximumPending)
  }

  @Test("ARP entries expire; a full cache forgets the entry that expires first")
  func arpCache() {
    var cache = ARPCache(lifetime: 100)
    cache.insert(IPv4Address(10, 0, 0, 1), MACAddress(1), now: 0)
    #expect(cache.lookup(IPv4Address(10, 0, 0, 1), now: 99) == MACAddress(1))
    #expect(cache.lookup(IPv4Address(10, 0, 0, 1), now: 100) == nil)
    for i in 2...(ARPCache.capacity + 1) {
      cache.insert(IPv4Address(10, 0, 0, UInt8(i)), MACAddress(UInt64(i)), now: UInt64(i))
    }
    #expect(cache.entries.count == ARPCache.capacity)
    #expect(!cache.contains(IPv4Address(10, 0, 0, 1)))
    cache.insert(IPv4Address(10, 0, 0, 2), MACAddress(42), now: 50)
    #expect(cache.lookup(IPv4Address(10, 0, 0, 2), now: 60) == MACAddress(42))
    cache.expire(now: 140)
    #expect(cache.entries.map(\.ip) == [IPv4Address(10, 0, 0, 2)])
    // Lifetimes near the end of time do not wrap.
    var late = ARPCache(lifetime: .max)
    late.insert(IPv4Address(10, 0, 0, 1), MACAddress(1), now: 5)
    #expect(late.lookup(IPv4Address(10, 0, 0, 1), now: .max - 1) == MACAddress(1))
  }

  @Test("a full socket queue drops and counts")
  func queueFull() throws {
    var s = try stack()
    let datagram = UDPHeader(sourcePort: 4000, destinationPort: 7)
      .datagram([1], source: Self.peer.ip, destination: Self.ip)
    let packet =
      IPv4Header(
        totalLength: UInt16(20 + datagram.count), identification: 1,
        protocolNumber: IPv4Protocol.udp, source: Self.peer.ip, destination: Self.ip
      ).bytes + datagram
    let frame = EthernetHeader(destination: Self.mac, source: Self.peer.mac, type: EtherType.ipv4)
      .frame(packet)
    for _ in 0...NetworkStack.queueCapacity { _ = s.receive(frame, now: 0) }
    #expect(s.sockets[0].queue.count == NetworkStack.queueCapacity)
    #expect(s.dropped(.udpQueueFull) == 1)
  }

  @Test("the largest echo request (1514-byte frame) gets a 1514-byte reply")
  func largestEcho() throws {
    var s = try stack()
    let data = (0..<1472).map { UInt8(truncatingIfNeeded: $0) }
    let message = ICMPEcho.message(
      type: ICMPEcho.requestType, identifier: 1, sequence: 2, data: data)
    let packet =
      IPv4Header(
        totalLength: 1500, identification: 1, protocolNumber: IPv4Protocol.icmp,
        source: Self.peer.ip, destination: Self.ip
      ).bytes + message
    let frame = EthernetHeader(destination: Self.mac, source: Self.peer.mac, type: EtherType.ipv4)
      .frame(packet)
    #expect(frame.count == 1514)
    let out = s.receive(frame, now: 0)
    #expect(out.count == 1 && out[0].count == 1514)
    let oracle = NetworkOracle(mac: Self.mac.value, ip: Self.ip.value, ports: [7])
    guard case .echo(let toMAC, let toIP, let m) = oracle.verdict(frame) else {
      Issue.record("the oracle does not take the request")
      return
    }
    #expect(oracle.checkEchoReply(out[0], toMAC: toMAC, toIP: toIP, message: m).isEmpty)
    // One byte more is oversized.
    #expect(s.receive(frame + [0], now: 0).isEmpty && s.dropped(.oversized) == 1)
  }
}
