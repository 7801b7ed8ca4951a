/// The libOS network stack (docs/network.md, "The libOS network stack"):
/// Ethernet, ARP, IPv4, ICMP echo and UDP sockets for one interface with
/// one MAC and one IPv4 address, all hosts on the link (no routing).
///
/// It does no I/O: ``receive(_:now:)`` takes a frame, however it arrived
/// (the kernel's receive buffer, a test, a scripted peer), and returns the
/// frames to transmit in answer (ARP replies, echo replies, datagrams
/// waiting for the ARP reply that came). ``send(_:from:to:port:now:)``
/// returns the frames of one datagram (or of the ARP request it waits
/// on), and ``poll(now:)`` those of ARP retries. Time is the kernel's
/// tick count, passed in. Every frame is either handled or dropped with
/// its reason counted (``dropped(_:)``); no input traps.
public struct NetworkStack: Sendable {
  public let mac: MACAddress
  public let ip: IPv4Address
  public private(set) var arp: ARPCache
  /// The bound UDP sockets, in binding order.
  public private(set) var sockets: [UDPSocket] = []
  /// Datagrams waiting for their destination's MAC address.
  public private(set) var pending: [PendingDatagram] = []
  public private(set) var statistics = NetworkStatistics()
  var drops = [UInt64](repeating: 0, count: NetworkDrop.allCases.count)
  var identification: UInt16 = 1
  /// A deliberate bug, nil except in the tests that show the property
  /// tests catch it.
  public var plantedBug: NetworkPlantedBug? = nil

  public static let maximumSockets = 16
  /// Datagrams a socket holds before it drops new ones.
  public static let queueCapacity = 32
  /// Datagrams waiting for ARP, over all destinations.
  public static let maximumPending = 8
  /// Ticks between ARP requests for a destination, and how many are sent
  /// before its waiting datagrams are dropped.
  public static let arpRetryTicks: UInt64 = 10
  public static let arpAttempts = 3

  /// A stack at `mac` and `ip` (a unicast address, `mac` not a group
  /// address), whose ARP entries live `arpLifetime` ticks.
  public init(mac: MACAddress, ip: IPv4Address, arpLifetime: UInt64 = 1000)
    throws(NetworkError)
  {
    guard !mac.isGroup, mac != .zero else { throw .invalidAddress }
    guard ip.isUnicast else { throw .invalidAddress }
    (self.mac, self.ip) = (mac, ip)
    arp = ARPCache(lifetime: arpLifetime)
  }

  /// How many frames were dropped for `reason`.
  public func dropped(_ reason: NetworkDrop) -> UInt64 { drops[reason.rawValue] }

  /// All frames dropped.
  public var droppedTotal: UInt64 { drops.reduce(0, +) }

  // MARK: Sockets

  /// Binds a UDP socket to `port` (not 0, not bound yet).
  public mutating func bind(port: UInt16) throws(NetworkError) {
    guard port != 0 else { throw .invalidPort }
    guard !sockets.contains(where: { $0.port == port }) else { throw .portInUse }
    guard sockets.count < Self.maximumSockets else { throw .tooManySockets }
    sockets.append(UDPSocket(port: port))
  }

  /// Unbinds `port`; its queued datagrams are discarded.
  public mutating func unbind(port: UInt16) throws(NetworkError) {
    guard let i = sockets.firstIndex(where: { $0.port == port }) else { throw .notBound }
    sockets.remove(at: i)
  }

  /// The oldest datagram received on `port`, if any.
  public mutating func dequeue(port: UInt16) throws(NetworkError) -> UDPDatagram? {
    guard let i = sockets.firstIndex(where: { $0.port == port }) else { throw .notBound }
    guard !sockets[i].queue.isEmpty else { return nil }
    return sockets[i].queue.removeFirst()
  }

