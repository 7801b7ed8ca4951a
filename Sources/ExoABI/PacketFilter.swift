/// A packet filter: the secure binding of the network (docs/network.md).
/// An environment loads a filter; the kernel delivers it the frames the
/// filter matches, and refuses a filter that some frame could match
/// together with a filter already loaded (the overlap check,
/// `filtersOverlap` in `specs/`, proved sound and complete by exoverify).
///
/// DPF style: a conjunction of at most ``maximumTests`` tests. A test reads
/// a field of ``PacketTest/width`` bytes (1, 2 or 4) at byte
/// ``PacketTest/offset`` of the frame, big-endian as network headers are,
/// and holds when `field & mask == value`. A test whose bytes lie beyond
/// the frame fails. A filter of no tests matches every frame.
///
/// **Encoding** (``wordCount`` words, so a call can take a filter from a
/// user buffer): word 0 is the number of tests `n`; test `i` is the two
/// words `1 + 2i` (offset in bits 0–31, width in bits 32–63) and `2 + 2i`
/// (value in bits 0–31, mask in bits 32–63). The words of tests `i >= n`
/// are not read.
///
/// The rules (``check(_:_:)``, ``matches(_:_:length:byte:)``) are written
/// once, generic over ``WordOperations``: the kernel and the libOS run them
/// on plain words, exoverify on Z3 terms.
public struct PacketFilter: Hashable, Sendable, CustomStringConvertible {
  /// The most tests a filter has.
  public static let maximumTests = 8
  /// The longest Ethernet frame without its check sequence: 14 bytes of
  /// header and 1500 of payload. No test reads beyond it.
  public static let maximumFrameLength = 1514
  /// The shortest frame `frameTransmit` sends: an Ethernet header.
  public static let minimumFrameLength = 14
  /// A filter's buffer page holds a delivered frame after this header: the
  /// frame's length, then the filter's drop count, one word each.
  public static let deliveryHeaderBytes = 16
  /// The words of the encoding.
  public static let wordCount = 1 + 2 * maximumTests

  /// The tests, all of which a frame must pass.
  public let tests: [PacketTest]

  /// The filter of `tests`, if they are well formed.
  public init(_ tests: [PacketTest]) throws(PacketFilterError) {
    var words = [UInt64(tests.count)]
    for t in tests.prefix(Self.maximumTests) { words += t.words }
    try self.init(words: words)
  }

  /// Decodes the encoding; missing words read as zero.
  public init(words: [UInt64]) throws(PacketFilterError) {
    func word(_ i: Int) -> UInt64 { i < words.count ? words[i] : 0 }
    let verdict = Self.check(PlainWords(), word)
    guard verdict.ok else {
      let reason = PacketFilterError.Reason(rawValue: verdict.reason) ?? .tooManyTests
      if reason == .tooManyTests { throw .tooManyTests(count: word(0)) }
      let i = Int(verdict.test)
      throw .malformedTest(
        index: i, reason: reason, test: PacketTest(words: (word(1 + 2 * i), word(2 + 2 * i))))
    }
    tests = (0..<Int(word(0))).map { PacketTest(words: (word(1 + 2 * $0), word(2 + 2 * $0))) }
  }

  /// The encoding: ``wordCount`` words, those of unused tests zero.
  public var words: [UInt64] {
    var words = [UInt64(tests.count)]
    for t in tests { words += t.words }
    return words + Array(repeating: 0, count: Self.wordCount - words.count)
  }

  /// Word `i` of the encoding.
  public func word(_ i: Int) -> UInt64 {
    guard i > 0 else { return UInt64(tests.count) }
    let t = (i - 1) / 2
    guard t < tests.count else { return 0 }
    return tests[t].words[(i - 1) % 2]
  }

  /// Whether `frame` passes every test.
  public func matches(frame: [UInt8]) -> Bool {
    Self.matches(PlainWords(), word, length: UInt64(frame.count)) { i in
      i < UInt64(frame.count) ? UInt64(frame[Int(i)]) : 0
    }
  }

  public var description: String {
    "[" + tests.map { $0.description }.joined(separator: ", ") + "]"
  }
}

