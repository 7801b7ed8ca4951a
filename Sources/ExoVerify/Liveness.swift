import ExoABI
import ExoProofs
import ExoSpec
import Foundation
import SMT

/// Bounded liveness of the abort protocol, by bounded model checking: from
/// every state that satisfies every invariant (a superset of the reachable
/// states) in which some environment T's request has expired (`requested`
/// with `ticks >= deadline`, or `aborting`), `steps` kernel steps for T end
/// the request (`phase` none). A kernel step is `revocationDeadline(T)`
/// while T's request is `requested`, else `revocationAbort(T)`: what the
/// kernel runs at its ticks (docs/ABI.md "Revocation").
extension Verifier {
  /// The smallest number of kernel steps the protocol's design promises at
  /// `bounds`: the deadline, at most one abort step per owed page (each
  /// takes at least one page), and the step that ends the request.
  public static func abortSteps(_ bounds: Bounds) -> Int { bounds.pages + 2 }

  /// One kernel step for `t` (with the verifier's mutant, if any).
  func kernelStep(_ s: SymbolicState, _ t: BitVec) -> SymbolicState {
    let d = s.domain
    var deadline = s
    _ = apply(.event(.revocationDeadline), to: &deadline, [t])
    var abort = s
    _ = apply(.event(.revocationAbort), to: &abort, [t])
    let requested = d.eq(
      d.read(s.revocations.phase, t, default: d.word(0)),
      d.word(RevocationPhase.requested.rawValue))
    return SymbolicState(
      domain: d, bounds: s.bounds, firstPage: s.firstPage,
      words: zip(deadline.words, abort.words).map { d.ite(requested, $0, $1) })
  }

  /// The query whose `unsat` proves that `steps` kernel steps always end
  /// an expired request.
  func livenessQuery(steps: Int, context: Context) throws -> Query {
    let d = SymbolicDomain(context: context)
    let solver = try Solver(context: context, logic: "QF_BV")
    try solver.setTimeout(milliseconds: timeoutMilliseconds)
    let pre = SymbolicState(symbolic: d, bounds: bounds, firstPage: firstPage, prefix: "pre.")
    let t = d.variable("arg.target")
    solver.assert(Invariant.all(in: pre))
    solver.assert(d.ult(t, d.word(UInt64(bounds.environments))))
    let phase = d.read(pre.revocations.phase, t, default: d.word(0))
    let deadline = d.read(pre.revocations.deadline, t, default: d.word(0))
    solver.assert(
      d.or(
        d.and(
          d.eq(phase, d.word(RevocationPhase.requested.rawValue)),
          d.uge(pre.tickCount, deadline)),
        d.eq(phase, d.word(RevocationPhase.aborting.rawValue))))
    var s = pre
    for _ in 0..<steps { s = kernelStep(s, t) }
    solver.assert(d.ne(d.read(s.revocations.phase, t, default: d.word(0)), d.word(0)))
    return Query(solver: solver, pre: pre, arguments: [t], transition: .event(.revocationAbort))
  }

  /// Checks `.abortCompletes(steps)`; when proved, also whether one step
  /// fewer would do (the detail says), so the printed bound is the least.
  func checkLiveness(_ obligation: Obligation, steps: Int) -> ObligationReport {
    let start = DispatchTime.now()
    func since() -> Double {
      Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
    do {
      let q = try livenessQuery(steps: steps, context: try Context(randomSeed: 0))
      switch try q.solver.check() {
      case .unsat:
        var detail = "K = \(steps)"
        if steps > 1 {
          let fewer = try livenessQuery(steps: steps - 1, context: try Context(randomSeed: 0))
          if case .sat = try fewer.solver.check() {
            detail += "; \(steps - 1) steps do not always suffice"
          } else {
            detail += "; \(steps - 1) steps suffice too"
          }
        }
        return ObligationReport(
          obligation: obligation, verdict: .proved, seconds: since(), detail: detail,
          counterexample: nil, cached: false)
      case .sat(let model):
        // Replays the steps concretely. The counterexample is the first step
        // where the (mutated) spec differs from the correct one, or else the
        // last step: one transition a replay file can hold.
        var state = try q.pre.evaluate(in: model)
        let t = try model.eval(q.arguments[0])
        var firstDifference: Counterexample?
        var last: Counterexample?
        for _ in 0..<steps {
          let requested = state.revocations.phase[Int(t)] == RevocationPhase.requested.rawValue
          let event: Transition = .event(requested ? .revocationDeadline : .revocationAbort)
          let before = state
          let result =
            mutant.map { $0.applyConcrete(event, to: &state, [t]) } ?? state.step(event, [t])
          var correct = before
          let correctResult = correct.step(event, [t])
          let step = Counterexample(
            transition: event, arguments: [t], pre: before, post: state, result: result)
          last = step
          if firstDifference == nil && (correct != state || correctResult != result) {
            firstDifference = step
          }
        }
        let example = firstDifference ?? last
        return ObligationReport(
          obligation: obligation, verdict: .failed, seconds: since(),
          detail: "\(steps) kernel steps leave the request of environment \(t) pending",
          counterexample: example, cached: false)
      case .unknown(let reason):
        let verdict: ProofVerdict =
          reason.contains("timeout") || reason.contains("canceled") ? .timeout : .unknown
        return ObligationReport(
          obligation: obligation, verdict: verdict, seconds: since(), detail: reason,
          counterexample: nil, cached: false)
      }
    } catch {
      return ObligationReport(
        obligation: obligation, verdict: .unknown, seconds: since(), detail: "\(error)",
        counterexample: nil, cached: false)
    }
  }
}