  /// The frames that send `data` from the socket on `port` to
  /// `destination`'s `destinationPort`: the datagram, or an ARP request
  /// when the destination's MAC address is not known (the datagram then
  /// waits for the reply; none when a request for it is already out).
  public mutating func send(
    _ data: [UInt8], from port: UInt16, to destination: IPv4Address, port destinationPort: UInt16,
    now: UInt64
  ) throws(NetworkError) -> [[UInt8]] {
    guard sockets.contains(where: { $0.port == port }) else { throw .notBound }
    guard destinationPort != 0 else { throw .invalidPort }
    guard destination.isUnicast, destination != ip else { throw .invalidDestination }
    guard data.count <= UDPHeader.maximumPayload else { throw .payloadTooLong }
    let known = arp.lookup(destination, now: now)
    let waiting = pending.contains { $0.destination == destination }
    guard known != nil || pending.count < Self.maximumPending else { throw .pendingFull }
    let udp = UDPHeader(sourcePort: port, destinationPort: destinationPort)
      .datagram(data, source: ip, destination: destination)
    let packet = ipPacket(udp, protocolNumber: IPv4Protocol.udp, to: destination)
    if let known {
      statistics.datagramsSent += 1
      return [EthernetHeader(destination: known, source: mac, type: EtherType.ipv4).frame(packet)]
    }
    if let first = pending.first(where: { $0.destination == destination }) {
      pending.append(first.with(packet: packet))
    } else {
      pending.append(PendingDatagram(destination: destination, packet: packet, asked: now))
    }
    return waiting ? [] : [arpRequest(for: destination)]
  }

  // MARK: Time

  /// The frames due at tick `now`: ARP requests repeated for datagrams
  /// still waiting ``arpRetryTicks`` after the last one. After
  /// ``arpAttempts`` requests the destination's datagrams are dropped
  /// (``NetworkDrop/arpUnresolved``). Expired ARP entries are forgotten.
  public mutating func poll(now: UInt64) -> [[UInt8]] {
    arp.expire(now: now)
    var out: [[UInt8]] = []
    var given: [IPv4Address] = []
    var seen: [IPv4Address] = []
    for p in pending where !seen.contains(p.destination) {
      seen.append(p.destination)
      guard now >= p.asked, now - p.asked >= Self.arpRetryTicks else { continue }
      if p.attempts >= Self.arpAttempts {
        given.append(p.destination)
        continue
      }
      for i in pending.indices where pending[i].destination == p.destination {
        pending[i].asked = now
        pending[i].attempts += 1
      }
      out.append(arpRequest(for: p.destination))
    }
    for p in pending where given.contains(p.destination) { count(.arpUnresolved) }
    pending.removeAll { given.contains($0.destination) }
    return out
  }

  // MARK: Receiving

  /// Handles one received `frame` at tick `now` and returns the frames to
  /// transmit in answer. A frame the stack does not handle is counted in
  /// ``dropped(_:)`` and changes nothing else.
  public mutating func receive(_ frame: [UInt8], now: UInt64) -> [[UInt8]] {
    statistics.framesReceived += 1
    guard frame.count <= EthernetHeader.maximumFrameLength else { return drop(.oversized) }
    guard let ethernet = EthernetHeader(parsing: frame) else { return drop(.truncated) }
    guard ethernet.destination == mac || ethernet.destination == .broadcast else {
      return drop(.notForUs)
    }
    guard !ethernet.source.isGroup else { return drop(.sourceAddress) }
    switch ethernet.type {
    case EtherType.arp: return receiveARP(frame, now: now)
    case EtherType.ipv4: return receiveIPv4(frame, ethernet, now: now)
    default: return drop(.etherType)
    }
  }

