import ExoABI

/// The packet filters (ExoABI's ``PacketFilter``) that claim exactly the
/// frames the stack handles for an address: a libOS loads one per bound
/// UDP port, plus one for ICMP and one for ARP. Filters of different ports
/// or protocols, or of different addresses, never overlap (the kernel's
/// `filtersOverlap` agrees: LibOSTests `NetworkFilterTests`), so several
/// environments can each own some ports of one address.
///
/// Every frame the stack accepts for a socket, for ICMP or for ARP matches
/// that socket's, ICMP's or ARP's filter; frames the filters match and the
/// stack refuses (bad checksums, wrong Ethernet destination) are dropped
/// and counted by the stack.
extension NetworkStack {
  /// IPv4 (12:2 = 0x0800), version 4 without options (14:1 = 0x45), not a
  /// fragment (20:2 & 0x3fff = 0), protocol `protocolNumber` (23:1), to
  /// `ip` (30:4).
  static func ipv4Tests(_ ip: IPv4Address, protocolNumber: UInt8) -> [PacketTest] {
    [
      PacketTest(offset: 12, width: 2, equals: UInt32(EtherType.ipv4)),
      PacketTest(offset: 14, width: 1, equals: UInt32(IPv4Header.versionAndLength)),
      PacketTest(offset: 20, width: 2, mask: UInt32(IPv4Header.fragmentMask), value: 0),
      PacketTest(offset: 23, width: 1, equals: UInt32(protocolNumber)),
      PacketTest(offset: 30, width: 4, equals: ip.value),
    ]
  }

  /// The tests of the filter of UDP datagrams to `ip`, `port`: those of
  /// IPv4 above, and the destination port (36:2).
  public static func udpFilterTests(ip: IPv4Address, port: UInt16) -> [PacketTest] {
    ipv4Tests(ip, protocolNumber: IPv4Protocol.udp) + [
      PacketTest(offset: 36, width: 2, equals: UInt32(port))
    ]
  }

  /// The tests of the filter of ICMP to `ip`.
  public static func icmpFilterTests(ip: IPv4Address) -> [PacketTest] {
    ipv4Tests(ip, protocolNumber: IPv4Protocol.icmp)
  }

  /// The tests of the filter of ARP for `ip`: EtherType 0x0806 (12:2),
  /// Ethernet hardware (14:2 = 1), IPv4 protocol (16:2 = 0x0800), address
  /// lengths 6 and 4 (18:2 = 0x0604), target `ip` (38:4).
  public static func arpFilterTests(ip: IPv4Address) -> [PacketTest] {
    [
      PacketTest(offset: 12, width: 2, equals: UInt32(EtherType.arp)),
      PacketTest(offset: 14, width: 2, equals: 1),
      PacketTest(offset: 16, width: 2, equals: UInt32(EtherType.ipv4)),
      PacketTest(offset: 18, width: 2, equals: 0x0604),
      PacketTest(offset: 38, width: 4, equals: ip.value),
    ]
  }

  /// The filter of UDP datagrams to `ip`, `port`.
  public static func udpFilter(ip: IPv4Address, port: UInt16) throws(PacketFilterError)
    -> PacketFilter
  {
    try PacketFilter(udpFilterTests(ip: ip, port: port))
  }

  /// The filter of ICMP to `ip`.
  public static func icmpFilter(ip: IPv4Address) throws(PacketFilterError) -> PacketFilter {
    try PacketFilter(icmpFilterTests(ip: ip))
  }

  /// The filter of ARP for `ip`.
  public static func arpFilter(ip: IPv4Address) throws(PacketFilterError) -> PacketFilter {
    try PacketFilter(arpFilterTests(ip: ip))
  }

  /// The filters this stack needs loaded: ARP, ICMP, then one per bound
  /// socket in binding order.
  public func filters() throws(PacketFilterError) -> [PacketFilter] {
    var all = [try Self.arpFilter(ip: ip), try Self.icmpFilter(ip: ip)]
    for s in sockets { all.append(try Self.udpFilter(ip: ip, port: s.port)) }
    return all
  }
}
