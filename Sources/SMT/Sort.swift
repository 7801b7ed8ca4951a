/// The sorts this layer models: `Bool`, fixed-width bit-vectors and arrays.
public indirect enum Sort: Hashable, Sendable, CustomStringConvertible {
  /// `Bool`.
  case bool
  /// `(_ BitVec width)`; `width` must be at least 1.
  case bitVec(width: Int)
  /// `(Array index value)`.
  case array(index: Sort, value: Sort)

  /// SMT-LIB2 spelling.
  public var description: String {
    switch self {
    case .bool: "Bool"
    case .bitVec(let width): "(_ BitVec \(width))"
    case .array(let index, let value): "(Array \(index) \(value))"
    }
  }
}