  /// ARP: a request or reply whose target is our address teaches the
  /// sender's address (RFC 826); a request is answered. The sender must
  /// be a unicast MAC and IPv4 address other than ours.
  mutating func receiveARP(_ frame: [UInt8], now: UInt64) -> [[UInt8]] {
    guard let packet = ARPPacket(parsing: frame) else { return drop(.arpMalformed) }
    guard packet.targetIP == ip else { return drop(.arpNotForUs) }
    guard !packet.senderMAC.isGroup, packet.senderMAC != .zero, packet.senderIP.isUnicast,
      packet.senderIP != ip
    else { return drop(.arpSender) }
    arp.insert(packet.senderIP, packet.senderMAC, now: now)
    var out: [[UInt8]] = []
    if packet.operation == ARPPacket.request {
      let reply = ARPPacket(
        operation: ARPPacket.reply, senderMAC: mac, senderIP: ip, targetMAC: packet.senderMAC,
        targetIP: packet.senderIP)
      out.append(
        EthernetHeader(destination: packet.senderMAC, source: mac, type: EtherType.arp)
          .frame(reply.bytes))
      statistics.arpReplies += 1
    }
    for p in pending where p.destination == packet.senderIP {
      out.append(
        EthernetHeader(destination: packet.senderMAC, source: mac, type: EtherType.ipv4)
          .frame(p.packet))
      statistics.datagramsSent += 1
    }
    if plantedBug != .pendingKept { pending.removeAll { $0.destination == packet.senderIP } }
    return out
  }

  /// IPv4 to our address from a unicast source: ICMP echo requests are
  /// answered, UDP datagrams queued on their port's socket.
  mutating func receiveIPv4(_ frame: [UInt8], _ ethernet: EthernetHeader, now: UInt64)
    -> [[UInt8]]
  {
    let parsed: (header: IPv4Header, payload: Range<Int>)
    do throws(NetworkDrop) { parsed = try IPv4Header.parse(frame) } catch { return drop(error) }
    let header = parsed.header
    guard header.destination == ip else { return drop(.ipNotForUs) }
    guard header.source.isUnicast, header.source != ip else { return drop(.sourceAddress) }
    switch header.protocolNumber {
    case IPv4Protocol.icmp:
      do throws(NetworkDrop) {
        try ICMPEcho.checkRequest(frame, parsed.payload)
      } catch { return drop(error) }
      let message =
        plantedBug == .payloadIncludesPadding
        ? parsed.payload.lowerBound..<frame.count : parsed.payload
      var echo = ICMPEcho.reply(frame, message)
      if plantedBug == .echoChecksumKept {
        (echo[2], echo[3]) = (frame[message.lowerBound + 2], frame[message.lowerBound + 3])
      }
      let reply = ipPacket(echo, protocolNumber: IPv4Protocol.icmp, to: header.source)
      statistics.echoReplies += 1
      return [
        EthernetHeader(destination: ethernet.source, source: mac, type: EtherType.ipv4)
          .frame(reply)
      ]
    case IPv4Protocol.udp:
      let udp: (header: UDPHeader, data: Range<Int>)
      do throws(NetworkDrop) {
        udp = try UDPHeader.parse(
          frame, parsed.payload, ip: header, checksum: plantedBug != .udpChecksumIgnored)
      } catch { return drop(error) }
      let port = udp.header.destinationPort
      let s = sockets.firstIndex { socket in
        plantedBug == .udpPortLowByte ? socket.port & 0xFF == port & 0xFF : socket.port == port
      }
      guard let s else { return drop(.udpNoSocket) }
      guard sockets[s].queue.count < Self.queueCapacity else { return drop(.udpQueueFull) }
      sockets[s].queue.append(
        UDPDatagram(
          source: header.source, sourcePort: udp.header.sourcePort,
          destinationPort: udp.header.destinationPort, data: Array(frame[udp.data])))
      statistics.datagramsDelivered += 1
      return []
    default:
      return drop(.ipProtocol)
    }
  }

  // MARK: Building

