import CZ3

/// A Z3 context: the owner of every term, sort, solver and model made from it.
///
/// Made with `Z3_mk_context_rc`, so every object is reference counted by this layer,
/// and with an error handler that ignores errors: a failing Z3 call returns null, its
/// error code is read right after the call, and the failure comes back as an
/// `SMTError` (thrown, or carried by a poisoned `AST`). Z3 never aborts the process.
///
/// Thread safety: a context and everything made from it must stay on one thread at a
/// time; the types are deliberately not `Sendable`. Contexts are independent, so
/// proof obligations can run in parallel with one context each.
public final class Context {
  /// The `Z3_context`.
  let raw: OpaquePointer
  /// Seed given to every solver of this context (the solver parameter `random_seed`),
  /// or nil for Z3's default (which is itself deterministic).
  public let randomSeed: UInt32?
  /// Sorts made so far, each holding one Z3 reference until the context is deleted.
  /// Raw pointers, not `AST`s: an `AST` retains its context, which would be a cycle.
  private var sorts: [Sort: OpaquePointer] = [:]

  /// Makes a context; `randomSeed` fixes the seed of its solvers.
  public init(randomSeed: UInt32? = nil) throws {
    guard let config = Z3_mk_config() else {
      throw SMTError.z3(code: .memoryOut, message: "Z3_mk_config returned null")
    }
    defer { Z3_del_config(config) }
    Z3_set_param_value(config, "model", "true")
    guard let raw = Z3_mk_context_rc(config) else {
      throw SMTError.z3(code: .memoryOut, message: "Z3_mk_context_rc returned null")
    }
    // Errors are read with Z3_get_error_code after each call; never abort.
    Z3_set_error_handler(raw) { _, _ in }
    self.raw = raw
    self.randomSeed = randomSeed
  }

  deinit { Z3_del_context(raw) }

  // MARK: Error plumbing (the one place Z3 error codes are read)

  /// The error left by the last Z3 call on this context, if any.
  func lastError() -> SMTError? {
    let code = Z3_get_error_code(raw)
    guard code != Z3_OK else { return nil }
    return .z3(code: Z3ErrorCode(code), message: string(Z3_get_error_msg(raw, code)))
  }

  /// Runs one Z3 call and throws the error it left, if any.
  func call<R>(_ body: () -> R) throws -> R {
    let result = body()
    if let error = lastError() { throw error }
    return result
  }

  /// Runs one Z3 call returning a pointer; throws its error, or if it returned null.
  func callNonNull(_ what: String, _ body: () -> OpaquePointer?) throws -> OpaquePointer {
    let result = body()
    if let error = lastError() { throw error }
    guard let result else { throw SMTError.z3(code: .exception, message: "\(what) returned null") }
    return result
  }

  /// Builds an AST from `operands`, which `make` receives as raw pointers in order.
  /// The result is poisoned if an operand is poisoned or foreign, or if Z3 fails.
  func build(
    _ operation: String, _ operands: [AST], _ make: ([OpaquePointer]) -> OpaquePointer?
  ) -> AST {
    var raws: [OpaquePointer] = []
    raws.reserveCapacity(operands.count)
    for operand in operands {
      if let error = operand.error { return AST(context: self, poisoned: error) }
      guard operand.context === self, let raw = operand.raw else {
        return poisoned(.contextMismatch(operation: operation))
      }
      raws.append(raw)
    }
    // Keep the operands alive across the check: a deinit in between would call
    // Z3_dec_ref, which resets the error code.
    return withExtendedLifetime(operands) {
      let result = make(raws)
      if let error = lastError() { return AST(context: self, poisoned: error) }
      guard let result else {
        return poisoned(.z3(code: .exception, message: "\(operation) returned null"))
      }
      return AST(context: self, retaining: result)
    }
  }

  /// A poisoned handle in this context.
  func poisoned(_ error: SMTError) -> AST { AST(context: self, poisoned: error) }

  /// Copies a string Z3 returned (valid only until the next call).
  func string(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
  }

  // MARK: Sorts

  /// The Z3 sort for `sort`, made once per context; poisoned for a zero width.
  func z3Sort(_ sort: Sort) -> AST {
    if let cached = sorts[sort] { return AST(context: self, retaining: cached) }
    let made: AST
    switch sort {
    case .bool:
      made = build("Bool", []) { _ in Z3_mk_bool_sort(raw) }
    case .bitVec(let width):
      guard let w = UInt32(exactly: width), w > 0 else {
        return poisoned(.invalidArgument(operation: "BitVec sort", reason: "width \(width) < 1"))
      }
      made = build("BitVec sort", []) { _ in Z3_mk_bv_sort(raw, w) }
    case .array(let index, let value):
      made = build("Array sort", [z3Sort(index), z3Sort(value)]) {
        Z3_mk_array_sort(raw, $0[0], $0[1])
      }
    }
    if let made = made.raw {
      Z3_inc_ref(raw, made)  // the cache's reference, dropped by Z3_del_context
      sorts[sort] = made
    }
    return made
  }

  /// The `Sort` of a raw Z3 sort, or nil for sorts this layer does not model.
  func sort(ofRawSort s: OpaquePointer) -> Sort? {
    let kind = Z3_get_sort_kind(raw, s)
    if kind == Z3_BOOL_SORT { return .bool }
    if kind == Z3_BV_SORT { return .bitVec(width: Int(Z3_get_bv_sort_size(raw, s))) }
    if kind == Z3_ARRAY_SORT,
      let domain = Z3_get_array_sort_domain(raw, s),
      let range = Z3_get_array_sort_range(raw, s),
      let index = sort(ofRawSort: domain), let value = sort(ofRawSort: range)
    {
      return .array(index: index, value: value)
    }
    return nil
  }

  /// The SMT-LIB2 name of the sort of `ast` (for error messages).
  func sortName(_ ast: AST) -> String {
    guard let a = ast.raw, let s = Z3_get_sort(raw, a) else { return "<error>" }
    return string(Z3_sort_to_string(raw, s))
  }

  // MARK: Constants

  /// A named constant of `sort`; terms with the same name and sort are the same term
  /// (also across SMT-LIB2 text parsed in this context). Poisoned when `T` cannot hold
  /// `sort`.
  public func constant<T: Term>(_ name: String, _ sort: Sort) -> T {
    T(
      build("constant \(name)", [z3Sort(sort)]) {
        Z3_mk_const(raw, Z3_mk_string_symbol(raw, name), $0[0])
      })
  }

  /// A constant of `sort` with a fresh name beginning with `prefix`.
  public func fresh<T: Term>(_ prefix: String, _ sort: Sort) -> T {
    T(build("fresh \(prefix)", [z3Sort(sort)]) { Z3_mk_fresh_const(raw, prefix, $0[0]) })
  }
}
