import CZ3

/// The answer of `Solver.check`.
public enum CheckResult {
  /// Satisfiable, with a model.
  case sat(Model)
  /// Unsatisfiable.
  case unsat
  /// Z3 gave up; `reason` is `Z3_solver_get_reason_unknown`. Z3 4.8.12 is not
  /// consistent here: a timeout reads "timeout" or "canceled", a resource limit
  /// "max. resource limit exceeded" or "canceled", depending on the solver's mode.
  case unknown(reason: String)
}

/// The answer of `Solver.prove`.
public enum ProofResult {
  /// The claim holds in every model of the solver's assertions.
  case proven
  /// A model of the assertions in which the claim is false.
  case counterexample(Model)
}

/// An incremental Z3 solver (a reference-counted `Z3_solver`).
///
/// Poisoned assertions do not reach Z3: the first one's error is kept and thrown by
/// `check` (and `prove`) until the scope it was asserted in is popped, or `reset()`.
public final class Solver: CustomStringConvertible {
  /// The context the solver belongs to.
  public let context: Context
  private let raw: OpaquePointer
  /// The first poisoned assertion's error, with the scope level it was asserted at.
  private var pendingError: (error: SMTError, level: Int)?
  /// Whether a time limit (and no resource limit) is set, so that Z3's answer
  /// "canceled" means a timeout.
  private var hasTimeout = false
  private var hasResourceLimit = false

  /// A solver for `logic` (an SMT-LIB2 logic name such as "QF_BV"), or Z3's default
  /// combined solver when nil. Applies the context's `randomSeed`, if any.
  public init(context: Context, logic: String? = nil) throws {
    self.context = context
    let c = context.raw
    raw = try context.callNonNull("Z3_mk_solver") {
      if let logic {
        Z3_mk_solver_for_logic(c, Z3_mk_string_symbol(c, logic))
      } else {
        Z3_mk_solver(c)
      }
    }
    Z3_solver_inc_ref(c, raw)
    if let seed = context.randomSeed {
      try setParameters(["random_seed": seed])
    }
  }

  deinit { Z3_solver_dec_ref(context.raw, raw) }