  /// An IPv4 packet from our address to `destination` carrying `payload`.
  mutating func ipPacket(_ payload: [UInt8], protocolNumber: UInt8, to destination: IPv4Address)
    -> [UInt8]
  {
    let header = IPv4Header(
      totalLength: UInt16(truncatingIfNeeded: IPv4Header.length + payload.count),
      identification: identification, protocolNumber: protocolNumber, source: ip,
      destination: destination)
    identification &+= 1
    return header.bytes + payload
  }

  /// A broadcast ARP request for `target`'s MAC address.
  func arpRequest(for target: IPv4Address) -> [UInt8] {
    let request = ARPPacket(
      operation: ARPPacket.request, senderMAC: mac, senderIP: ip, targetMAC: .zero,
      targetIP: target)
    return EthernetHeader(destination: .broadcast, source: mac, type: EtherType.arp)
      .frame(request.bytes)
  }

  mutating func count(_ reason: NetworkDrop) { drops[reason.rawValue] += 1 }

  mutating func drop(_ reason: NetworkDrop) -> [[UInt8]] {
    count(reason)
    return []
  }
}

/// Deliberate bugs of the stack, for the tests that show its property
/// tests catch them.
public enum NetworkPlantedBug: CaseIterable, Sendable {
  /// UDP checksums are not verified.
  case udpChecksumIgnored
  /// A datagram goes to the first socket whose port has the same low byte.
  case udpPortLowByte
  /// An echo reply keeps the request's ICMP checksum.
  case echoChecksumKept
  /// An echo reply carries the frame's bytes after the IPv4 total length
  /// (the Ethernet padding) as data.
  case payloadIncludesPadding
  /// Datagrams that waited for ARP stay waiting after they are sent.
  case pendingKept
}

/// A UDP socket: a bound port and the datagrams received on it.
public struct UDPSocket: Hashable, Sendable {
  public let port: UInt16
  public internal(set) var queue: [UDPDatagram] = []
}

/// A datagram received on a socket.
public struct UDPDatagram: Hashable, Sendable {
  public var source: IPv4Address
  public var sourcePort: UInt16
  public var destinationPort: UInt16
  public var data: [UInt8]

  public init(source: IPv4Address, sourcePort: UInt16, destinationPort: UInt16, data: [UInt8]) {
    (self.source, self.sourcePort, self.destinationPort) = (source, sourcePort, destinationPort)
    self.data = data
  }
}

/// A datagram (its whole IPv4 packet) waiting for its destination's MAC
/// address; `asked` is the tick of the last ARP request, `attempts` how
/// many were sent.
public struct PendingDatagram: Hashable, Sendable {
  public let destination: IPv4Address
  public let packet: [UInt8]
  public internal(set) var asked: UInt64
  public internal(set) var attempts = 1

  init(destination: IPv4Address, packet: [UInt8], asked: UInt64) {
    (self.destination, self.packet, self.asked) = (destination, packet, asked)
  }

  /// Another datagram to the same destination, sharing its requests.
  func with(packet: [UInt8]) -> PendingDatagram {
    var p = PendingDatagram(destination: destination, packet: packet, asked: asked)
    p.attempts = attempts
    return p
  }
}

/// What the stack did, counted.
public struct NetworkStatistics: Hashable, Sendable {
  public internal(set) var framesReceived: UInt64 = 0
  public internal(set) var arpReplies: UInt64 = 0
  public internal(set) var echoReplies: UInt64 = 0
  public internal(set) var datagramsDelivered: UInt64 = 0
  public internal(set) var datagramsSent: UInt64 = 0
}

