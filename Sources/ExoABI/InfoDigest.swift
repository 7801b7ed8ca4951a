/// The canonical digest of the kernel's abstract state: FNV-1a (64-bit) over
/// the little-endian bytes of the exported `InfoLayout` words, in order.
/// Defined here, once, so that an in-guest agent hashing the area it sees at
/// `UserLayout.infoBase` and the spec hashing its own image compute the same
/// value for the same state.
public struct InfoDigest: Sendable {
  /// The digest so far.
  public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

  public init() {}

  /// Adds one word.
  @inline(__always)
  public mutating func add(_ word: UInt64) {
    var w = word
    for _ in 0..<8 {
      value = (value ^ (w & 0xFF)) &* 0x0000_0100_0000_01B3
      w >>= 8
    }
  }

  /// The digest of `words`.
  public static func of<S: Sequence>(_ words: S) -> UInt64 where S.Element == UInt64 {
    var digest = InfoDigest()
    for word in words { digest.add(word) }
    return digest.value
  }
}
