/// An IPv4 header (RFC 791) without options, the 20 bytes after the
/// Ethernet header:
///
///     14  version 4, header length 5 words (1)   15  type of service (1)
///     16  total length (2)                       18  identification (2)
///     20  flags (DF 0x4000, MF 0x2000) and fragment offset (2)
///     22  time to live (1)    23  protocol (1)   24  header checksum (2)
///     26  source (4)          30  destination (4)
///
/// The stack receives only whole datagrams without options: a fragment
/// (MF set or a nonzero offset) or a header with options is dropped.
public struct IPv4Header: Hashable, Sendable {
  public var totalLength: UInt16
  public var identification: UInt16
  /// Flags and fragment offset (the whole 16-bit field).
  public var fragment: UInt16
  public var timeToLive: UInt8
  public var protocolNumber: UInt8
  public var source: IPv4Address
  public var destination: IPv4Address

  /// The header's length: no options.
  public static let length = 20
  /// The first byte of a header without options: version 4, 5 words.
  public static let versionAndLength: UInt8 = 0x45
  /// More fragments, and the fragment offset: nonzero in a fragment.
  public static let fragmentMask: UInt16 = 0x3FFF
  /// Don't fragment.
  public static let dontFragment: UInt16 = 0x4000
  /// The time to live of the datagrams the stack sends.
  public static let defaultTimeToLive: UInt8 = 64

  public init(
    totalLength: UInt16, identification: UInt16, fragment: UInt16 = IPv4Header.dontFragment,
    timeToLive: UInt8 = IPv4Header.defaultTimeToLive, protocolNumber: UInt8,
    source: IPv4Address, destination: IPv4Address
  ) {
    (self.totalLength, self.identification, self.fragment) = (totalLength, identification, fragment)
    (self.timeToLive, self.protocolNumber) = (timeToLive, protocolNumber)
    (self.source, self.destination) = (source, destination)
  }

  /// The header of an IPv4 frame (EtherType already checked) and where
  /// its payload lies in the frame, or why the stack drops it, in this
  /// order: too short for a header, version not 4, header length below 5
  /// words, options, bad header checksum, total length shorter than the
  /// header or longer than the frame, a fragment, time to live 0. Bytes
  /// after `total length` (Ethernet padding) are not payload.
  public static func parse(_ frame: [UInt8]) throws(NetworkDrop) -> (
    header: IPv4Header, payload: Range<Int>
  ) {
    let at = EthernetHeader.length
    guard frame.count >= at + length else { throw .truncated }
    guard frame[at] >> 4 == 4 else { throw .ipVersion }
    guard frame[at] & 0xF >= 5 else { throw .ipHeaderLength }
    guard frame[at] & 0xF == 5 else { throw .ipOptions }
    guard NetworkBytes.sum(frame, at..<(at + length)) == 0xFFFF else { throw .ipChecksum }
    let total = NetworkBytes.read16(frame, at + 2)
    guard Int(total) >= length, at + Int(total) <= frame.count else { throw .ipLength }
    let fragment = NetworkBytes.read16(frame, at + 6)
    guard fragment & fragmentMask == 0 else { throw .ipFragment }
    guard frame[at + 8] != 0 else { throw .ipTimeToLive }
    let header = IPv4Header(
      totalLength: total, identification: NetworkBytes.read16(frame, at + 4), fragment: fragment,
      timeToLive: frame[at + 8], protocolNumber: frame[at + 9],
      source: IPv4Address(NetworkBytes.read32(frame, at + 12)),
      destination: IPv4Address(NetworkBytes.read32(frame, at + 16)))
    return (header, (at + length)..<(at + Int(total)))
  }

  /// The header's 20 bytes, its checksum computed.
  public var bytes: [UInt8] {
    var b: [UInt8] = []
    b.reserveCapacity(Self.length)
    b.append(Self.versionAndLength)
    b.append(0)
    NetworkBytes.append16(&b, totalLength)
    NetworkBytes.append16(&b, identification)
    NetworkBytes.append16(&b, fragment)
    b.append(timeToLive)
    b.append(protocolNumber)
    NetworkBytes.append16(&b, 0)
    NetworkBytes.append32(&b, source.value)
    NetworkBytes.append32(&b, destination.value)
    NetworkBytes.write16(&b, 10, ~NetworkBytes.sum(b, 0..<Self.length))
    return b
  }
}

/// The IPv4 protocol numbers the stack handles.
public enum IPv4Protocol {
  public static let icmp: UInt8 = 1
  public static let udp: UInt8 = 17
}
