import SMT
import Testing

/// Z3 errors and sort errors come back as Swift errors; nothing crashes, and the
/// context stays usable afterwards.
@Suite struct ErrorTests {
  @Test(arguments: [
    ("(declare-const x (_ BitVec 8)) (assert (= y #x01))", "unknown constant y"),
    ("(declare-const x (_ BitVec 8)) (assert (bvadd x x))", "not Boolean"),
    ("(assert (and true", "line 1"),
    ("(declare-const x (_ BitVec 8)) (assert (= x true))", ""),
  ])
  func malformedSMTLIB2Throws(text: String, fragment: String) throws {
    let context = try Context()
    do {
      let assertions = try context.parseSMTLIB2(text)
      Issue.record("parsed: \(assertions)")
    } catch SMTError.z3(let code, let message) {
      #expect(code == .parserError)
      #expect(message.contains(fragment), "message: \(message)")
    }
    // The context still works after the error.
    let x = context.bitVec("x", width: 8)
    #expect((x + x).error == nil)
  }

  @Test func widthMismatchPoisonsAndCheckThrows() throws {
    let context = try Context()
    let x8 = context.bitVec("x", width: 8)
    let y16 = context.bitVec("y", width: 16)
    let bad = x8 + y16
    let expected = SMTError.sortMismatch(
      operation: "bvadd", expected: "(_ BitVec 8)", found: "(_ BitVec 16)")
    #expect(bad.error == expected)
    #expect(bad.width == 8)
    // Poison propagates through further operations, to the first error.
    #expect((bad * x8).ult(x8).error == expected)
    #expect(x8.eq(y16.extract(high: 7, low: 0)).error == nil)

    let solver = try Solver(context: context)
    solver.assert(x8.eq(x8))
    solver.assert(bad.eq(x8))
    #expect(throws: expected) { try solver.check() }
    #expect(throws: expected) { try solver.prove(bad.eq(x8)) }
    // The error is sticky for the scope it was asserted in, then gone.
    solver.reset()
    solver.push()
    solver.assert(bad.eq(x8))
    #expect(throws: expected) { try solver.check() }
    try solver.pop()
    guard case .sat = try solver.check() else {
      Issue.record("the solver should be usable after popping the bad assertion")
      return
    }
  }

  @Test func sortErrorsAreReported() throws {
    let context = try Context()
    let x8 = context.bitVec("x", width: 8)
    let y16 = context.bitVec("y", width: 16)
    let p = context.bool("p")
    let mismatch = { (error: SMTError?) -> Bool in
      if case .sortMismatch? = error { return true }
      return false
    }
    #expect(mismatch(ite(p, x8, y16).error))
    #expect(mismatch(x8.eq(y16).error))
    #expect(mismatch(context.distinct([x8, x8, y16]).error))
    #expect(mismatch(x8.substituting([(from: x8, to: y16)]).error))
    let array = context.array("a", indexWidth: 8, valueWidth: 8)
    #expect(mismatch(array[y16].error))
    #expect(mismatch(BitVec(p.ast).error))
    #expect(mismatch(BoolTerm(x8.ast).error))
    #expect(mismatch(array.store(x8, y16).error))
    let f: Function<BitVec> = context.function(
      "f", domain: [.bitVec(width: 8)], range: .bitVec(width: 8))
    #expect(mismatch(f(p).error))
    #expect(f(x8, x8).error == .invalidArgument(operation: "f", reason: "2 arguments, expected 1"))
    #expect(f(x8).error == nil)
    // A function whose declared range the Swift type cannot hold.
    let g: Function<BoolTerm> = context.function("g", domain: [.bool], range: .bitVec(width: 8))
    #expect(mismatch(g(p).error))
  }

  @Test func invalidArgumentsAreReported() throws {
    let context = try Context()
    let x = context.bitVec("x", width: 8)
    let invalid = { (error: SMTError?) -> Bool in
      if case .invalidArgument? = error { return true }
      return false
    }
    #expect(invalid(x.extract(high: 8, low: 0).error))
    #expect(invalid(x.extract(high: 2, low: 3).error))
    #expect(invalid(x.extract(high: 3, low: -1).error))
    #expect(invalid(x.zeroExtend(by: -1).error))
    #expect(invalid(context.bitVec("w", width: 0).error))
    #expect(invalid(context.forAll([x + x], x.eq(x)).error))
    guard case .z3(.parserError, _)? = context.bitVec(numeral: "12x", width: 8).error else {
      Issue.record("a malformed numeral must fail")
      return
    }

    let solver = try Solver(context: context)
    #expect(throws: SMTError.self) { try solver.pop() }
    do {
      try solver.setParameters(["no_such_parameter": 1])
      Issue.record("unknown parameter accepted")
    } catch SMTError.z3(_, let message) {
      #expect(message.contains("no_such_parameter"))
    }

    let wide = context.bitVec("wide", width: 128)
    solver.assert(wide.eq(wide.literal(5)))
    guard case .sat(let model) = try solver.check() else {
      Issue.record("expected sat")
      return
    }
    #expect(throws: SMTError.self) { try model.eval(wide) }
    #expect(try model.evalNumeral(wide) == "5")
  }

  @Test func termsFromDifferentContextsDoNotMix() throws {
    let (c1, c2) = (try Context(), try Context())
    let x = c1.bitVec("x", width: 8)
    let y = c2.bitVec("y", width: 8)
    #expect((x + y).error == .contextMismatch(operation: "bvadd"))
    let solver = try Solver(context: c1)
    solver.assert(y.eq(y))
    #expect(throws: SMTError.contextMismatch(operation: "Solver")) { try solver.check() }
  }
}