/// One test of a ``PacketFilter``: the field of `width` bytes at byte
/// `offset` of the frame, read big-endian, and-ed with `mask`, equals
/// `value`. Well formed when `width` is 1, 2 or 4, the field ends within
/// ``PacketFilter/maximumFrameLength``, `mask` fits in the field, and
/// `value` has no bit outside `mask`.
public struct PacketTest: Hashable, Sendable, CustomStringConvertible {
  public var offset: UInt32
  public var width: UInt32
  public var mask: UInt32
  public var value: UInt32

  public init(offset: UInt32, width: UInt32, mask: UInt32, value: UInt32) {
    self.offset = offset
    self.width = width
    self.mask = mask
    self.value = value
  }

  /// The field of `width` bytes at `offset` equals `value` (every bit).
  public init(offset: UInt32, width: UInt32, equals value: UInt32) {
    let mask: UInt32 = width >= 4 ? .max : (1 << (8 * width)) - 1
    self.init(offset: offset, width: width, mask: mask, value: value)
  }

  /// Decodes the two words of a test.
  public init(words: (UInt64, UInt64)) {
    offset = UInt32(truncatingIfNeeded: words.0)
    width = UInt32(truncatingIfNeeded: words.0 >> 32)
    value = UInt32(truncatingIfNeeded: words.1)
    mask = UInt32(truncatingIfNeeded: words.1 >> 32)
  }

  /// The two words of the encoding, without an array (user programs
  /// without a heap).
  public var encoded: (UInt64, UInt64) {
    (UInt64(offset) | UInt64(width) << 32, UInt64(value) | UInt64(mask) << 32)
  }

  /// The two words of the encoding.
  public var words: [UInt64] { [encoded.0, encoded.1] }

  /// `12:2 & 0xffff == 0x800`: offset, width, mask, value.
  public var description: String {
    "\(offset):\(width) & 0x\(String(mask, radix: 16)) == 0x\(String(value, radix: 16))"
  }
}

/// Why the decoder refused a filter: which test is malformed and how.
public enum PacketFilterError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The count word says more than ``PacketFilter/maximumTests`` tests.
  case tooManyTests(count: UInt64)
  /// Test `index` (from 0) breaks `reason`; `test` is what it says.
  case malformedTest(index: Int, reason: Reason, test: PacketTest)

  /// A rule of a well-formed test, in the order the decoder checks them.
  /// The raw values are the codes ``PacketFilter/check(_:_:)`` returns.
  public enum Reason: UInt64, Hashable, Sendable {
    case tooManyTests = 1
    /// The width is not 1, 2 or 4.
    case widthInvalid = 2
    /// The field does not end within ``PacketFilter/maximumFrameLength``.
    case offsetBeyondFrame = 3
    /// The mask has a bit above the field's width.
    case maskWiderThanWidth = 4
    /// The value has a bit outside the mask (the test could never hold).
    case valueOutsideMask = 5
  }

  public var description: String {
    switch self {
    case .tooManyTests(let count):
      return "the filter has \(count) tests; at most \(PacketFilter.maximumTests)"
    case .malformedTest(let index, let reason, let t):
      let hex = { (v: UInt32) in "0x" + String(v, radix: 16) }
      let why: String
      switch reason {
      case .tooManyTests: why = "too many tests"
      case .widthInvalid: why = "width \(t.width) is not 1, 2 or 4"
      case .offsetBeyondFrame:
        why =
          "bytes \(t.offset)..<\(UInt64(t.offset) + UInt64(t.width)) end beyond the longest "
          + "frame (\(PacketFilter.maximumFrameLength) bytes)"
      case .maskWiderThanWidth: why = "mask \(hex(t.mask)) is wider than \(t.width) bytes"
      case .valueOutsideMask:
        why = "value \(hex(t.value)) has bits outside mask \(hex(t.mask)) (it never holds)"
      }
      return "test \(index) (\(t)): \(why)"
    }
  }
}

/// Test `i`'s fields read from an encoded filter.
public struct EncodedTest<W> {
  public var offset, width, mask, value: W
}

/// The decoder's verdict: `ok`, or the first broken rule: the index of the
/// test (`test`) and the rule (`reason`, a ``PacketFilterError/Reason``).
public struct FilterCheck<B, W> {
  public var ok: B
  public var test: W
  public var reason: W
}

