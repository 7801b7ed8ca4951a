/// An Ethernet II header: 14 bytes at the start of every frame (frames
/// carry no check sequence: the NIC strips and adds it).
///
///     0   destination MAC (6)
///     6   source MAC (6)
///     12  EtherType (2)
///     14  payload (46 to 1500; shorter frames are padded to 60 bytes)
public struct EthernetHeader: Hashable, Sendable {
  public var destination: MACAddress
  public var source: MACAddress
  public var type: UInt16

  public static let length = 14
  /// The shortest frame on the wire; shorter ones are padded with zeros.
  public static let minimumFrameLength = 60
  /// The longest frame (``PacketFilter/maximumFrameLength``, 1514 bytes).
  public static let maximumFrameLength = 1514

  public init(destination: MACAddress, source: MACAddress, type: UInt16) {
    (self.destination, self.source, self.type) = (destination, source, type)
  }

  /// The header of `frame`, nil when it is shorter than a header.
  public init?(parsing frame: [UInt8]) {
    guard frame.count >= Self.length else { return nil }
    destination = MACAddress(NetworkBytes.read48(frame, 0))
    source = MACAddress(NetworkBytes.read48(frame, 6))
    type = NetworkBytes.read16(frame, 12)
  }

  /// The header's 14 bytes.
  public var bytes: [UInt8] {
    var b: [UInt8] = []
    b.reserveCapacity(Self.length)
    NetworkBytes.append48(&b, destination.value)
    NetworkBytes.append48(&b, source.value)
    NetworkBytes.append16(&b, type)
    return b
  }

  /// A frame of this header and `payload`, padded with zeros to
  /// ``minimumFrameLength``.
  public func frame(_ payload: [UInt8]) -> [UInt8] {
    var f = bytes
    f.reserveCapacity(max(Self.minimumFrameLength, Self.length + payload.count))
    f += payload
    while f.count < Self.minimumFrameLength { f.append(0) }
    return f
  }
}

/// The EtherTypes the stack handles.
public enum EtherType {
  public static let ipv4: UInt16 = 0x0800
  public static let arp: UInt16 = 0x0806
}
