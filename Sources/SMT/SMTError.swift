import CZ3

/// A Z3 error code: the C enum `Z3_error_code`, one named member per constant.
public struct Z3ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32

  public init(rawValue: UInt32) { self.rawValue = rawValue }

  init(_ code: Z3_error_code) { self.rawValue = code.rawValue }

  /// `Z3_SORT_ERROR`: an operand has the wrong sort. (Z3 4.8.12 reports sort errors
  /// in term construction as `exception` instead; this layer checks sorts itself.)
  public static let sortError = Z3ErrorCode(Z3_SORT_ERROR)
  /// `Z3_IOB`: index out of bounds.
  public static let indexOutOfBounds = Z3ErrorCode(Z3_IOB)
  /// `Z3_INVALID_ARG`: an invalid argument.
  public static let invalidArgument = Z3ErrorCode(Z3_INVALID_ARG)
  /// `Z3_PARSER_ERROR`: SMT-LIB2 text did not parse.
  public static let parserError = Z3ErrorCode(Z3_PARSER_ERROR)
  /// `Z3_INVALID_USAGE`: the call is invalid in the current state (e.g. popping too far).
  public static let invalidUsage = Z3ErrorCode(Z3_INVALID_USAGE)
  /// `Z3_MEMOUT_FAIL`: a memory allocation failed.
  public static let memoryOut = Z3ErrorCode(Z3_MEMOUT_FAIL)
  /// `Z3_EXCEPTION`: an internal Z3 exception; the message has the details.
  public static let exception = Z3ErrorCode(Z3_EXCEPTION)

  public var description: String {
    switch Z3_error_code(rawValue) {
    case Z3_OK: "Z3_OK"
    case Z3_SORT_ERROR: "Z3_SORT_ERROR"
    case Z3_IOB: "Z3_IOB"
    case Z3_INVALID_ARG: "Z3_INVALID_ARG"
    case Z3_PARSER_ERROR: "Z3_PARSER_ERROR"
    case Z3_NO_PARSER: "Z3_NO_PARSER"
    case Z3_INVALID_PATTERN: "Z3_INVALID_PATTERN"
    case Z3_MEMOUT_FAIL: "Z3_MEMOUT_FAIL"
    case Z3_FILE_ACCESS_ERROR: "Z3_FILE_ACCESS_ERROR"
    case Z3_INTERNAL_FATAL: "Z3_INTERNAL_FATAL"
    case Z3_INVALID_USAGE: "Z3_INVALID_USAGE"
    case Z3_DEC_REF_ERROR: "Z3_DEC_REF_ERROR"
    case Z3_EXCEPTION: "Z3_EXCEPTION"
    default: "Z3 error \(rawValue)"
    }
  }
}

/// Everything that can go wrong in this module. Nothing here aborts the process:
/// Z3's own errors are caught by the context's error handler and come back as `.z3`.
public enum SMTError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Z3 reported an error; `message` is Z3's text (`Z3_get_error_msg`).
  case z3(code: Z3ErrorCode, message: String)
  /// Operands of `operation` have incompatible sorts (found before calling Z3).
  case sortMismatch(operation: String, expected: String, found: String)
  /// Operands of `operation` belong to different contexts.
  case contextMismatch(operation: String)
  /// An argument of `operation` is out of range, e.g. `extract` bounds.
  case invalidArgument(operation: String, reason: String)
  /// The solver gave up because its time limit expired.
  case timeout
  /// The solver answered `unknown` for a reason other than the time limit.
  case unknown(reason: String)
  /// Model evaluation produced `term`, which is not a literal value.
  case notAValue(term: String)

  public var description: String {
    switch self {
    case .z3(let code, let message): "\(code): \(message)"
    case .sortMismatch(let op, let expected, let found):
      "\(op): sort mismatch, expected \(expected), found \(found)"
    case .contextMismatch(let op): "\(op): operands belong to different contexts"
    case .invalidArgument(let op, let reason): "\(op): \(reason)"
    case .timeout: "timeout"
    case .unknown(let reason): "unknown: \(reason)"
    case .notAValue(let term): "not a value: \(term)"
    }
  }
}
