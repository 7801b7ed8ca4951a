/// Addresses and byte-level helpers of the libOS network stack
/// (docs/network.md, "The libOS network stack"). Pure Swift, no Foundation:
/// the same code runs in user images and in host tests.

/// A 48-bit Ethernet (MAC) address in the low 48 bits of ``value``; the
/// first byte on the wire is the most significant.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
  public let value: UInt64

  public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

  /// The address of six bytes in wire order (ExoABI's `PeerNetwork` form).
  public init(bytes b: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
    self.init(
      UInt64(b.0) << 40 | UInt64(b.1) << 32 | UInt64(b.2) << 24 | UInt64(b.3) << 16
        | UInt64(b.4) << 8 | UInt64(b.5))
  }

  /// ff:ff:ff:ff:ff:ff.
  public static let broadcast = MACAddress(0xFFFF_FFFF_FFFF)
  /// 00:00:00:00:00:00, the unknown target of an ARP request.
  public static let zero = MACAddress(0)

  /// A group (broadcast or multicast) address: the I/G bit, bit 0 of the
  /// first byte. Never the source of a frame.
  public var isGroup: Bool { (value >> 40) & 1 != 0 }

  /// Byte `i` (0 to 5) in wire order.
  public func byte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> (8 * (5 - i))) }

  /// `52:54:00:12:34:56`.
  public var description: String {
    var text = ""
    for i in 0..<6 {
      let b = byte(i)
      if i > 0 { text += ":" }
      text += (b < 16 ? "0" : "") + String(b, radix: 16)
    }
    return text
  }
}

/// An IPv4 address; the first byte on the wire is the most significant of
/// ``value``.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
  public let value: UInt32

  public init(_ value: UInt32) { self.value = value }

  /// `a.b.c.d`.
  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
  }

  /// 255.255.255.255.
  public static let broadcast = IPv4Address(0xFFFF_FFFF)

  /// An address a host may have, send from and reply to: not in 0.0.0.0/8
  /// ("this network"), 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast) or
  /// 240.0.0.0/4 (reserved and the limited broadcast).
  public var isUnicast: Bool {
    let first = value >> 24
    return first != 0 && first != 127 && first < 224
  }

  /// `10.0.2.15`.
  public var description: String {
    "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
  }
}

/// Big-endian reads and writes of frame bytes, and the Internet checksum.
/// Readers take positions the caller has checked lie within the bytes.
enum NetworkBytes {
  static func read16(_ b: [UInt8], _ at: Int) -> UInt16 {
    UInt16(b[at]) << 8 | UInt16(b[at + 1])
  }

  static func read32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(read16(b, at)) << 16 | UInt32(read16(b, at + 2))
  }

  static func read48(_ b: [UInt8], _ at: Int) -> UInt64 {
    UInt64(read16(b, at)) << 32 | UInt64(read32(b, at + 2))
  }

  static func append16(_ b: inout [UInt8], _ v: UInt16) {
    b.append(UInt8(truncatingIfNeeded: v >> 8))
    b.append(UInt8(truncatingIfNeeded: v))
  }

  static func append32(_ b: inout [UInt8], _ v: UInt32) {
    append16(&b, UInt16(truncatingIfNeeded: v >> 16))
    append16(&b, UInt16(truncatingIfNeeded: v))
  }

  static func append48(_ b: inout [UInt8], _ v: UInt64) {
    append16(&b, UInt16(truncatingIfNeeded: v >> 32))
    append32(&b, UInt32(truncatingIfNeeded: v))
  }

  static func write16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
    b[at] = UInt8(truncatingIfNeeded: v >> 8)
    b[at + 1] = UInt8(truncatingIfNeeded: v)
  }

  /// The ones'-complement sum (RFC 1071), not yet complemented, of the
  /// 16-bit big-endian words of `b[range]` (an odd last byte padded with
  /// zero) added to `sum`, folded to 16 bits.
  static func sum(_ b: [UInt8], _ range: Range<Int>, _ sum: UInt32 = 0) -> UInt16 {
    var total = UInt64(sum)
    var i = range.lowerBound
    while i + 1 < range.upperBound {
      total += UInt64(read16(b, i))
      i += 2
    }
    if i < range.upperBound { total += UInt64(b[i]) << 8 }
    while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
    return UInt16(total)
  }

  /// The sum of the IPv4 pseudo-header of a UDP datagram of `length` bytes.
  static func pseudoHeaderSum(source: IPv4Address, destination: IPv4Address, length: Int)
    -> UInt32
  {
    (source.value >> 16) + (source.value & 0xFFFF) + (destination.value >> 16)
      + (destination.value & 0xFFFF) + UInt32(IPv4Protocol.udp) + UInt32(length)
  }
}
