/// A UDP datagram (RFC 768) after the IPv4 header:
///
///     0  source port (2)    2  destination port (2)
///     4  length of header and data (2)
///     6  checksum over the IPv4 pseudo-header, header and data (2);
///        0: none (allowed over IPv4), a computed 0 is sent as 0xffff
///     8  data
public struct UDPHeader: Hashable, Sendable {
  public var sourcePort: UInt16
  public var destinationPort: UInt16

  public static let length = 8
  /// The most data in one datagram of an unfragmented 1500-byte IPv4
  /// packet.
  public static let maximumPayload =
    EthernetHeader.maximumFrameLength - EthernetHeader.length - IPv4Header.length - length

  public init(sourcePort: UInt16, destinationPort: UInt16) {
    (self.sourcePort, self.destinationPort) = (sourcePort, destinationPort)
  }

  /// The header of the datagram in `frame[segment]` (the IPv4 payload) and
  /// where its data lies, or why the stack drops it: the UDP length is
  /// below 8 or beyond the IPv4 payload, or the checksum (when not 0) is
  /// wrong. IPv4 payload bytes beyond the UDP length are ignored.
  public static func parse(
    _ frame: [UInt8], _ segment: Range<Int>, ip: IPv4Header, checksum: Bool = true
  ) throws(NetworkDrop) -> (header: UDPHeader, data: Range<Int>) {
    guard segment.count >= length else { throw .udpLength }
    let at = segment.lowerBound
    let udpLength = Int(NetworkBytes.read16(frame, at + 4))
    guard udpLength >= length, udpLength <= segment.count else { throw .udpLength }
    if checksum, NetworkBytes.read16(frame, at + 6) != 0 {
      let pseudo = NetworkBytes.pseudoHeaderSum(
        source: ip.source, destination: ip.destination, length: udpLength)
      guard NetworkBytes.sum(frame, at..<(at + udpLength), pseudo) == 0xFFFF else {
        throw .udpChecksum
      }
    }
    let header = UDPHeader(
      sourcePort: NetworkBytes.read16(frame, at),
      destinationPort: NetworkBytes.read16(frame, at + 2))
    return (header, (at + length)..<(at + udpLength))
  }

  /// The datagram of this header and `data` between `source` and
  /// `destination`, its checksum computed.
  public func datagram(_ data: [UInt8], source: IPv4Address, destination: IPv4Address)
    -> [UInt8]
  {
    let total = Self.length + data.count
    var d: [UInt8] = []
    d.reserveCapacity(total)
    NetworkBytes.append16(&d, sourcePort)
    NetworkBytes.append16(&d, destinationPort)
    NetworkBytes.append16(&d, UInt16(truncatingIfNeeded: total))
    NetworkBytes.append16(&d, 0)
    d += data
    let pseudo = NetworkBytes.pseudoHeaderSum(
      source: source, destination: destination, length: total)
    let checksum = ~NetworkBytes.sum(d, 0..<total, pseudo)
    NetworkBytes.write16(&d, 6, checksum == 0 ? 0xFFFF : checksum)
    return d
  }
}
