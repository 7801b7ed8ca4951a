import LibOS

/// Two hosts on the link of a server at (`server`, `serverIP`), as a
/// ``FrameLink``: host A (10.0.2.2) and host B (10.0.2.3). Each
/// ``advance()`` queues the next step's frames for the server; every frame
/// the server transmits must meet one expectation of the steps so far,
/// exactly once.
///
/// 1. A asks for the server's MAC (ARP request): an ARP reply.
/// 2. A pings the server 10 times, data of 0 to 1,000 bytes: each reply
///    carries its request's identifier, sequence number and data.
/// 3. A sends 3 datagrams to port 7: each comes back to A's port.
/// 4. B, which the server has never heard of, sends a datagram to port 7:
///    the server asks for B's MAC (ARP request); B answers; the datagram
///    comes back.
/// 5. Hostile and unclaimed frames, none answered: datagrams to ports 9
///    and 263 (whose low byte is 7's), a bad IPv4 checksum, a bad UDP
///    checksum, a fragment, a truncated frame, an echo request
///    to another address (counts in ``drops``).
public struct ScriptedPeer: FrameLink {
  enum Expectation {
    case arpReply(to: MACAddress)
    case arpRequest(for: IPv4Address)
    case echoReply(sequence: UInt16, data: [UInt8])
    case datagram(to: IPv4Address, port: UInt16, data: [UInt8])
  }

  public static let hostA = (mac: MACAddress(0x5254_0000_0002), ip: IPv4Address(10, 0, 2, 2))
  public static let hostB = (mac: MACAddress(0x5254_0000_0003), ip: IPv4Address(10, 0, 2, 3))
  /// The frames of step 5 the server must drop, by reason.
  public static let drops: [(NetworkDrop, UInt64)] = [
    (.udpNoSocket, 2), (.ipChecksum, 1), (.udpChecksum, 1), (.ipFragment, 1), (.truncated, 1),
    (.ipNotForUs, 1),
  ]
  static let identifier: UInt16 = 0x4E45

  let server: MACAddress
  let serverIP: IPv4Address
  var inbox: [[UInt8]] = []
  var expected: [(name: String, what: Expectation)] = []
  var step = 0
  var identification: UInt16 = 100
  public private(set) var passed = 0
  public private(set) var failed = 0
  public private(set) var log: [String] = []

  public init(server: MACAddress, serverIP: IPv4Address) {
    (self.server, self.serverIP) = (server, serverIP)
  }

  /// Every step was queued and every frame delivered.
  public var done: Bool { step > 5 && inbox.isEmpty }

  public mutating func receiveFrame() -> [UInt8]? { inbox.isEmpty ? nil : inbox.removeFirst() }

  public mutating func transmit(_ frame: [UInt8]) {
    guard let ethernet = EthernetHeader(parsing: frame) else {
      return fail("a frame of \(frame.count) bytes")
    }
    if ethernet.type == EtherType.arp, let arp = ARPPacket(parsing: frame) {
      if arp.operation == ARPPacket.request, arp.targetIP == Self.hostB.ip {
        inbox.append(arpFrame(ARPPacket.reply, from: Self.hostB, to: arp.senderMAC))
      }
      for (i, e) in expected.enumerated() {
        switch e.what {
        case .arpReply(let to)
        where arp.operation == ARPPacket.reply && ethernet.destination == to
          && arp.targetMAC == to && arp.senderMAC == server && arp.senderIP == serverIP:
          return met(i)
        case .arpRequest(let ip)
        where arp.operation == ARPPacket.request && arp.targetIP == ip
          && ethernet.destination == .broadcast && arp.senderIP == serverIP:
          return met(i)
        default: continue
        }
      }
      return fail("an unexpected ARP frame")
    }
    let parsed: (header: IPv4Header, payload: Range<Int>)
    do throws(NetworkDrop) { parsed = try IPv4Header.parse(frame) } catch {
      return fail("an IPv4 frame the peer drops: \(error)")
    }
    let header = parsed.header
    guard ethernet.source == server, header.source == serverIP else {
      return fail("a frame from \(ethernet.source) \(header.source)")
    }
    for (i, e) in expected.enumerated() {
      switch e.what {
      case .echoReply(let sequence, let data) where header.protocolNumber == IPv4Protocol.icmp:
        let m = parsed.payload
        guard m.count == ICMPEcho.headerLength + data.count else { continue }
        let reply = ICMPEcho.message(
          type: ICMPEcho.replyType, identifier: Self.identifier, sequence: sequence, data: data)
        if Array(frame[m]) == reply && ethernet.destination == Self.hostA.mac { return met(i) }
      case .datagram(let to, let port, let data) where header.protocolNumber == IPv4Protocol.udp:
        guard header.destination == to else { continue }
        let udp: (header: UDPHeader, data: Range<Int>)
        do throws(NetworkDrop) {
          udp = try UDPHeader.parse(frame, parsed.payload, ip: header)
        } catch {
          continue
        }
        if udp.header.sourcePort == 7 && udp.header.destinationPort == port
          && Array(frame[udp.data]) == data
        {
          return met(i)
        }
      default: continue
      }
    }
    fail("an unexpected IPv4 frame (protocol \(header.protocolNumber))")
  }

