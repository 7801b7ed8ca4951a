import CZ3

/// An array term from bit-vector indices to `Value`s (`BitVec` or `BoolTerm`, or
/// nested `ArrayTerm`s): SMT-LIB2 `(Array (_ BitVec n) V)`.
public struct ArrayTerm<Value: Term>: Term {
  public let ast: AST

  /// Wraps `ast`, poisoned with `.sortMismatch` unless it is an array with bit-vector
  /// indices and values accepted by `Value`.
  public init(_ ast: AST) {
    self.ast = Self.rejection(of: ast).map(ast.context.poisoned) ?? ast
  }

  public static func accepts(_ sort: Sort) -> Bool {
    guard case .array(.bitVec, let value) = sort else { return false }
    return Value.accepts(value)
  }

  public static var sortName: String { "(Array (_ BitVec n) \(Value.sortName))" }

  /// The element at `index` (`select`); poisoned if `index` has the wrong width.
  public func select(_ index: BitVec) -> Value {
    Value(checked("select", index, nil) { Z3_mk_select(context.raw, $0[0], $0[1]) })
  }

  /// The element at `index`; same as `select(_:)`.
  public subscript(_ index: BitVec) -> Value { select(index) }

  /// The array with `value` at `index` (`store`); poisoned if `index` or `value` has
  /// the wrong sort.
  public func store(_ index: BitVec, _ value: Value) -> ArrayTerm {
    ArrayTerm(checked("store", index, value) { Z3_mk_store(context.raw, $0[0], $0[1], $0[2]) })
  }

  /// Builds from the array, `index` and `value` (if any) after checking them against
  /// the array's sort, so a mismatch is a `.sortMismatch` rather than a Z3 error.
  private func checked(
    _ operation: String, _ index: BitVec, _ value: Value?,
    _ make: ([OpaquePointer]) -> OpaquePointer?
  ) -> AST {
    let operands = [ast, index.ast] + (value.map { [$0.ast] } ?? [])
    if let error = operands.lazy.compactMap(\.error).first { return context.poisoned(error) }
    if case .array(let domain, let range)? = sort {
      for (expected, term) in [(domain, index as any Term)] + (value.map { [(range, $0)] } ?? []) {
        if let found = term.sort, found != expected {
          return context.poisoned(
            .sortMismatch(operation: operation, expected: "\(expected)", found: "\(found)"))
        }
      }
    }
    return context.build(operation, operands, make)
  }
}

extension Context {
  /// The array constant named `name`, from `indexWidth`-bit to `valueWidth`-bit vectors.
  public func array(_ name: String, indexWidth: Int, valueWidth: Int) -> ArrayTerm<BitVec> {
    constant(name, .array(index: .bitVec(width: indexWidth), value: .bitVec(width: valueWidth)))
  }

  /// The array constant named `name`, from `indexWidth`-bit vectors to Booleans.
  public func boolArray(_ name: String, indexWidth: Int) -> ArrayTerm<BoolTerm> {
    constant(name, .array(index: .bitVec(width: indexWidth), value: .bool))
  }

  /// The array mapping every `indexWidth`-bit index to `value` (`Z3_mk_const_array`).
  public func constantArray<V: Term>(indexWidth: Int, value: V) -> ArrayTerm<V> {
    ArrayTerm(
      build("const array", [z3Sort(.bitVec(width: indexWidth)), value.ast]) {
        Z3_mk_const_array(raw, $0[0], $0[1])
      })
  }
}
