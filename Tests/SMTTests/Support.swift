import SMT
import Testing

/// Deterministic pseudo-random numbers (SplitMix64), so failures replay exactly.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

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
