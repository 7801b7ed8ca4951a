import SMT
import Testing

/// When Z3 gives up, the answer is unknown (or a thrown `.timeout`), never sat/unsat.
@Suite struct UnknownTests {
  /// 2^127 - 1 is prime, so this asks for a factorization that does not exist; no
  /// solver refutes a 64×64-bit multiplier in a millisecond.
  static func factoring(_ context: Context) -> BoolTerm {
    let (a, b) = (context.bitVec("a", width: 64), context.bitVec("b", width: 64))
    let product = a.zeroExtend(by: 64) * b.zeroExtend(by: 64)
    let mersenne127 = context.bitVec(numeral: "170141183460469231731687303715884105727", width: 128)
    return product.eq(mersenne127) && a.ugt(a.literal(1)) && b.ugt(b.literal(1))
  }

  @Test func timeoutAnswersUnknown() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    try solver.setTimeout(milliseconds: 1)
    solver.push()
    solver.assert(Self.factoring(context))
    for _ in 0..<2 {  // again, now that the solver is in incremental mode
      try expectUnknown(solver.check(), solver)
    }
    // The solver stays usable once the hard assertion is gone (with a
    // timeout a loaded host cannot hit on an empty problem).
    try solver.pop()
    try solver.setTimeout(milliseconds: 60_000)
    guard case .sat = try solver.check() else {
      Issue.record("an empty solver should be sat after a timeout")
      return
    }
  }

  func expectUnknown(_ result: CheckResult, _ solver: Solver) {
    switch result {
    case .unknown(let reason):
      #expect(reason == "timeout" || reason == "canceled", "reason: \(reason)")
      #expect(solver.reasonUnknown == reason)
    case .sat: Issue.record("factored a prime")
    case .unsat: Issue.record("refuted a 64-bit factoring problem within 1 ms")
    }
  }

  @Test func timeoutThrowsFromProve() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    try solver.setTimeout(milliseconds: 1)
    #expect(throws: SMTError.timeout) { try solver.prove(!Self.factoring(context)) }
  }

  @Test func resourceLimitAnswersUnknownDeterministically() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    try solver.setResourceLimit(1_000)
    solver.assert(Self.factoring(context))
    guard case .unknown(let reason) = try solver.check() else {
      Issue.record("expected unknown under a resource limit")
      return
    }
    #expect(reason.contains("resource") || reason == "canceled", "reason: \(reason)")
    do {
      _ = try solver.prove(!Self.factoring(context))
      Issue.record("prove should throw under a resource limit")
    } catch SMTError.unknown {
      // Not `.timeout`: no time limit was set.
    }
  }
}
