import LibOS

/// An independent reading of frames for the network stack's tests: what
/// RFC 791/792/768/826 say a host at (`mac`, `ip`) with sockets on `ports`
/// does with a frame, written directly over the bytes without the stack's
/// code, and an Internet checksum computed differently from the stack's
/// (byte by byte, folded once at the end).
struct NetworkOracle {
  let mac: UInt64
  let ip: UInt32
  let ports: [UInt16]

  /// What the stack must do with a frame.
  enum Verdict: Equatable {
    /// Nothing but count a drop.
    case drop
    /// Answer an ARP request from (`mac`, `ip`) and learn it.
    case arpReply(mac: UInt64, ip: UInt32)
    /// Learn the sender of an ARP reply, answer nothing.
    case arpLearn(mac: UInt64, ip: UInt32)
    /// Answer an echo request: the reply's ICMP message (before its
    /// checksum) and its destinations.
    case echo(toMAC: UInt64, toIP: UInt32, message: [UInt8])
    /// Queue a datagram on `port`.
    case deliver(port: UInt16, fromIP: UInt32, fromPort: UInt16, data: [UInt8])
  }

  static func be(_ f: [UInt8], _ at: Int, _ n: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<n { v = v << 8 | UInt64(f[at + i]) }
    return v
  }

  /// The Internet checksum of `bytes` (with `extra` 16-bit words): the
  /// complement of the ones'-complement sum; 0 over data carrying a
  /// correct checksum.
  static func checksum(_ bytes: ArraySlice<UInt8>, extra: [UInt64] = []) -> UInt16 {
    var total: UInt64 = extra.reduce(0, +)
    for (i, b) in bytes.enumerated() { total += i % 2 == 0 ? UInt64(b) * 256 : UInt64(b) }
    while total >> 16 != 0 { total = (total & 0xFFFF) + (total >> 16) }
    return ~UInt16(total)
  }

  static func unicastIP(_ a: UInt32) -> Bool {
    let first = a >> 24
    return first != 0 && first != 127 && first < 224
  }

  func verdict(_ f: [UInt8]) -> Verdict {
    let be = Self.be
    guard f.count >= 14, f.count <= 1514 else { return .drop }
    let destination = be(f, 0, 6)
    let source = be(f, 6, 6)
    guard destination == mac || destination == 0xFFFF_FFFF_FFFF else { return .drop }
    guard (source >> 40) & 1 == 0 else { return .drop }
    let type = be(f, 12, 2)
    if type == 0x0806 {
      guard f.count >= 42, be(f, 14, 2) == 1, be(f, 16, 2) == 0x0800, f[18] == 6, f[19] == 4
      else { return .drop }
      let op = be(f, 20, 2)
      let senderMAC = be(f, 22, 6)
      let senderIP = UInt32(be(f, 28, 4))
      guard op == 1 || op == 2, UInt32(be(f, 38, 4)) == ip else { return .drop }
      guard (senderMAC >> 40) & 1 == 0, senderMAC != 0, Self.unicastIP(senderIP), senderIP != ip
      else { return .drop }
      return op == 1
        ? .arpReply(mac: senderMAC, ip: senderIP) : .arpLearn(mac: senderMAC, ip: senderIP)
    }
    guard type == 0x0800, f.count >= 34, f[14] == 0x45 else { return .drop }
    guard Self.checksum(f[14..<34]) == 0 else { return .drop }
    let total = Int(be(f, 16, 2))
    guard total >= 20, 14 + total <= f.count else { return .drop }
    guard be(f, 20, 2) & 0x3FFF == 0, f[22] != 0 else { return .drop }
    let src = UInt32(be(f, 26, 4))
    guard UInt32(be(f, 30, 4)) == ip, Self.unicastIP(src), src != ip else { return .drop }
    let payload = f[34..<(14 + total)]
    switch f[23] {
    case 1:
      guard payload.count >= 8, Self.checksum(payload) == 0, f[34] == 8, f[35] == 0 else {
        return .drop
      }
      var message = Array(payload)
      message[0] = 0
      message[2] = 0
      message[3] = 0
      return .echo(toMAC: source, toIP: src, message: message)
    case 17:
      guard payload.count >= 8 else { return .drop }
      let length = Int(be(f, 38, 2))
      guard length >= 8, length <= payload.count else { return .drop }
      let datagram = f[34..<(34 + length)]
      if be(f, 40, 2) != 0 {
        let pseudo = [
          UInt64(src >> 16), UInt64(src & 0xFFFF), UInt64(ip >> 16), UInt64(ip & 0xFFFF), 17,
          UInt64(length),
        ]
        guard Self.checksum(datagram, extra: pseudo) == 0 else { return .drop }
      }
      let port = UInt16(be(f, 36, 2))
      guard ports.contains(port) else { return .drop }
      return .deliver(
        port: port, fromIP: src, fromPort: UInt16(be(f, 34, 2)), data: Array(f[42..<(34 + length)]))
    default:
      return .drop
    }
  }

  /// What is wrong with `reply`, the stack's answer to an echo request
  /// whose verdict was `echo` (empty when nothing).
  func checkEchoReply(_ reply: [UInt8], toMAC: UInt64, toIP: UInt32, message: [UInt8]) -> [String] {
    let be = Self.be
    var problems: [String] = []
    let total = 20 + message.count
    guard reply.count == max(60, 14 + total) else {
      return ["reply of \(reply.count) bytes, expected \(max(60, 14 + total))"]
    }
    if be(reply, 0, 6) != toMAC { problems.append("Ethernet destination") }
    if be(reply, 6, 6) != mac { problems.append("Ethernet source") }
    if be(reply, 12, 2) != 0x0800 { problems.append("EtherType") }
    if reply[14] != 0x45 { problems.append("version and header length") }
    if Int(be(reply, 16, 2)) != total { problems.append("total length") }
    if be(reply, 20, 2) & 0x3FFF != 0 { problems.append("fragment") }
    if reply[22] == 0 { problems.append("time to live 0") }
    if reply[23] != 1 { problems.append("protocol") }
    if Self.checksum(reply[14..<34]) != 0 { problems.append("IPv4 header checksum") }
    if UInt32(be(reply, 26, 4)) != ip { problems.append("IPv4 source") }
    if UInt32(be(reply, 30, 4)) != toIP { problems.append("IPv4 destination") }
    let icmp = reply[34..<(14 + total)]
    if Self.checksum(icmp) != 0 { problems.append("ICMP checksum") }
    var withoutChecksum = Array(icmp)
    withoutChecksum[2] = 0
    withoutChecksum[3] = 0
    if withoutChecksum != message { problems.append("ICMP message") }
    if reply[(14 + total)...].contains(where: { $0 != 0 }) { problems.append("padding not zero") }
    return problems
  }
}