/// Why the stack dropped a received frame (or a waiting datagram).
public enum NetworkDrop: Int, Error, CaseIterable, Hashable, Sendable, CustomStringConvertible {
  /// Longer than 1514 bytes.
  case oversized
  /// Shorter than the headers it claims to carry.
  case truncated
  /// Ethernet destination neither our MAC nor broadcast.
  case notForUs
  /// Source MAC a group address, or source IPv4 not unicast or ours.
  case sourceAddress
  /// Neither IPv4 nor ARP.
  case etherType
  /// Not an IPv4-over-Ethernet ARP request or reply.
  case arpMalformed
  /// ARP whose target is not our address.
  case arpNotForUs
  /// ARP from a group or zero MAC, a non-unicast IPv4 address, or ours.
  case arpSender
  /// IPv4 version not 4.
  case ipVersion
  /// IPv4 header length below 5 words.
  case ipHeaderLength
  /// IPv4 options (not handled).
  case ipOptions
  /// Bad IPv4 header checksum.
  case ipChecksum
  /// IPv4 total length shorter than the header or longer than the frame.
  case ipLength
  /// An IPv4 fragment (not reassembled).
  case ipFragment
  /// IPv4 time to live 0.
  case ipTimeToLive
  /// IPv4 destination not our address.
  case ipNotForUs
  /// IPv4 protocol neither ICMP nor UDP.
  case ipProtocol
  /// ICMP message shorter than an echo header.
  case icmpLength
  /// Bad ICMP checksum.
  case icmpChecksum
  /// ICMP other than an echo request.
  case icmpNotEchoRequest
  /// UDP length below 8 or beyond the IPv4 payload.
  case udpLength
  /// Bad UDP checksum.
  case udpChecksum
  /// No socket on the destination port.
  case udpNoSocket
  /// The destination socket's queue is full.
  case udpQueueFull
  /// A waiting datagram whose destination never answered ARP.
  case arpUnresolved

  public var description: String {
    switch self {
    case .oversized: "oversized"
    case .truncated: "truncated"
    case .notForUs: "notForUs"
    case .sourceAddress: "sourceAddress"
    case .etherType: "etherType"
    case .arpMalformed: "arpMalformed"
    case .arpNotForUs: "arpNotForUs"
    case .arpSender: "arpSender"
    case .ipVersion: "ipVersion"
    case .ipHeaderLength: "ipHeaderLength"
    case .ipOptions: "ipOptions"
    case .ipChecksum: "ipChecksum"
    case .ipLength: "ipLength"
    case .ipFragment: "ipFragment"
    case .ipTimeToLive: "ipTimeToLive"
    case .ipNotForUs: "ipNotForUs"
    case .ipProtocol: "ipProtocol"
    case .icmpLength: "icmpLength"
    case .icmpChecksum: "icmpChecksum"
    case .icmpNotEchoRequest: "icmpNotEchoRequest"
    case .udpLength: "udpLength"
    case .udpChecksum: "udpChecksum"
    case .udpNoSocket: "udpNoSocket"
    case .udpQueueFull: "udpQueueFull"
    case .arpUnresolved: "arpUnresolved"
    }
  }
}

/// Why the stack refused a request of its user; nothing changed.
public enum NetworkError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The stack's MAC is a group or zero address, or its IPv4 address is
  /// not unicast.
  case invalidAddress
  /// Port 0 (no socket binds it; no datagram goes to it).
  case invalidPort
  /// The port is already bound.
  case portInUse
  /// ``NetworkStack/maximumSockets`` sockets are bound.
  case tooManySockets
  /// No socket is bound to the port.
  case notBound
  /// The destination is not a unicast address other than ours.
  case invalidDestination
  /// More data than one unfragmented datagram carries.
  case payloadTooLong
  /// ``NetworkStack/maximumPending`` datagrams already wait for ARP.
  case pendingFull

  public var description: String {
    switch self {
    case .invalidAddress: "invalidAddress"
    case .invalidPort: "invalidPort"
    case .portInUse: "portInUse"
    case .tooManySockets: "tooManySockets"
    case .notBound: "notBound"
    case .invalidDestination: "invalidDestination"
    case .payloadTooLong: "payloadTooLong"
    case .pendingFull: "pendingFull"
    }
  }
}
