import CZ3

/// The reference-counted handle under every term, sort and declaration.
///
/// A handle is either *valid* (it owns one Z3 reference, taken with `Z3_inc_ref` on
/// creation and dropped with `Z3_dec_ref` on deinit) or *poisoned*: building it failed,
/// and it carries the error instead. Poison propagates like NaN: any term built from a
/// poisoned operand is poisoned with the same error, and `Solver.assert`,
/// `Solver.check` and `Model` evaluation throw it. This keeps the operators
/// non-throwing while never losing an error.
///
/// A handle keeps its `Context` alive.
public final class AST: CustomStringConvertible {
  /// The context the handle belongs to.
  public let context: Context

  private enum State {
    case valid(OpaquePointer)
    case poisoned(SMTError)
  }

  private let state: State

  /// Takes a new reference to `raw` (a `Z3_ast`, `Z3_sort` or `Z3_func_decl`).
  init(context: Context, retaining raw: OpaquePointer) {
    self.context = context
    Z3_inc_ref(context.raw, raw)
    state = .valid(raw)
  }

  /// A poisoned handle carrying `error`.
  init(context: Context, poisoned error: SMTError) {
    self.context = context
    state = .poisoned(error)
  }

  deinit {
    if case .valid(let raw) = state { Z3_dec_ref(context.raw, raw) }
  }

  /// The Z3 pointer, or nil when poisoned.
  var raw: OpaquePointer? {
    if case .valid(let raw) = state { return raw }
    return nil
  }

  /// The error that poisoned this handle, or nil when it is valid.
  public var error: SMTError? {
    if case .poisoned(let error) = state { return error }
    return nil
  }

  /// SMT-LIB2 text of the AST (`Z3_ast_to_string`), or `<error: …>` when poisoned.
  public var description: String {
    switch state {
    case .valid(let raw): context.string(Z3_ast_to_string(context.raw, raw))
    case .poisoned(let error): "<error: \(error)>"
    }
  }

  /// Whether both handles are the same Z3 AST (`Z3_is_eq_ast`): structural identity
  /// after hash-consing, not logical equivalence.
  public func isIdentical(to other: AST) -> Bool {
    guard let a = raw, let b = other.raw, context === other.context else { return false }
    return Z3_is_eq_ast(context.raw, a, b)
  }
}
