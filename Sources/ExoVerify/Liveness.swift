import ExoABI
import ExoProofs
import ExoSpec
import Foundation
import SMT

/// Bounded liveness of the abort protocol, by bounded model checking: from
/// every state that satisfies every invariant (a superset of the reachable
/// states) in which some environment T's request has expired (`requested`
/// with `ticks >= deadline`, or `aborting`), `steps` timer ticks end the
/// request (`phase` none). What a tick does for T is the spec's own policy,
/// `SpecState.revocationTick(target:)` (the code the kernel runs at its
/// timer interrupt), with the verifier's transitions (and so its mutant)
/// for the deadline and each abort step.
extension Verifier {
  /// The fewest ticks the protocol's design promises at `bounds`: the
  /// deadline and the abort steps of a tick run together, and an abort
  /// needs at most one step per owed page (each takes at least one) and
  /// the step that ends the request.
  public static func abortSteps(_ bounds: Bounds) -> Int {
    let perTick = RevocationLimits.abortStepsPerTick
    return (bounds.pages + 1 + perTick - 1) / perTick
  }

  /// One timer tick's steps for `t` (with the verifier's mutant, if any).
  func kernelStep(_ s: SymbolicState, _ t: BitVec) -> SymbolicState {
    var next = s
    next.revocationTick(
      target: t,
      deadline: { state, t in _ = self.apply(.event(.revocationDeadline), to: &state, [t]) },
      abort: { state, t in _ = self.apply(.event(.revocationAbort), to: &state, [t]) })
    return next
  }

  /// The query whose `unsat` proves that `steps` kernel steps always end
  /// an expired request.
  func livenessQuery(steps: Int, context: Context) throws -> Query {
    let d = SymbolicDomain(context: context)
    d.abstractFilters = true
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
            detail += "; \(steps - 1) ticks do not always suffice"
          } else {
            detail += "; \(steps - 1) ticks suffice too"
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
        func run(_ event: Transition, _ state: inout ConcreteState, _ t: UInt64) {
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
        for _ in 0..<steps {
          state.revocationTick(
            target: t, deadline: { s, t in run(.event(.revocationDeadline), &s, t) },
            abort: { s, t in run(.event(.revocationAbort), &s, t) })
        }
        let example = firstDifference ?? last
        return ObligationReport(
          obligation: obligation, verdict: .failed, seconds: since(),
          detail: "\(steps) ticks leave the request of environment \(t) pending",
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
