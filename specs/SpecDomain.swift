/// The values the specification computes with. The spec is written once,
/// generic over a domain, and interpreted twice:
///
/// - ``ConcreteDomain`` (`Bool`, `UInt64`): the fast test oracle. `branch`
///   runs one side, `first` stops at the first hit, writes go straight into
///   the table.
/// - ``SymbolicDomain`` (`BoolTerm`, 64-bit `BitVec`): builds the Z3 formula
///   of a transition. `branch` runs both sides under a path condition, every
///   write is guarded by it (`ite`), a read at a symbolic index is an `ite`
///   chain over the (fixed) table.
///
/// Rules for spec code: branch only through ``branch(_:then:else:)`` (or
/// ``ite(_:_:_:)-5ms1b``); loop only over fixed table bounds; assign a
/// variable that outlives a branch only through ``assign(_:_:)``; read and
/// write tables only through ``read(_:_:default:)`` and ``write(_:_:_:)``.
/// Every operation is total: arithmetic wraps, a read outside a table gives
/// its default, a write outside a table does nothing.
public protocol SpecDomain {
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

  /// Runs `then` where `c` holds and `otherwise` where it does not. Concrete:
  /// one of them. Symbolic: both, each under the path condition extended by
  /// `c` or `!c`.
  func branch(_ c: B, then: () -> Void, else otherwise: () -> Void)
  /// `variable = value` where the path condition holds.
  func assign(_ variable: inout W, _ value: W)
  /// `table[index]`, or `fallback` when `index >= table.count`.
  func read(_ table: [W], _ index: W, default fallback: W) -> W
  /// `table[index] = value` where the path condition holds; nothing when
  /// `index >= table.count`.
  func write(_ table: inout [W], _ index: W, _ value: W)
  /// The lowest `j < count` with `predicate(j)`, or `none` when there is none.
  func first(_ count: Int, where predicate: (Int) -> B) -> (found: B, index: W)
  /// The first failing check decides the error: if `ok` and not `condition`,
  /// `ok` becomes false and `error` becomes `code`. Concrete: `condition` is
  /// not evaluated once a check has failed.
  func check(_ ok: inout B, _ error: inout W, _ condition: () -> B, _ code: UInt64)
}

extension SpecDomain {
  @inline(__always) public func ne(_ a: W, _ b: W) -> B { not(eq(a, b)) }
  /// Unsigned `a <= b`.
  @inline(__always) public func ule(_ a: W, _ b: W) -> B { not(ult(b, a)) }
  /// Unsigned `a >= b`.
  @inline(__always) public func uge(_ a: W, _ b: W) -> B { not(ult(a, b)) }
  /// Unsigned `a > b`.
  @inline(__always) public func ugt(_ a: W, _ b: W) -> B { ult(b, a) }
  @inline(__always) public func and(_ a: B, _ b: B, _ c: B) -> B { and(and(a, b), c) }
  @inline(__always) public func or(_ a: B, _ b: B, _ c: B) -> B { or(or(a, b), c) }
  /// Every bit of `mask` is set in `a`.
  @inline(__always) public func has(_ a: W, _ mask: UInt64) -> B {
    eq(bitAnd(a, word(mask)), word(mask))
  }
  /// No bit of `a` lies outside `allowed`.
  @inline(__always) public func within(_ a: W, _ allowed: W) -> B {
    eq(bitAnd(a, allowed), a)
  }
  /// `low <= a < high`, constants.
  @inline(__always) public func inRange(_ a: W, _ low: UInt64, _ high: UInt64) -> B {
    and(uge(a, word(low)), ult(a, word(high)))
  }
  /// `branch(c)` with nothing to do where `c` fails.
  @inline(__always) public func when(_ c: B, _ then: () -> Void) {
    branch(c, then: then, else: {})
  }
}