  /// Sets unsigned solver parameters (`Z3_solver_set_params`); an unknown name is a
  /// thrown `.z3` error.
  public func setParameters(_ parameters: [String: UInt32]) throws {
    let c = context.raw
    // Z3 validates parameter names only once the solver object exists, which is
    // otherwise at the first assert or check; asking for the scope count creates it
    // now, so a bad name is reported here rather than by `check`.
    _ = Z3_solver_get_num_scopes(c, raw)
    let params = try context.callNonNull("Z3_mk_params") { Z3_mk_params(c) }
    Z3_params_inc_ref(c, params)
    defer { Z3_params_dec_ref(c, params) }
    for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
      try context.call { Z3_params_set_uint(c, params, Z3_mk_string_symbol(c, name), value) }
    }
    try context.call { Z3_solver_set_params(c, raw, params) }
  }

  /// Limits each `check` to `milliseconds` of wall-clock time (the "timeout" parameter);
  /// past it, `check` answers `.unknown` and `prove` throws `.timeout`.
  public func setTimeout(milliseconds: UInt32) throws {
    try setParameters(["timeout": milliseconds])
    hasTimeout = true
  }

  /// Limits each `check` to `limit` resource units ("rlimit"): unlike a timeout, where
  /// it gives up does not depend on machine speed.
  public func setResourceLimit(_ limit: UInt32) throws {
    try setParameters(["rlimit": limit])
    hasResourceLimit = true
  }

  /// Adds `term` as an assertion (`Z3_solver_assert`).
  public func assert(_ term: BoolTerm) {
    if let error = term.error ?? contextError(term) {
      if pendingError == nil { pendingError = (error, scopeLevel) }
      return
    }
    guard let t = term.ast.raw else { return }
    withExtendedLifetime(term) { Z3_solver_assert(context.raw, raw, t) }
    if let error = context.lastError(), pendingError == nil { pendingError = (error, scopeLevel) }
  }

  /// Adds each of `terms` as an assertion.
  public func assert(_ terms: [BoolTerm]) { terms.forEach { assert($0) } }

  /// Opens a scope (`Z3_solver_push`).
  public func push() { Z3_solver_push(context.raw, raw) }

  /// Closes `count` scopes (`Z3_solver_pop`), dropping their assertions; throws
  /// `.invalidArgument` when fewer scopes are open.
  public func pop(_ count: Int = 1) throws {
    guard count >= 0, count <= scopeLevel, let n = UInt32(exactly: count) else {
      throw SMTError.invalidArgument(
        operation: "pop", reason: "\(count) scopes requested, \(scopeLevel) open")
    }
    try context.call { Z3_solver_pop(context.raw, raw, n) }
    if let pending = pendingError, pending.level > scopeLevel { pendingError = nil }
  }

  /// Number of open scopes.
  public var scopeLevel: Int { Int(Z3_solver_get_num_scopes(context.raw, raw)) }

  /// Removes all assertions and scopes, and any pending error (`Z3_solver_reset`).
  public func reset() {
    Z3_solver_reset(context.raw, raw)
    pendingError = nil
  }

  /// Checks the assertions, together with `assumptions` for this call only.
  /// Throws the first poisoned assertion's error, or a Z3 error.
  public func check(assumptions: [BoolTerm] = []) throws -> CheckResult {
    if let pending = pendingError { throw pending.error }
    for assumption in assumptions {
      if let error = assumption.error ?? contextError(assumption) { throw error }
    }
    let raws: [OpaquePointer?] = assumptions.map(\.ast.raw)
    let c = context.raw
    let answer = try withExtendedLifetime(assumptions) {
      try context.call {
        raws.isEmpty
          ? Z3_solver_check(c, raw) : Z3_solver_check_assumptions(c, raw, UInt32(raws.count), raws)
      }
    }
    if answer == Z3_L_FALSE { return .unsat }
    if answer == Z3_L_TRUE {
      let model = try context.callNonNull("Z3_solver_get_model") { Z3_solver_get_model(c, raw) }
      return .sat(Model(context: context, retaining: model))
    }
    return .unknown(reason: reasonUnknown)
  }

  /// Checks whether `claim` follows from the assertions, by checking them with the
  /// assumption `!claim`. Throws when Z3 gives up, so the decided answers are the only
  /// results: `.timeout` for the reason "timeout", or "canceled" when only a time limit
  /// is set (Z3 4.8.12 reports a timeout as "canceled" once the solver is incremental);
  /// otherwise `.unknown(reason:)`.
  public func prove(_ claim: BoolTerm) throws -> ProofResult {
    let result = try check(assumptions: [!claim])
    switch result {
    case .unsat: return .proven
    case .sat(let model): return .counterexample(model)
    case .unknown(let reason):
      let canceledByTimer = hasTimeout && !hasResourceLimit && reason == "canceled"
      if reason == "timeout" || canceledByTimer { throw SMTError.timeout }
      throw SMTError.unknown(reason: reason)
    }
  }

  /// Why the last `check` answered unknown (`Z3_solver_get_reason_unknown`).
  public var reasonUnknown: String {
    context.string(Z3_solver_get_reason_unknown(context.raw, raw))
  }

  /// The subset of the last `check`'s assumptions used to prove unsat.
  public func unsatCore() throws -> [BoolTerm] {
    let c = context.raw
    let vector = try context.callNonNull("Z3_solver_get_unsat_core") {
      Z3_solver_get_unsat_core(c, raw)
    }
    return context.terms(of: vector).map(BoolTerm.init(unchecked:))
  }

  /// The current assertions (`Z3_solver_get_assertions`).
  public var assertions: [BoolTerm] {
    let c = context.raw
    guard
      let vector = try? context.callNonNull(
        "Z3_solver_get_assertions", { Z3_solver_get_assertions(c, raw) })
    else {
      return []
    }
    return context.terms(of: vector).map(BoolTerm.init(unchecked:))
  }

  /// The assertions as an SMT-LIB2 script, with declarations (`Z3_solver_to_string`).
  public func smtlib2() -> String { context.string(Z3_solver_to_string(context.raw, raw)) }

  /// Same as `smtlib2()`.
  public var description: String { smtlib2() }

  /// Statistics of the last `check` (`Z3_solver_get_statistics`), by Z3's key names.
  public func statistics() -> [String: Double] {
    let c = context.raw
    guard let stats = Z3_solver_get_statistics(c, raw) else { return [:] }
    Z3_stats_inc_ref(c, stats)
    defer { Z3_stats_dec_ref(c, stats) }
    var result: [String: Double] = [:]
    for i in 0..<Z3_stats_size(c, stats) {
      let key = context.string(Z3_stats_get_key(c, stats, i))
      result[key] =
        Z3_stats_is_uint(c, stats, i)
        ? Double(Z3_stats_get_uint_value(c, stats, i)) : Z3_stats_get_double_value(c, stats, i)
    }
    return result
  }

  private func contextError(_ term: BoolTerm) -> SMTError? {
    term.context === context ? nil : .contextMismatch(operation: "Solver")
  }
}
