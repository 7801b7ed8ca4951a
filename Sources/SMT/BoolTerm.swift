import CZ3

/// A Boolean formula.
///
/// Operators: `!`, `&&`, `||` build formulas (both sides are always built; there is
/// no short-circuit). Equality is the method `eq(_:)` (from `Term`), not `==`.
public struct BoolTerm: Term {
  public let ast: AST

  /// Wraps `ast`, poisoned with `.sortMismatch` unless it is a Boolean expression.
  public init(_ ast: AST) {
    self.ast = Self.rejection(of: ast).map(ast.context.poisoned) ?? ast
  }

  /// Wraps an AST already known to be Boolean (or poisoned).
  init(unchecked ast: AST) { self.ast = ast }

  public static func accepts(_ sort: Sort) -> Bool { sort == .bool }

  public static var sortName: String { "Bool" }

  /// The value if the term is the literal `true` or `false` (e.g. after `simplified()`).
  public var boolValue: Bool? {
    guard let raw = ast.raw else { return nil }
    let value = Z3_get_bool_value(context.raw, raw)
    return value == Z3_L_TRUE ? true : value == Z3_L_FALSE ? false : nil
  }

  /// Negation (`Z3_mk_not`).
  public static prefix func ! (operand: BoolTerm) -> BoolTerm {
    let c = operand.context
    return BoolTerm(unchecked: c.build("not", [operand.ast]) { Z3_mk_not(c.raw, $0[0]) })
  }

  /// Conjunction (`Z3_mk_and`).
  public static func && (lhs: BoolTerm, rhs: BoolTerm) -> BoolTerm {
    lhs.context.and([lhs, rhs])
  }

  /// Disjunction (`Z3_mk_or`).
  public static func || (lhs: BoolTerm, rhs: BoolTerm) -> BoolTerm {
    lhs.context.or([lhs, rhs])
  }

  /// `self ⇒ other` (`Z3_mk_implies`).
  public func implies(_ other: BoolTerm) -> BoolTerm {
    BoolTerm(
      unchecked: context.build("implies", [ast, other.ast]) {
        Z3_mk_implies(context.raw, $0[0], $0[1])
      })
  }

  /// `self ⇔ other` (`Z3_mk_iff`).
  public func iff(_ other: BoolTerm) -> BoolTerm {
    BoolTerm(
      unchecked: context.build("iff", [ast, other.ast]) {
        Z3_mk_iff(context.raw, $0[0], $0[1])
      })
  }

  /// Exclusive or (`Z3_mk_xor`).
  public func xor(_ other: BoolTerm) -> BoolTerm {
    BoolTerm(
      unchecked: context.build("xor", [ast, other.ast]) {
        Z3_mk_xor(context.raw, $0[0], $0[1])
      })
  }
}

extension Context {
  /// The literal `true` or `false`.
  public func bool(_ value: Bool) -> BoolTerm {
    BoolTerm(
      unchecked: build("bool literal", []) { _ in
        value ? Z3_mk_true(raw) : Z3_mk_false(raw)
      })
  }

  /// The Boolean constant named `name`.
  public func bool(_ name: String) -> BoolTerm { constant(name, .bool) }

  /// A Boolean constant with a fresh name beginning with `prefix`.
  public func freshBool(_ prefix: String = "b") -> BoolTerm { fresh(prefix, .bool) }

  /// Conjunction of `terms`; `true` when empty.
  public func and(_ terms: [BoolTerm]) -> BoolTerm {
    BoolTerm(
      unchecked: build("and", terms.map(\.ast)) { raws in
        Z3_mk_and(raw, UInt32(raws.count), raws.map(Optional.some))
      })
  }

  /// Disjunction of `terms`; `false` when empty.
  public func or(_ terms: [BoolTerm]) -> BoolTerm {
    BoolTerm(
      unchecked: build("or", terms.map(\.ast)) { raws in
        Z3_mk_or(raw, UInt32(raws.count), raws.map(Optional.some))
      })
  }

  /// Pairwise distinctness of `terms` (`Z3_mk_distinct`); `true` for fewer than two.
  public func distinct<T: Term>(_ terms: [T]) -> BoolTerm {
    guard terms.count >= 2 else { return bool(true) }
    for term in terms.dropFirst() {
      if let error = terms[0].sortMismatch("distinct", term) {
        return BoolTerm(unchecked: poisoned(error))
      }
    }
    return BoolTerm(
      unchecked: build("distinct", terms.map(\.ast)) { raws in
        Z3_mk_distinct(raw, UInt32(raws.count), raws.map(Optional.some))
      })
  }

  /// `∀ bound. body`; every bound term must be a constant (e.g. from `bitVec(_:width:)`).
  public func forAll(_ bound: [any Term], _ body: BoolTerm) -> BoolTerm {
    quantifier("forAll", isForAll: true, bound, body)
  }

  /// `∃ bound. body`; every bound term must be a constant.
  public func exists(_ bound: [any Term], _ body: BoolTerm) -> BoolTerm {
    quantifier("exists", isForAll: false, bound, body)
  }

  private func quantifier(
    _ operation: String, isForAll: Bool, _ bound: [any Term], _ body: BoolTerm
  ) -> BoolTerm {
    for term in bound {
      guard let r = term.ast.raw, term.context === self else { continue }  // build reports it
      let isConstant =
        Z3_is_app(raw, r)
        && Z3_get_app_num_args(raw, Z3_to_app(raw, r)) == 0
        && Z3_get_decl_kind(raw, Z3_get_app_decl(raw, Z3_to_app(raw, r))) == Z3_OP_UNINTERPRETED
      if !isConstant {
        return BoolTerm(
          unchecked: poisoned(
            .invalidArgument(operation: operation, reason: "bound term \(term) is not a constant")))
      }
    }
    return BoolTerm(
      unchecked: build(operation, [body.ast] + bound.map(\.ast)) { raws in
        let apps: [OpaquePointer?] = raws.dropFirst().map { Z3_to_app(raw, $0) }
        return Z3_mk_quantifier_const(
          raw, isForAll, 0, UInt32(apps.count), apps, 0, nil, raws[0])
      })
  }
}
