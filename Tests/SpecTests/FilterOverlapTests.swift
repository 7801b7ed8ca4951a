import ExoABI
import ExoSpec
import SMT
import Testing

/// The kernel's overlap check of packet filters (`filtersOverlap`).
@Suite struct FilterOverlapTests {
  static let ipv4 = PacketTest(offset: 12, width: 2, equals: 0x0800)
  static let udp = PacketTest(offset: 23, width: 1, equals: 17)
  static func port(_ p: UInt32) -> PacketTest { PacketTest(offset: 36, width: 2, equals: p) }
  static func filter(_ tests: PacketTest...) -> [PacketTest] { tests }

  func overlap(_ a: PacketFilter, _ b: PacketFilter) -> Bool {
    ConcreteDomain().filtersOverlap({ a.word($0) }, { b.word($0) })
  }

  @Test(
    "concrete cases",
    arguments: [
      // UDP port 7 and UDP port 9: no frame goes to both.
      (filter(ipv4, udp, port(7)), filter(ipv4, udp, port(9)), false),
      // UDP port 7 and any IPv4: a port-7 frame is both.
      (filter(ipv4, udp, port(7)), filter(ipv4), true),
      // The same filter twice.
      (filter(ipv4, udp, port(7)), filter(ipv4, udp, port(7)), true),
      // No tests: every frame.
      (filter(), filter(ipv4, udp, port(7)), true),
      // Masks on different bits of one byte: 0x45 is both.
      (
        filter(PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x40)),
        filter(PacketTest(offset: 14, width: 1, mask: 0x0F, value: 0x05)), true
      ),
      // Masks sharing bit 4, which the values set differently.
      (
        filter(PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x40)),
        filter(PacketTest(offset: 14, width: 1, mask: 0x1F, value: 0x15)), false
      ),
      // Fields of different widths: byte 13 is the low byte of the ethertype.
      (filter(ipv4), filter(PacketTest(offset: 13, width: 1, equals: 0x00)), true),
      (filter(ipv4), filter(PacketTest(offset: 13, width: 1, equals: 0x01)), false),
      (filter(ipv4), filter(PacketTest(offset: 11, width: 2, mask: 0x00FF, value: 0x0008)), true),
      (filter(ipv4), filter(PacketTest(offset: 11, width: 2, mask: 0x00FF, value: 0x0009)), false),
      // A 4-byte source address against one of its bytes.
      (
        filter(PacketTest(offset: 26, width: 4, equals: 0x0A00_0001)),
        filter(PacketTest(offset: 29, width: 1, equals: 0x02)), false
      ),
      (
        filter(PacketTest(offset: 26, width: 4, equals: 0x0A00_0001)),
        filter(PacketTest(offset: 28, width: 1, equals: 0x00)), true
      ),
      // Different lengths never separate filters: a long frame has both.
      (filter(PacketTest(offset: 0, width: 1, mask: 0, value: 0)), filter(port(7)), true),
      // A filter whose own tests contradict matches nothing: disjoint from
      // everything, itself included.
      (filter(ipv4, PacketTest(offset: 12, width: 1, equals: 0x86)), filter(), false),
      (
        filter(ipv4, PacketTest(offset: 12, width: 1, equals: 0x86)),
        filter(ipv4, PacketTest(offset: 12, width: 1, equals: 0x86)), false
      ),
    ] as [([PacketTest], [PacketTest], Bool)])
  func cases(_ testsA: [PacketTest], _ testsB: [PacketTest], _ expected: Bool) throws {
    let a = try PacketFilter(testsA)
    let b = try PacketFilter(testsB)
    #expect(overlap(a, b) == expected, "\(a) vs \(b)")
    #expect(overlap(b, a) == expected, "\(b) vs \(a)")
  }

  /// Random small filters against brute force: every frame of up to 6
  /// bytes whose bytes are 0x00, 0x01, 0x80 or 0x81, with masks only on
  /// bits 0 and 7 — so some frame matches both filters exactly when one of
  /// those does.
  @Test("the check agrees with brute force on random small filters")
  func bruteForce() throws {
    var rng = SplitMix64(seed: 0xF117E5)
    let alphabet: [UInt8] = [0x00, 0x01, 0x80, 0x81]
    var frames: [[UInt8]] = [[]]
    var level: [[UInt8]] = [[]]
    for _ in 0..<6 {
      level = level.flatMap { f in alphabet.map { f + [$0] } }
      frames += level
    }
    func randomTest() -> PacketTest {
      let width: UInt32 = [1, 2, 4][Int(rng.next() % 3)]
      let offset = UInt32(rng.next() % UInt64(7 - width))
      let field: UInt64 = width == 4 ? 0xFFFF_FFFF : (1 << (8 * UInt64(width))) - 1
      let mask = UInt32(rng.next() & 0x8181_8181 & field)
      let value = UInt32(rng.next() & UInt64(mask))
      return PacketTest(offset: offset, width: width, mask: mask, value: value)
    }
    func randomFilter() throws -> PacketFilter {
      let count = Int(rng.next() % 4)
      return try PacketFilter((0..<count).map { _ in randomTest() })
    }
    var overlaps = 0
    for _ in 0..<300 {
      let a = try randomFilter()
      let b = try randomFilter()
      let both = frames.contains { a.matches(frame: $0) && b.matches(frame: $0) }
      #expect(overlap(a, b) == both, "\(a) vs \(b)")
      if both { overlaps += 1 }
    }
    // Both answers are common.
    #expect(overlaps > 50 && overlaps < 250, "\(overlaps) of 300 overlap")
  }

  /// The symbolic domain computes the same answers (its constant folding
  /// runs the same code on literals).
  @Test("the symbolic domain agrees on the concrete cases")
  func symbolicAgrees() throws {
    let d = SymbolicDomain(context: try SMT.Context(randomSeed: 0))
    let a = try PacketFilter([Self.ipv4, Self.udp, Self.port(7)])
    for (tests, expected) in [([Self.ipv4], true), ([Self.ipv4, Self.udp, Self.port(9)], false)] {
      let b = try PacketFilter(tests)
      let result = d.filtersOverlap({ d.word(a.word($0)) }, { d.word(b.word($0)) })
      #expect(result.boolValue == expected)
    }
  }
}
