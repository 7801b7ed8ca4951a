/// An ARP packet for IPv4 over Ethernet (RFC 826), the 28 bytes after the
/// Ethernet header:
///
///     14  hardware type 1 (2)        16  protocol type 0x0800 (2)
///     18  hardware length 6 (1)      19  protocol length 4 (1)
///     20  operation: 1 request, 2 reply (2)
///     22  sender MAC (6)             28  sender IPv4 (4)
///     32  target MAC (6)             38  target IPv4 (4)
public struct ARPPacket: Hashable, Sendable {
  public var operation: UInt16
  public var senderMAC: MACAddress
  public var senderIP: IPv4Address
  public var targetMAC: MACAddress
  public var targetIP: IPv4Address

  public static let request: UInt16 = 1
  public static let reply: UInt16 = 2
  /// The packet's length; the frame is padded beyond it.
  public static let length = 28

  public init(
    operation: UInt16, senderMAC: MACAddress, senderIP: IPv4Address, targetMAC: MACAddress,
    targetIP: IPv4Address
  ) {
    self.operation = operation
    (self.senderMAC, self.senderIP) = (senderMAC, senderIP)
    (self.targetMAC, self.targetIP) = (targetMAC, targetIP)
  }

  /// The ARP packet of an ARP frame (EtherType already checked), nil
  /// unless it is a well-formed IPv4-over-Ethernet request or reply.
  public init?(parsing frame: [UInt8]) {
    let at = EthernetHeader.length
    guard frame.count >= at + Self.length, NetworkBytes.read16(frame, at) == 1,
      NetworkBytes.read16(frame, at + 2) == EtherType.ipv4, frame[at + 4] == 6,
      frame[at + 5] == 4
    else { return nil }
    operation = NetworkBytes.read16(frame, at + 6)
    guard operation == Self.request || operation == Self.reply else { return nil }
    senderMAC = MACAddress(NetworkBytes.read48(frame, at + 8))
    senderIP = IPv4Address(NetworkBytes.read32(frame, at + 14))
    targetMAC = MACAddress(NetworkBytes.read48(frame, at + 18))
    targetIP = IPv4Address(NetworkBytes.read32(frame, at + 24))
  }

  /// The packet's 28 bytes.
  public var bytes: [UInt8] {
    var b: [UInt8] = []
    b.reserveCapacity(Self.length)
    NetworkBytes.append16(&b, 1)
    NetworkBytes.append16(&b, EtherType.ipv4)
    b.append(6)
    b.append(4)
    NetworkBytes.append16(&b, operation)
    NetworkBytes.append48(&b, senderMAC.value)
    NetworkBytes.append32(&b, senderIP.value)
    NetworkBytes.append48(&b, targetMAC.value)
    NetworkBytes.append32(&b, targetIP.value)
    return b
  }
}

/// The stack's ARP cache: at most ``capacity`` IPv4-to-MAC entries, each
/// valid for ``lifetime`` ticks after it was learned or refreshed.
public struct ARPCache: Sendable {
  public struct Entry: Hashable, Sendable {
    public var ip: IPv4Address
    public var mac: MACAddress
    /// The tick at which the entry stops being valid.
    public var expires: UInt64
  }

  public static let capacity = 16
  /// Ticks an entry stays valid.
  public let lifetime: UInt64
  public private(set) var entries: [Entry] = []

  public init(lifetime: UInt64) { self.lifetime = lifetime }

  /// The MAC address of `ip` at tick `now`, if known and not expired.
  public func lookup(_ ip: IPv4Address, now: UInt64) -> MACAddress? {
    for e in entries where e.ip == ip && now < e.expires { return e.mac }
    return nil
  }

  /// Whether `ip` has an entry (expired or not).
  public func contains(_ ip: IPv4Address) -> Bool { entries.contains { $0.ip == ip } }

  /// Learns (or refreshes) `ip` at `mac` at tick `now`. When the cache is
  /// full, the entry that expires first makes room.
  public mutating func insert(_ ip: IPv4Address, _ mac: MACAddress, now: UInt64) {
    let expires = now &+ lifetime < now ? UInt64.max : now &+ lifetime
    if let i = entries.firstIndex(where: { $0.ip == ip }) {
      entries[i].mac = mac
      entries[i].expires = expires
      return
    }
    if entries.count >= Self.capacity {
      var oldest = 0
      for i in entries.indices where entries[i].expires < entries[oldest].expires { oldest = i }
      entries.remove(at: oldest)
    }
    entries.append(Entry(ip: ip, mac: mac, expires: expires))
  }

  /// Forgets the entries expired at tick `now`.
  public mutating func expire(now: UInt64) { entries.removeAll { now >= $0.expires } }
}
