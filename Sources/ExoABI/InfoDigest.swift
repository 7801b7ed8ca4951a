/// The canonical digest of the kernel's abstract state: the wrapping sum,
/// over every word `w` at word index `i` of the exported `InfoLayout` area,
/// of `term(i, w)`, a 64-bit hash of the position and the value that is 0
/// for a zero word.
///
/// Defined here, once, so that the kernel and the spec compute the same
/// value for the same state. Being a sum of per-word terms, it is kept up to
/// date in O(1) per store (`digest += term(i, new) - term(i, old)`): the
/// kernel does so on every store to its tables and returns it through
/// `diffDigest` in difftest mode; the spec computes it in full or
/// incrementally. Zero words (padding, an all-zero area) add nothing.
public struct InfoDigest: Sendable {
  /// The digest so far.
  public private(set) var value: UInt64 = 0

  public init() {}

  /// A digest that continues from `value`.
  public static func resuming(_ value: UInt64) -> InfoDigest {
    var d = InfoDigest()
    d.value = value
    return d
  }

  /// The SplitMix64 finalizer: a bijective 64-bit mix.
  @inline(__always)
  public static func mix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// What word index `index` holding `value` adds to the digest.
  @inline(__always)
  public static func term(index: Int, value: UInt64) -> UInt64 {
    if value == 0 { return 0 }
    return mix(value ^ mix(UInt64(truncatingIfNeeded: index) &+ 0x9E37_79B9_7F4A_7C15))
  }

  /// Adds the word at `index` with `value`.
  @inline(__always)
  public mutating func add(index: Int, value word: UInt64) {
    value = value &+ InfoDigest.term(index: index, value: word)
  }

  /// Replaces the word at `index`: `old` becomes `new`.
  @inline(__always)
  public mutating func replace(index: Int, old: UInt64, new: UInt64) {
    value =
      value &- InfoDigest.term(index: index, value: old)
      &+ InfoDigest.term(index: index, value: new)
  }

  /// The digest of the word image `words` (word `i` at index `i`).
  public static func of<C: Collection>(_ words: C) -> UInt64 where C.Element == UInt64 {
    var digest = InfoDigest()
    for (i, word) in words.enumerated() { digest.add(index: i, value: word) }
    return digest.value
  }
}
