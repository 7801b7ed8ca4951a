import CZ3

/// A satisfying assignment returned by `Solver.check` (a reference-counted `Z3_model`).
///
/// `eval` gives concrete Swift values: `Bool`, `UInt64` for bit-vectors of at most 64
/// bits, or a decimal `String` for any width (`evalNumeral`).
public final class Model: CustomStringConvertible {
  /// The context the model belongs to.
  public let context: Context
  private let raw: OpaquePointer

  init(context: Context, retaining raw: OpaquePointer) {
    self.context = context
    self.raw = raw
    Z3_model_inc_ref(context.raw, raw)
  }

  deinit { Z3_model_dec_ref(context.raw, raw) }

  /// The model as Z3 prints it (`Z3_model_to_string`).
  public var description: String { context.string(Z3_model_to_string(context.raw, raw)) }

  /// `term` evaluated in the model (`Z3_model_eval`). With `completion`, constants the
  /// model leaves open get default values, so the result is a literal.
  public func evaluate<T: Term>(_ term: T, completion: Bool = true) throws -> T {
    if let error = term.error { throw error }
    guard term.context === context, let t = term.ast.raw else {
      throw SMTError.contextMismatch(operation: "Model.evaluate")
    }
    var result: OpaquePointer?
    let ok = try withExtendedLifetime(term) {
      try context.call { Z3_model_eval(context.raw, raw, t, completion, &result) }
    }
    guard ok, let result else {
      throw SMTError.z3(code: .exception, message: "Z3_model_eval failed on \(term)")
    }
    return T(AST(context: context, retaining: result))
  }

  /// The truth value of `term` in the model.
  public func eval(_ term: BoolTerm, completion: Bool = true) throws -> Bool {
    let value = try evaluate(term, completion: completion)
    guard let bool = Self.bool(value.ast) else { throw SMTError.notAValue(term: "\(value)") }
    return bool
  }

  /// The value of `term` (at most 64 bits wide) in the model.
  public func eval(_ term: BitVec, completion: Bool = true) throws -> UInt64 {
    guard term.width <= 64 else {
      throw SMTError.invalidArgument(
        operation: "Model.eval", reason: "\(term.width)-bit value; use evalNumeral")
    }
    let value = try evaluate(term, completion: completion)
    guard let result = value.uint64Value else { throw SMTError.notAValue(term: "\(value)") }
    return result
  }

  /// The value of `term` (any width) in the model, as an unsigned decimal numeral.
  public func evalNumeral(_ term: BitVec, completion: Bool = true) throws -> String {
    let value = try evaluate(term, completion: completion)
    guard let numeral = Self.numeral(value.ast) else { throw SMTError.notAValue(term: "\(value)") }
    return numeral
  }

  // MARK: Constants

  /// A model value, as concrete as this layer can make it.
  public enum Value: Equatable, Sendable {
    /// A Boolean.
    case bool(Bool)
    /// A bit-vector as an unsigned decimal numeral.
    case bitVec(width: Int, numeral: String)
    /// Anything else (arrays, functions), as Z3 prints it.
    case other(String)
  }

  /// One constant the model assigns.
  public struct Constant: Equatable, Sendable {
    /// The constant's name.
    public let name: String
    /// Its value.
    public let value: Value
  }

  /// The constants (nullary declarations) the model assigns, in Z3's order.
  public var constants: [Constant] {
    let c = context.raw
    return (0..<Z3_model_get_num_consts(c, raw)).compactMap { i in
      guard let decl = Z3_model_get_const_decl(c, raw, i) else { return nil }
      let name = context.string(Z3_get_symbol_string(c, Z3_get_decl_name(c, decl)))
      guard let interp = Z3_model_get_const_interp(c, raw, decl) else { return nil }
      let value = AST(context: context, retaining: interp)
      return Constant(name: name, value: Self.value(value))
    }
  }

  private static func value(_ ast: AST) -> Value {
    if let bool = bool(ast) { return .bool(bool) }
    if let numeral = numeral(ast), case .bitVec(let width)? = BitVec(ast).sort {
      return .bitVec(width: width, numeral: numeral)
    }
    return .other(ast.description)
  }

  private static func bool(_ ast: AST) -> Bool? { BoolTerm(unchecked: ast).boolValue }

  private static func numeral(_ ast: AST) -> String? { BitVec(ast).numeralValue }
}
