/// The operations on truth values and 64-bit words that code written once
/// for several interpretations is made of: the packet-filter language
/// (``PacketFilter``) here, and every transition of the spec (`SpecDomain`
/// in `specs/` refines this protocol). ``PlainWords`` runs such code on
/// plain values; the spec's symbolic domain runs the same code to build its
/// Z3 formula, which is how exoverify proves things about the code that
/// runs.
///
/// Every operation is total: arithmetic wraps.
public protocol WordOperations {
  /// A truth value.
  associatedtype B
  /// A 64-bit word.
  associatedtype W

  /// The constant `value`.
  func bool(_ value: Bool) -> B
  /// The constant `value`.
  func word(_ value: UInt64) -> W

  func not(_ a: B) -> B
  func and(_ a: B, _ b: B) -> B
  /// `a ∧ b`, where plain values do not evaluate `b` when `a` is false
  /// (for scans whose most items fail a cheap test). The default
  /// evaluates both.
  func and(_ a: B, then b: () -> B) -> B
  func or(_ a: B, _ b: B) -> B
  /// `a == b`.
  func eq(_ a: W, _ b: W) -> B
  /// Unsigned `a < b`.
  func ult(_ a: W, _ b: W) -> B
  /// Wrapping `a + b`.
  func add(_ a: W, _ b: W) -> W
  /// Wrapping `a - b`.
  func sub(_ a: W, _ b: W) -> W
  /// Wrapping `a * k`.
  func mul(_ a: W, _ k: UInt64) -> W
  /// Bitwise `a & b`.
  func bitAnd(_ a: W, _ b: W) -> W
  /// Logical `a >> k`.
  func shiftRight(_ a: W, _ k: UInt64) -> W
  /// `a % n` (`n > 0`).
  func remainder(_ a: W, _ n: UInt64) -> W
  /// `c ? a : b`; both operands are computed.
  func ite(_ c: B, _ a: W, _ b: W) -> W
  /// `c ? a : b`; both operands are computed.
  func ite(_ c: B, _ a: B, _ b: B) -> B
}

extension WordOperations {
  @inline(__always) public func and(_ a: B, then b: () -> B) -> B { and(a, b()) }
}

/// ``WordOperations`` on plain values: `Bool` and `UInt64`.
public struct PlainWords: WordOperations, Sendable {
  public init() {}
  @inline(__always) public func bool(_ value: Bool) -> Bool { value }
  @inline(__always) public func word(_ value: UInt64) -> UInt64 { value }
  @inline(__always) public func not(_ a: Bool) -> Bool { !a }
  @inline(__always) public func and(_ a: Bool, _ b: Bool) -> Bool { a && b }
  @inline(__always) public func and(_ a: Bool, then b: () -> Bool) -> Bool { a && b() }
  @inline(__always) public func or(_ a: Bool, _ b: Bool) -> Bool { a || b }
  @inline(__always) public func eq(_ a: UInt64, _ b: UInt64) -> Bool { a == b }
  @inline(__always) public func ult(_ a: UInt64, _ b: UInt64) -> Bool { a < b }
  @inline(__always) public func add(_ a: UInt64, _ b: UInt64) -> UInt64 { a &+ b }
  @inline(__always) public func sub(_ a: UInt64, _ b: UInt64) -> UInt64 { a &- b }
  @inline(__always) public func mul(_ a: UInt64, _ k: UInt64) -> UInt64 { a &* k }
  @inline(__always) public func bitAnd(_ a: UInt64, _ b: UInt64) -> UInt64 { a & b }
  @inline(__always) public func shiftRight(_ a: UInt64, _ k: UInt64) -> UInt64 { a >> k }
  @inline(__always) public func remainder(_ a: UInt64, _ n: UInt64) -> UInt64 { a % n }
  @inline(__always) public func ite(_ c: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 { c ? a : b }
  @inline(__always) public func ite(_ c: Bool, _ a: Bool, _ b: Bool) -> Bool { c ? a : b }
}