  /// Queues the next step's frames.
  public mutating func advance() {
    guard inbox.isEmpty, step <= 5 else { return }
    step += 1
    let a = Self.hostA
    switch step {
    case 1:
      inbox.append(arpFrame(ARPPacket.request, from: a, to: .zero))
      expect("ARP reply to A", .arpReply(to: a.mac))
    case 2:
      for seq in 1...10 {
        let data = (0..<(seq - 1) * 111).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seq) }
        let message = ICMPEcho.message(
          type: ICMPEcho.requestType, identifier: Self.identifier, sequence: UInt16(seq),
          data: data)
        inbox.append(ipFrame(from: a, to: serverIP, IPv4Protocol.icmp, message))
        expect("echo reply \(seq)", .echoReply(sequence: UInt16(seq), data: data))
      }
    case 3:
      for k in 0..<3 {
        let data = Array("datagram \(k) to port 7".utf8)
        inbox.append(udpFrame(from: a, port: 4000 + UInt16(k), to: 7, data))
        expect("UDP echo \(k)", .datagram(to: a.ip, port: 4000 + UInt16(k), data: data))
      }
    case 4:
      let data = Array("from a host the server never saw".utf8)
      inbox.append(udpFrame(from: Self.hostB, port: 5000, to: 7, data))
      expect("ARP request for B", .arpRequest(for: Self.hostB.ip))
      expect("UDP echo to B", .datagram(to: Self.hostB.ip, port: 5000, data: data))
    case 5:
      inbox.append(udpFrame(from: a, port: 4100, to: 9, Array("unclaimed".utf8)))
      inbox.append(udpFrame(from: a, port: 4104, to: 0x107, Array("unclaimed 263".utf8)))
      var bad = udpFrame(from: a, port: 4101, to: 7, Array("bad checksum".utf8))
      bad[24] ^= 0x01
      inbox.append(bad)
      var badUDP = udpFrame(from: a, port: 4105, to: 7, Array("bad UDP checksum".utf8))
      badUDP[42] ^= 0x01
      inbox.append(badUDP)
      var fragment = udpFrame(from: a, port: 4102, to: 7, Array("fragment".utf8))
      fragment[20] |= 0x20
      fixChecksum(&fragment)
      inbox.append(fragment)
      inbox.append(Array(udpFrame(from: a, port: 4103, to: 7, [1, 2, 3]).prefix(30)))
      let stray = ICMPEcho.message(
        type: ICMPEcho.requestType, identifier: Self.identifier, sequence: 99, data: [])
      inbox.append(ipFrame(from: a, to: IPv4Address(10, 0, 2, 99), IPv4Protocol.icmp, stray))
    default: break
    }
  }

  /// Fails every expectation not met.
  public mutating func finish() {
    for e in expected { fail("\(e.name): no such frame") }
    expected = []
  }

  public mutating func check(_ condition: Bool, _ what: String) {
    if condition { passed += 1 } else { fail(what) }
  }

  public mutating func fail(_ what: String) {
    failed += 1
    log.append("FAIL " + what)
  }

  mutating func expect(_ name: String, _ what: Expectation) { expected.append((name, what)) }

  mutating func met(_ i: Int) {
    passed += 1
    log.append("ok " + expected[i].name)
    expected.remove(at: i)
  }

  func arpFrame(
    _ operation: UInt16, from host: (mac: MACAddress, ip: IPv4Address), to target: MACAddress
  ) -> [UInt8] {
    let packet = ARPPacket(
      operation: operation, senderMAC: host.mac, senderIP: host.ip, targetMAC: target,
      targetIP: serverIP)
    let destination = operation == ARPPacket.request ? MACAddress.broadcast : target
    return EthernetHeader(destination: destination, source: host.mac, type: EtherType.arp)
      .frame(packet.bytes)
  }

  mutating func ipFrame(
    from host: (mac: MACAddress, ip: IPv4Address), to ip: IPv4Address, _ protocolNumber: UInt8,
    _ payload: [UInt8]
  ) -> [UInt8] {
    identification &+= 1
    let header = IPv4Header(
      totalLength: UInt16(IPv4Header.length + payload.count), identification: identification,
      protocolNumber: protocolNumber, source: host.ip, destination: ip)
    return EthernetHeader(destination: server, source: host.mac, type: EtherType.ipv4)
      .frame(header.bytes + payload)
  }

  mutating func udpFrame(
    from host: (mac: MACAddress, ip: IPv4Address), port: UInt16, to destinationPort: UInt16,
    _ data: [UInt8]
  ) -> [UInt8] {
    let datagram = UDPHeader(sourcePort: port, destinationPort: destinationPort)
      .datagram(data, source: host.ip, destination: serverIP)
    return ipFrame(from: host, to: serverIP, IPv4Protocol.udp, datagram)
  }

  /// Recomputes the IPv4 header checksum of `frame` after an edit.
  func fixChecksum(_ frame: inout [UInt8]) {
    frame[24] = 0
    frame[25] = 0
    var sum: UInt32 = 0
    for i in stride(from: 14, to: 34, by: 2) { sum += UInt32(frame[i]) << 8 | UInt32(frame[i + 1]) }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    frame[24] = UInt8(truncatingIfNeeded: ~sum >> 8)
    frame[25] = UInt8(truncatingIfNeeded: ~sum)
  }
}
