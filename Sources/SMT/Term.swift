import CZ3

/// A typed view of an `AST` expression: `BoolTerm`, `BitVec` or `ArrayTerm`.
///
/// Terms are cheap values (one reference to a shared `AST`). Equality of terms is the
/// SMT formula `eq(_:)`, not Swift `==`, so terms are deliberately not `Equatable`.
public protocol Term: CustomStringConvertible {
  /// The underlying handle.
  var ast: AST { get }

  /// Wraps `ast`; the result is poisoned with `.sortMismatch` if `accepts` rejects the
  /// sort of `ast`, and keeps the error of a poisoned `ast`.
  init(_ ast: AST)

  /// Whether expressions of `sort` can be viewed as `Self`.
  static func accepts(_ sort: Sort) -> Bool

  /// Human-readable name of the accepted sorts, for error messages.
  static var sortName: String { get }
}

extension Term {
  /// The context the term belongs to.
  public var context: Context { ast.context }

  /// The error that poisoned this term, or nil when it is valid.
  public var error: SMTError? { ast.error }

  /// The term's sort, or nil when poisoned or not modelled by `Sort`.
  public var sort: Sort? {
    guard let raw = ast.raw, let s = Z3_get_sort(context.raw, raw) else { return nil }
    return context.sort(ofRawSort: s)
  }

  /// SMT-LIB2 text of the term (`Z3_ast_to_string`).
  public var description: String { ast.description }

  /// Checks `ast` against `Self`, as the public `init(_:)` does: returns the error to
  /// poison with, or nil if `ast` may be wrapped.
  static func rejection(of ast: AST) -> SMTError? {
    guard let raw = ast.raw else { return nil }
    let context = ast.context
    if let s = Z3_get_sort(context.raw, raw), let sort = context.sort(ofRawSort: s), accepts(sort) {
      return nil
    }
    return .sortMismatch(
      operation: "\(Self.self)", expected: sortName, found: context.sortName(ast))
  }

  /// The formula `self = other` (`Z3_mk_eq`); poisoned if the sorts differ.
  public func eq(_ other: Self) -> BoolTerm {
    BoolTerm(unchecked: sameSort("eq", other) { Z3_mk_eq(context.raw, $0[0], $0[1]) })
  }

  /// The formula `self ≠ other`.
  public func ne(_ other: Self) -> BoolTerm { context.distinct([self, other]) }

  /// Z3's simplification of the term (`Z3_simplify`); on ground terms this computes
  /// the value, e.g. a bit-vector literal.
  public func simplified() -> Self {
    Self(context.build("simplify", [ast]) { Z3_simplify(context.raw, $0[0]) })
  }

  /// The term with each `from` replaced by its `to` (`Z3_substitute`); poisoned if a
  /// pair has different sorts.
  public func substituting(_ pairs: [(from: any Term, to: any Term)]) -> Self {
    for pair in pairs {
      if let error = pair.from.sortMismatch("substitute", pair.to) {
        return Self(context.poisoned(error))
      }
    }
    let operands = [ast] + pairs.map(\.from.ast) + pairs.map(\.to.ast)
    let n = pairs.count
    return Self(
      context.build("substitute", operands) { raws in
        let from: [OpaquePointer?] = Array(raws[1...n])
        let to: [OpaquePointer?] = Array(raws[(n + 1)...])
        return Z3_substitute(context.raw, raws[0], UInt32(n), from, to)
      })
  }

  /// `.sortMismatch` if `self` and `other` are valid terms of different sorts.
  func sortMismatch(_ operation: String, _ other: any Term) -> SMTError? {
    guard let a = ast.raw, let b = other.ast.raw, context === other.context,
      let sa = Z3_get_sort(context.raw, a), let sb = Z3_get_sort(context.raw, b),
      !Z3_is_eq_sort(context.raw, sa, sb)
    else { return nil }
    return .sortMismatch(
      operation: operation, expected: context.sortName(ast), found: context.sortName(other.ast))
  }

  /// Builds from `self` and `other` after checking they have the same sort, so a
  /// mismatch is reported as `.sortMismatch` rather than as a Z3 error.
  func sameSort(
    _ operation: String, _ other: any Term, _ make: ([OpaquePointer]) -> OpaquePointer?
  ) -> AST {
    if let error = sortMismatch(operation, other) { return context.poisoned(error) }
    return context.build(operation, [ast, other.ast], make)
  }
}

/// `if condition then a else b` (`Z3_mk_ite`); poisoned if `a` and `b` differ in sort.
public func ite<T: Term>(_ condition: BoolTerm, _ a: T, _ b: T) -> T {
  let context = a.context
  if let error = a.sortMismatch("ite", b) { return T(context.poisoned(error)) }
  return T(
    context.build("ite", [condition.ast, a.ast, b.ast]) {
      Z3_mk_ite(context.raw, $0[0], $0[1], $0[2])
    })
}
