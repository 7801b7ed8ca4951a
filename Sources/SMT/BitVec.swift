import CZ3

/// A fixed-width bit-vector term; the width is known at run time.
///
/// Operators: `+ - *` (wrapping), `& | ^ ~`, unary `-`, and `<<`. Division, remainder,
/// right shifts and comparisons come in unsigned and signed forms and are named
/// methods (`udiv`, `lshr`, `ult`, `slt`, …); equality is `eq(_:)`.
///
/// Errors: operands of different widths, or out-of-range `extract` bounds, do not
/// trap. The result is a poisoned term carrying `.sortMismatch` / `.invalidArgument`;
/// the error propagates and is thrown by `Solver.assert`/`check` or `Model` evaluation.
public struct BitVec: Term {
  public let ast: AST
  /// Number of bits; for a poisoned term, the intended width (0 if unknown).
  public let width: Int

  /// Wraps `ast`, poisoned with `.sortMismatch` unless it is a bit-vector expression.
  public init(_ ast: AST) {
    let context = ast.context
    if let raw = ast.raw, let s = Z3_get_sort(context.raw, raw),
      case .bitVec(let width)? = context.sort(ofRawSort: s)
    {
      self.init(ast, width: width)
    } else {
      self.init(Self.rejection(of: ast).map(context.poisoned) ?? ast, width: 0)
    }
  }

  /// Wraps an AST already known to be a bit-vector of `width` bits (or poisoned).
  init(_ ast: AST, width: Int) {
    self.ast = ast
    self.width = width
  }

  public static func accepts(_ sort: Sort) -> Bool {
    if case .bitVec = sort { return true }
    return false
  }

  public static var sortName: String { "(_ BitVec n)" }

  /// A literal of this term's width and context; `value` is truncated to `width` bits.
  public func literal(_ value: UInt64) -> BitVec { context.bitVec(value, width: width) }

  /// The value if the term is a literal (e.g. after `simplified()`) of at most 64 bits.
  public var uint64Value: UInt64? {
    var value: UInt64 = 0
    guard width <= 64, let raw = ast.raw, Z3_is_numeral_ast(context.raw, raw),
      Z3_get_numeral_uint64(context.raw, raw, &value)
    else { return nil }
    return value
  }

  /// The value as an unsigned decimal numeral if the term is a literal, at any width.
  public var numeralValue: String? {
    guard let raw = ast.raw, Z3_is_numeral_ast(context.raw, raw) else { return nil }
    return context.string(Z3_get_numeral_string(context.raw, raw))
  }

  // MARK: Building blocks

