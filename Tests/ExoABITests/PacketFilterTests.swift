import ExoABI
import Testing

/// Frames and filters of the tests: Ethernet, IPv4 (no options), UDP.
enum Frames {
  /// An Ethernet frame carrying IPv4 (`0x0800` at byte 12), protocol
  /// `protocol` (byte 23), to UDP port `port` (bytes 36–37), of `length`
  /// bytes.
  static func ipv4(protocol: UInt8 = 17, port: UInt16 = 7, length: Int = 60) -> [UInt8] {
    var frame = [UInt8](repeating: 0, count: length)
    frame[12] = 0x08
    frame[13] = 0x00
    frame[14] = 0x45
    frame[23] = `protocol`
    frame[36] = UInt8(port >> 8)
    frame[37] = UInt8(port & 0xFF)
    return frame
  }

  static let isIPv4 = PacketTest(offset: 12, width: 2, equals: 0x0800)
  static let isUDP = PacketTest(offset: 23, width: 1, equals: 17)
  static func toPort(_ port: UInt32) -> PacketTest {
    PacketTest(offset: 36, width: 2, equals: port)
  }
  static func udp(port: UInt32) throws -> PacketFilter {
    try PacketFilter([isIPv4, isUDP, toPort(port)])
  }
}

@Suite("Packet filters")
struct PacketFilterTests {
  @Test("the encoding: the count, then two words per test; unused tests zero")
  func encoding() throws {
    let filter = try Frames.udp(port: 7)
    let words = filter.words
    #expect(words.count == PacketFilter.wordCount)
    #expect(words[0] == 3)
    // Offset in bits 0-31, width in bits 32-63; value in bits 0-31, mask in bits 32-63.
    #expect(words[1] == 12 | 2 << 32)
    #expect(words[2] == 0x0800 | 0xFFFF << 32)
    #expect(words[5] == 36 | 2 << 32)
    #expect(words[6] == 7 | 0xFFFF << 32)
    #expect(words[7...].allSatisfy { $0 == 0 })
    #expect(try PacketFilter(words: words) == filter)
    #expect((0..<PacketFilter.wordCount).map(filter.word) == words)
    // The words of unused tests are not read.
    var junk = words
    for i in 7..<junk.count { junk[i] = 0xDEAD_BEEF_DEAD_BEEF }
    #expect(try PacketFilter(words: junk) == filter)
  }

  @Test(
    "the decoder names the malformed test and the rule it breaks",
    arguments: [
      (
        [
          PacketTest(offset: 12, width: 2, equals: 0x800),
          PacketTest(offset: 0, width: 3, mask: 0xFF, value: 1),
        ],
        PacketFilterError.Reason.widthInvalid, 1,
        "test 1 (0:3 & 0xff == 0x1): width 3 is not 1, 2 or 4"
      ),
      (
        [PacketTest(offset: 1512, width: 4, mask: 1, value: 1)],
        .offsetBeyondFrame, 0,
        "test 0 (1512:4 & 0x1 == 0x1): bytes 1512..<1516 end beyond the longest frame (1514 bytes)"
      ),
      (
        [Frames.isIPv4, Frames.isUDP, PacketTest(offset: 30, width: 1, mask: 0x1FF, value: 0)],
        .maskWiderThanWidth, 2, "test 2 (30:1 & 0x1ff == 0x0): mask 0x1ff is wider than 1 bytes"
      ),
      (
        [PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x45)],
        .valueOutsideMask, 0,
        "test 0 (14:1 & 0xf0 == 0x45): value 0x45 has bits outside mask 0xf0 (it never holds)"
      ),
    ] as [([PacketTest], PacketFilterError.Reason, Int, String)])
  func malformed(
    _ tests: [PacketTest], _ reason: PacketFilterError.Reason, _ index: Int, _ message: String
  ) {
    #expect(
      throws: PacketFilterError.malformedTest(index: index, reason: reason, test: tests[index])
    ) {
      try PacketFilter(tests)
    }
    do {
      _ = try PacketFilter(tests)
    } catch {
      #expect(error.description == message)
    }
  }

  @Test("the first broken rule is reported: the count first, then each test in order")
  func order() {
    let bad = PacketTest(offset: 2000, width: 3, mask: 0x1FF, value: 0x200)
    // Width is checked before the offset, the mask and the value.
    #expect(throws: PacketFilterError.malformedTest(index: 0, reason: .widthInvalid, test: bad)) {
      try PacketFilter([bad, bad])
    }
    let nine = Array(repeating: Frames.isIPv4, count: 9)
    #expect(throws: PacketFilterError.tooManyTests(count: 9)) { try PacketFilter(nine) }
    #expect("\(PacketFilterError.tooManyTests(count: 9))" == "the filter has 9 tests; at most 8")
    #expect(throws: PacketFilterError.tooManyTests(count: UInt64.max)) {
      try PacketFilter(words: [.max])
    }
    // Eight tests are allowed; a width of 4 reaches byte 1513 at most.
    #expect((try? PacketFilter(Array(repeating: Frames.isIPv4, count: 8))) != nil)
    #expect((try? PacketFilter([PacketTest(offset: 1510, width: 4, mask: 0, value: 0)])) != nil)
  }

  @Test("matching: big-endian fields, masks, and tests beyond the frame fail")
  func matching() throws {
    let port7 = try Frames.udp(port: 7)
    #expect(port7.matches(frame: Frames.ipv4(port: 7)))
    #expect(!port7.matches(frame: Frames.ipv4(port: 9)))
    #expect(!port7.matches(frame: Frames.ipv4(protocol: 6, port: 7)))
    // The port's bytes are the last two of a 38-byte frame: it matches; one
    // byte shorter and the test reaches beyond the frame.
    #expect(port7.matches(frame: Frames.ipv4(port: 7, length: 38)))
    #expect(!port7.matches(frame: Array(Frames.ipv4(port: 7, length: 38).prefix(37))))
    // Big-endian: 0x0800 is bytes 08 00, not 00 08.
    var swapped = Frames.ipv4()
    (swapped[12], swapped[13]) = (0x00, 0x08)
    #expect(!port7.matches(frame: swapped))
    // A 4-byte field and a mask: the IPv4 version nibble.
    let version4 = try PacketFilter([PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x40)])
    #expect(version4.matches(frame: Frames.ipv4()))
    let word = try PacketFilter([
      PacketTest(offset: 12, width: 4, mask: 0xFFFF_F000, value: 0x0800_4000)
    ])
    #expect(word.matches(frame: Frames.ipv4()))
    // No tests: every frame, even an empty one.
    let any = try PacketFilter([])
    #expect(any.matches(frame: []) && any.matches(frame: Frames.ipv4()))
    // A mask of zero still needs the bytes to be there.
    let long = try PacketFilter([PacketTest(offset: 99, width: 1, mask: 0, value: 0)])
    #expect(!long.matches(frame: Frames.ipv4(length: 99)))
    #expect(long.matches(frame: Frames.ipv4(length: 100)))
  }
}
