import SMT
import Testing

/// SMT-LIB2 text out and in, term printing, and the model's constant listing.
@Suite struct SMTLIB2Tests {
  @Test func solverTextDeclaresConstants() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    let alpha = context.bitVec("alpha", width: 32)
    let beta = context.bitVec("beta", width: 32)
    let flag = context.bool("flag")
    solver.assert(flag.implies((alpha + beta).ult(alpha)))
    let text = solver.smtlib2()
    #expect(text.contains("(declare-fun alpha () (_ BitVec 32))"), "\(text)")
    #expect(text.contains("(declare-fun beta () (_ BitVec 32))"), "\(text)")
    #expect(text.contains("(declare-fun flag () Bool)"), "\(text)")
    #expect(text.contains("bvult"), "\(text)")
    #expect((alpha + beta).description == "(bvadd alpha beta)")
    #expect(context.bitVec(5, width: 8).description == "#x05")
  }

  @Test func parsedConstantsAreTheSwiftConstants() throws {
    let context = try Context()
    let assertions = try context.parseSMTLIB2(
      """
      (declare-const x (_ BitVec 8))
      (declare-const big (_ BitVec 128))
      (assert (= (bvadd x #x03) #x0a))
      (assert (= big (concat x #x000000000000000000000000000000)))
      """)
    #expect(assertions.count == 2)
    let solver = try Solver(context: context)
    solver.assert(assertions)
    guard case .sat(let model) = try solver.check() else {
      Issue.record("expected sat")
      return
    }
    #expect(try model.eval(context.bitVec("x", width: 8)) == 7)
    #expect(try model.evalNumeral(context.bitVec("big", width: 128)) == "\(UInt128(7) << 120)")
  }

  @Test func solverTextRoundTripsThroughAnotherContext() throws {
    let first = try Context()
    let solver = try Solver(context: first)
    let x = first.bitVec("x", width: 16)
    solver.assert((x * x.literal(3)).eq(x.literal(0x2A)) && x.ult(x.literal(0x100)))
    let second = try Context()
    let copy = try Solver(context: second)
    copy.assert(try second.parseSMTLIB2(solver.smtlib2()))
    guard case .sat(let model) = try copy.check() else {
      Issue.record("expected sat")
      return
    }
    let value = try model.eval(second.bitVec("x", width: 16))
    #expect(UInt16(value) &* 3 == 0x2A && value < 0x100)
  }

  @Test func modelListsItsConstants() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    let (x, y, p) = (
      context.bitVec("x", width: 8), context.bitVec("y", width: 8), context.bool("p")
    )
    solver.assert(x.eq(x.literal(200)) && (x + y).eq(x.literal(1)) && p)
    guard case .sat(let model) = try solver.check() else {
      Issue.record("expected sat")
      return
    }
    let constants = Dictionary(uniqueKeysWithValues: model.constants.map { ($0.name, $0.value) })
    #expect(constants["x"] == .bitVec(width: 8, numeral: "200"))
    #expect(constants["y"] == .bitVec(width: 8, numeral: "57"))
    #expect(constants["p"] == .bool(true))
    #expect(model.description.contains("x"))
  }

  @Test func quantifiersAndUninterpretedFunctions() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    try solver.setTimeout(milliseconds: 10_000)
    let (x, y) = (context.bitVec("x", width: 8), context.bitVec("y", width: 8))
    // ∃x ∀y. x & y = y forces x to all ones.
    solver.assert(context.forAll([y], (x & y).eq(y)))
    guard case .sat(let model) = try solver.check() else {
      Issue.record("expected sat")
      return
    }
    #expect(try model.eval(x) == 0xFF)
    solver.reset()

    let f: Function<BitVec> = context.function(
      "f", domain: [.bitVec(width: 8)], range: .bitVec(width: 8))
    guard case .proven = try solver.prove(x.eq(y).implies(f(x).eq(f(y)))) else {
      Issue.record("congruence")
      return
    }
    guard case .counterexample(let cex) = try solver.prove(f(x).eq(f(y))) else {
      Issue.record("f(x) = f(y) does not hold for all x, y")
      return
    }
    #expect(try cex.eval(x) != cex.eval(y))
    #expect(try cex.eval(f(x)) != cex.eval(f(y)))
    #expect(context.exists([x], f(x).eq(y)).description.contains("exists"))
  }

  @Test func simplifySubstituteAndUnsatCore() throws {
    let context = try Context()
    let (x, y) = (context.bitVec("x", width: 8), context.bitVec("y", width: 8))
    let term = (x + y) * x.literal(2)
    let ground = term.substituting([(from: x, to: x.literal(3)), (from: y, to: y.literal(4))])
    #expect(ground.simplified().uint64Value == 14)
    #expect(term.uint64Value == nil)

    let solver = try Solver(context: context)
    let (p, q, r) = (context.bool("p"), context.bool("q"), context.bool("r"))
    solver.assert(p.implies(x.eq(x.literal(1))) && q.implies(x.eq(x.literal(2))))
    guard case .unsat = try solver.check(assumptions: [p, q, r]) else {
      Issue.record("p and q contradict")
      return
    }
    let core = try solver.unsatCore().map(\.description)
    #expect(Set(core).isSubset(of: ["p", "q"]) && core.contains("p") && core.contains("q"))
    #expect(solver.assertions.count == 1)
    #expect(!solver.statistics().isEmpty)
  }

  @Test func seededContextsAreDeterministicAndIndependent() async throws {
    // One context per task: contexts are independent, so they may run in parallel.
    let answers = try await withThrowingTaskGroup(of: [UInt64].self) { group in
      for _ in 0..<4 {
        group.addTask {
          let context = try Context(randomSeed: 11)
          let solver = try Solver(context: context)
          let vars = (0..<6).map { context.bitVec("v\($0)", width: 16) }
          solver.assert(context.distinct(vars))
          solver.assert(vars[0].ult(vars[1]) && (vars[2] * vars[3]).eq(vars[4] ^ vars[5]))
          guard case .sat(let model) = try solver.check() else { return [] }
          return try vars.map { try model.eval($0) }
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(answers.count == 4)
    #expect(Set(answers).count == 1, "\(answers)")
    #expect(answers.first?.isEmpty == false)
  }
}
