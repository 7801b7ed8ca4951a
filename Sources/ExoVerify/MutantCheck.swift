import ExoProofs
import ExoSpec

extension Verifier {
  /// Checks the obligations of `mutant`'s transition with the mutant
  /// applied, stopping at the first that fails with a counterexample: the
  /// report of the catching obligation, or nil if every obligation was
  /// proved (the mutant escaped).
  public func catchMutant(_ mutant: Mutant) -> ObligationReport? {
    var verifier = self
    verifier.mutant = mutant
    for obligation in Obligation.all(transitions: [mutant.transition]) {
      if case .initial = obligation { continue }
      let report = verifier.check(obligation)
      if report.verdict == .failed && report.counterexample != nil { return report }
    }
    return nil
  }
}
