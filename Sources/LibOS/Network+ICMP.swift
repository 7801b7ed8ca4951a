/// ICMP echo (RFC 792), the one ICMP message the stack answers:
///
///     0  type: 8 request, 0 reply (1)    1  code 0 (1)
///     2  checksum of the whole message (2)
///     4  identifier (2)    6  sequence number (2)    8  data
///
/// The reply carries the request's identifier, sequence number and data.
public enum ICMPEcho {
  public static let requestType: UInt8 = 8
  public static let replyType: UInt8 = 0
  /// The header before the data.
  public static let headerLength = 8

  /// The echo request in `frame[message]` (an ICMP message), or why the
  /// stack drops it: shorter than an echo header, a bad checksum, or not
  /// an echo request (type 8, code 0).
  public static func checkRequest(_ frame: [UInt8], _ message: Range<Int>) throws(NetworkDrop) {
    guard message.count >= headerLength else { throw .icmpLength }
    guard NetworkBytes.sum(frame, message) == 0xFFFF else { throw .icmpChecksum }
    guard frame[message.lowerBound] == requestType, frame[message.lowerBound + 1] == 0 else {
      throw .icmpNotEchoRequest
    }
  }

  /// An echo message of `type` (``requestType`` or ``replyType``), its
  /// checksum computed.
  public static func message(type: UInt8, identifier: UInt16, sequence: UInt16, data: [UInt8])
    -> [UInt8]
  {
    var m: [UInt8] = [type, 0, 0, 0]
    m.reserveCapacity(headerLength + data.count)
    NetworkBytes.append16(&m, identifier)
    NetworkBytes.append16(&m, sequence)
    m += data
    NetworkBytes.write16(&m, 2, ~NetworkBytes.sum(m, 0..<m.count))
    return m
  }

  /// The reply to the echo request `frame[message]`: the same message with
  /// type 0 and its checksum recomputed.
  public static func reply(_ frame: [UInt8], _ message: Range<Int>) -> [UInt8] {
    var m = Array(frame[message])
    m[0] = replyType
    m[1] = 0
    NetworkBytes.write16(&m, 2, 0)
    NetworkBytes.write16(&m, 2, ~NetworkBytes.sum(m, 0..<m.count))
    return m
  }
}
