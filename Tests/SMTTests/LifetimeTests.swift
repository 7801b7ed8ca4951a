import SMT
import Testing

/// Handles keep their context alive, and nothing keeps it alive longer.
@Suite struct LifetimeTests {
  @Test func contextIsFreedWithItsObjects() throws {
    weak var weakContext: Context?
    do {
      let context = try Context()
      weakContext = context
      let x = context.bitVec("x", width: 8)
      let array = context.array("a", indexWidth: 8, valueWidth: 8)
      let solver = try Solver(context: context)
      solver.assert(array[x].eq(x))
      guard case .sat(let model) = try solver.check() else {
        Issue.record("expected sat")
        return
      }
      _ = model.constants
      #expect(weakContext != nil)
    }
    #expect(weakContext == nil, "a reference cycle keeps the context alive")
  }

  @Test func termsOutliveTheirCreatorsScope() throws {
    func make() throws -> BitVec {
      let context = try Context()
      return context.bitVec("x", width: 8) + context.bitVec(1, width: 8)
    }
    let term = try make()
    #expect(term.description == "(bvadd x #x01)")
    #expect(
      term.substituting([(from: term.context.bitVec("x", width: 8), to: term.literal(4))])
        .simplified().uint64Value == 5)
  }
}
