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
    // One session: the pre-state invariants are bit-blasted once for all
    // of the transition's obligations.
    let session = try? ProofSession(verifier)
    let all = mutant.obligations
    for obligation in [mutant.firstTried] + all.filter({ $0 != mutant.firstTried }) {
      if case .initial = obligation { continue }
      let report = verifier.check(group: [obligation], session: session)[0]
      if report.verdict == .failed && report.counterexample != nil { return report }
    }
    return nil
  }
}