extension PacketFilter {
  /// The fields of test `i` of the encoded filter `word`.
  @inline(__always)
  public static func test<O: WordOperations>(_ o: O, _ i: Int, _ word: (Int) -> O.W)
    -> EncodedTest<O.W>
  {
    let low = o.word(0xFFFF_FFFF)
    let a = word(1 + 2 * i)
    let b = word(2 + 2 * i)
    return EncodedTest(
      offset: o.bitAnd(a, low), width: o.shiftRight(a, 32), mask: o.shiftRight(b, 32),
      value: o.bitAnd(b, low))
  }

  /// The decoder: whether the encoded filter `word` is well formed, and if
  /// not, the first rule broken (the count first, then each test in order,
  /// each rule in the order of ``PacketFilterError/Reason``).
  public static func check<O: WordOperations>(_ o: O, _ word: (Int) -> O.W) -> FilterCheck<
    O.B, O.W
  > {
    var verdict = FilterCheck(ok: o.bool(true), test: o.word(0), reason: o.word(0))
    func rule(_ holds: O.B, _ test: Int, _ reason: PacketFilterError.Reason) {
      let first = o.and(verdict.ok, o.not(holds))
      verdict.test = o.ite(first, o.word(UInt64(test)), verdict.test)
      verdict.reason = o.ite(first, o.word(reason.rawValue), verdict.reason)
      verdict.ok = o.and(verdict.ok, holds)
    }
    let n = word(0)
    rule(o.not(o.ult(o.word(UInt64(maximumTests)), n)), 0, .tooManyTests)
    for i in 0..<maximumTests {
      let inactive = o.not(o.ult(o.word(UInt64(i)), n))
      let t = test(o, i, word)
      let one = o.eq(t.width, o.word(1))
      let two = o.eq(t.width, o.word(2))
      let four = o.eq(t.width, o.word(4))
      rule(o.or(inactive, o.or(one, o.or(two, four))), i, .widthInvalid)
      // Offset and width are below 2^32: the sum does not wrap.
      let end = o.add(t.offset, t.width)
      rule(
        o.or(inactive, o.not(o.ult(o.word(UInt64(maximumFrameLength)), end))), i,
        .offsetBeyondFrame)
      let limit = o.ite(one, o.word(0x100), o.ite(two, o.word(0x1_0000), o.word(0x1_0000_0000)))
      rule(o.or(inactive, o.ult(t.mask, limit)), i, .maskWiderThanWidth)
      rule(o.or(inactive, o.eq(o.bitAnd(t.value, t.mask), t.value)), i, .valueOutsideMask)
    }
    return verdict
  }

  /// Whether the frame of `length` bytes passes every test of the encoded
  /// filter `word` (one the decoder accepts). `byte(i)` is the frame's byte
  /// `i`, a value below 256 for every `i` (what it is at `i >= length` does
  /// not matter: a test that reaches beyond the frame fails).
  public static func matches<O: WordOperations>(
    _ o: O, _ word: (Int) -> O.W, length: O.W, byte: (O.W) -> O.W
  ) -> O.B {
    let n = word(0)
    var all = o.bool(true)
    for i in 0..<maximumTests {
      // Plain values stop at the first test that fails and never read the
      // bytes of tests past `n`.
      all = o.and(all) {
        let active = o.ult(o.word(UInt64(i)), n)
        return o.not(
          o.and(active) { o.not(holds(o, test(o, i, word), length: length, byte: byte)) })
      }
    }
    return all
  }

  /// Whether the frame passes the well-formed test `t`: the field lies
  /// within the frame, and its bits under the mask are the value.
  public static func holds<O: WordOperations>(
    _ o: O, _ t: EncodedTest<O.W>, length: O.W, byte: (O.W) -> O.W
  ) -> O.B {
    let inFrame = o.not(o.ult(length, o.add(t.offset, t.width)))
    let b0 = byte(t.offset)
    let b1 = byte(o.add(t.offset, o.word(1)))
    let b2 = byte(o.add(t.offset, o.word(2)))
    let b3 = byte(o.add(t.offset, o.word(3)))
    let two = o.add(o.mul(b0, 0x100), b1)
    let four = o.add(o.mul(two, 0x1_0000), o.add(o.mul(b2, 0x100), b3))
    let field = o.ite(o.eq(t.width, o.word(1)), b0, o.ite(o.eq(t.width, o.word(2)), two, four))
    return o.and(inFrame, o.eq(o.bitAnd(field, t.mask), t.value))
  }
}
