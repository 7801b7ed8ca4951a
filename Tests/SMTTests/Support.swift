import ExoABI
import SMT
import Testing

/// The low `width` bits of `value`.
func truncate(_ value: UInt64, _ width: Int) -> UInt64 {
  width >= 64 ? value : value & ((1 << UInt64(width)) - 1)
}

/// The value of a ground bit-vector term, computed by Z3's simplifier.
func concrete(_ term: BitVec, sourceLocation: SourceLocation = #_sourceLocation) throws -> UInt64 {
  #expect(term.error == nil, sourceLocation: sourceLocation)
  return try #require(term.simplified().uint64Value, "\(term)", sourceLocation: sourceLocation)
}

/// The value of a ground Boolean term, computed by Z3's simplifier.
func concrete(_ term: BoolTerm, sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
  #expect(term.error == nil, sourceLocation: sourceLocation)
  let value = term.simplified().boolValue
  try #require(value != nil, "\(term)", sourceLocation: sourceLocation)
  return value == true
}