  private typealias Binary = (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> OpaquePointer?

  /// `make(self, other)` after checking the widths agree; the result has `resultWidth`.
  private func binary(_ operation: String, _ other: BitVec, _ make: Binary) -> AST {
    if let error = ast.error ?? other.ast.error { return context.poisoned(error) }
    guard width == other.width else {
      return context.poisoned(
        .sortMismatch(
          operation: operation, expected: Sort.bitVec(width: width).description,
          found: Sort.bitVec(width: other.width).description))
    }
    return context.build(operation, [ast, other.ast]) { make(context.raw, $0[0], $0[1]) }
  }

  private func arithmetic(_ operation: String, _ other: BitVec, _ make: Binary) -> BitVec {
    BitVec(binary(operation, other, make), width: width)
  }

  private func comparison(_ operation: String, _ other: BitVec, _ make: Binary) -> BoolTerm {
    BoolTerm(unchecked: binary(operation, other, make))
  }

  private func unary(
    _ operation: String, width: Int, _ make: (OpaquePointer?, OpaquePointer?) -> OpaquePointer?
  ) -> BitVec {
    BitVec(context.build(operation, [ast]) { make(context.raw, $0[0]) }, width: width)
  }

  private func invalid(_ operation: String, _ reason: String, width: Int) -> BitVec {
    BitVec(context.poisoned(.invalidArgument(operation: operation, reason: reason)), width: width)
  }

  // MARK: Arithmetic and bitwise operators (wrapping, as in Swift's &+ etc.)

  /// Wrapping addition (`bvadd`).
  public static func + (lhs: BitVec, rhs: BitVec) -> BitVec {
    lhs.arithmetic("bvadd", rhs, Z3_mk_bvadd)
  }
  /// Wrapping subtraction (`bvsub`).
  public static func - (lhs: BitVec, rhs: BitVec) -> BitVec {
    lhs.arithmetic("bvsub", rhs, Z3_mk_bvsub)
  }
  /// Wrapping multiplication (`bvmul`).
  public static func * (lhs: BitVec, rhs: BitVec) -> BitVec {
    lhs.arithmetic("bvmul", rhs, Z3_mk_bvmul)
  }
  /// Bitwise and (`bvand`).
  public static func & (lhs: BitVec, rhs: BitVec) -> BitVec {
    lhs.arithmetic("bvand", rhs, Z3_mk_bvand)
  }
  /// Bitwise or (`bvor`).
  public static func | (lhs: BitVec, rhs: BitVec) -> BitVec {
    lhs.arithmetic("bvor", rhs, Z3_mk_bvor)
  }
  /// Bitwise exclusive or (`bvxor`).
  public static func ^ (lhs: BitVec, rhs: BitVec) -> BitVec {
    lhs.arithmetic("bvxor", rhs, Z3_mk_bvxor)
  }
  /// Left shift (`bvshl`); shifting by `width` or more gives 0.
  public static func << (lhs: BitVec, rhs: BitVec) -> BitVec {
    lhs.arithmetic("bvshl", rhs, Z3_mk_bvshl)
  }
  /// Bitwise complement (`bvnot`).
  public static prefix func ~ (operand: BitVec) -> BitVec {
    operand.unary("bvnot", width: operand.width, Z3_mk_bvnot)
  }
  /// Two's-complement negation (`bvneg`).
  public static prefix func - (operand: BitVec) -> BitVec {
    operand.unary("bvneg", width: operand.width, Z3_mk_bvneg)
  }

  /// Unsigned division (`bvudiv`); division by zero gives all ones.
  public func udiv(_ other: BitVec) -> BitVec { arithmetic("bvudiv", other, Z3_mk_bvudiv) }
  /// Unsigned remainder (`bvurem`); `x urem 0` is `x`.
  public func urem(_ other: BitVec) -> BitVec { arithmetic("bvurem", other, Z3_mk_bvurem) }
  /// Signed division rounding toward zero (`bvsdiv`).
  public func sdiv(_ other: BitVec) -> BitVec { arithmetic("bvsdiv", other, Z3_mk_bvsdiv) }
  /// Signed remainder with the sign of the dividend (`bvsrem`).
  public func srem(_ other: BitVec) -> BitVec { arithmetic("bvsrem", other, Z3_mk_bvsrem) }
  /// Logical (unsigned) right shift (`bvlshr`).
  public func lshr(_ other: BitVec) -> BitVec { arithmetic("bvlshr", other, Z3_mk_bvlshr) }
  /// Arithmetic (signed) right shift (`bvashr`).
  public func ashr(_ other: BitVec) -> BitVec { arithmetic("bvashr", other, Z3_mk_bvashr) }

  // MARK: Comparisons

  /// Unsigned `<` (`bvult`).
  public func ult(_ other: BitVec) -> BoolTerm { comparison("bvult", other, Z3_mk_bvult) }
  /// Unsigned `≤` (`bvule`).
  public func ule(_ other: BitVec) -> BoolTerm { comparison("bvule", other, Z3_mk_bvule) }
  /// Unsigned `>` (`bvugt`).
  public func ugt(_ other: BitVec) -> BoolTerm { comparison("bvugt", other, Z3_mk_bvugt) }
  /// Unsigned `≥` (`bvuge`).
  public func uge(_ other: BitVec) -> BoolTerm { comparison("bvuge", other, Z3_mk_bvuge) }
  /// Signed `<` (`bvslt`).
  public func slt(_ other: BitVec) -> BoolTerm { comparison("bvslt", other, Z3_mk_bvslt) }
  /// Signed `≤` (`bvsle`).
  public func sle(_ other: BitVec) -> BoolTerm { comparison("bvsle", other, Z3_mk_bvsle) }
  /// Signed `>` (`bvsgt`).
  public func sgt(_ other: BitVec) -> BoolTerm { comparison("bvsgt", other, Z3_mk_bvsgt) }
  /// Signed `≥` (`bvsge`).
  public func sge(_ other: BitVec) -> BoolTerm { comparison("bvsge", other, Z3_mk_bvsge) }

  // MARK: Width changes

  /// Bits `high` down to `low` inclusive (`extract`), of width `high - low + 1`;
  /// poisoned unless `0 ≤ low ≤ high < width`.
  public func extract(high: Int, low: Int) -> BitVec {
    let resultWidth = high - low + 1
    guard 0 <= low, low <= high, high < width, let h = UInt32(exactly: high),
      let l = UInt32(exactly: low)
    else {
      return invalid(
        "extract", "bits \(high)...\(low) of a \(width)-bit vector", width: max(resultWidth, 0))
    }
    return unary("extract", width: resultWidth) { Z3_mk_extract($0, h, l, $1) }
  }

  /// `count` zero bits prepended (`zero_extend`).
  public func zeroExtend(by count: Int) -> BitVec {
    guard let n = UInt32(exactly: count) else {
      return invalid("zero_extend", "negative count \(count)", width: width)
    }
    return unary("zero_extend", width: width + count) { Z3_mk_zero_ext($0, n, $1) }
  }

  /// `count` copies of the sign bit prepended (`sign_extend`).
  public func signExtend(by count: Int) -> BitVec {
    guard let n = UInt32(exactly: count) else {
      return invalid("sign_extend", "negative count \(count)", width: width)
    }
    return unary("sign_extend", width: width + count) { Z3_mk_sign_ext($0, n, $1) }
  }

  /// `self` as the high bits and `low` as the low bits (`concat`).
  public func concat(_ low: BitVec) -> BitVec {
    BitVec(
      context.build("concat", [ast, low.ast]) { Z3_mk_concat(context.raw, $0[0], $0[1]) },
      width: width + low.width)
  }
}

extension Context {
  /// The bit-vector constant named `name`, of `width` bits.
  public func bitVec(_ name: String, width: Int) -> BitVec {
    let term: BitVec = constant(name, .bitVec(width: width))
    return BitVec(term.ast, width: width)
  }

  /// A bit-vector constant with a fresh name beginning with `prefix`.
  public func freshBitVec(_ prefix: String = "v", width: Int) -> BitVec {
    let term: BitVec = fresh(prefix, .bitVec(width: width))
    return BitVec(term.ast, width: width)
  }

  /// The literal `value` truncated to `width` bits.
  public func bitVec(_ value: UInt64, width: Int) -> BitVec {
    let truncated = width >= 64 ? value : value & ((1 << UInt64(max(width, 0))) &- 1)
    return BitVec(
      build("bitVec literal", [z3Sort(.bitVec(width: width))]) {
        Z3_mk_unsigned_int64(raw, truncated, $0[0])
      }, width: width)
  }

  /// The literal of `width` bits written as the decimal `numeral` (for widths past 64).
  /// Poisoned with Z3's error if `numeral` is not a numeral.
  public func bitVec(numeral: String, width: Int) -> BitVec {
    BitVec(
      build("bitVec numeral", [z3Sort(.bitVec(width: width))]) {
        Z3_mk_numeral(raw, numeral, $0[0])
      }, width: width)
  }
}
