import ExoABI
import ExoSpec

/// A property of one transition, relating the state before to the state
/// after (an invariant is a property of one state).
public enum TransitionProperty: String, CaseIterable, Sendable, Codable {
  /// Voluntary returns are never recorded as repossessed: `revocationReturn`
  /// leaves every repossession vector as it was, and any other transition
  /// records (as a new valid entry) only a page that the vector's
  /// environment owned before it.
  case voluntaryNotRecorded

  public var name: String { rawValue }

  /// Whether the property holds of `transition` from `pre` to `post`.
  public func holds<D: SpecDomain>(
    _ transition: Transition, pre: SpecState<D>, post: SpecState<D>
  ) -> D.B {
    let a = View(pre)
    let b = View(post)
    let d = pre.domain
    let isReturn = transition == .call(.revocationReturn)
    return a.all(a.E) { e in
      let header = d.eq(pre.revocations.repossessed[e], post.revocations.repossessed[e])
      return a.all(a.P) { i in
        let same = d.eq(a.entry(e, i), b.entry(e, i))
        if isReturn { return d.and(header, same) }
        let kept = d.and(a.valid(e, i), same)
        let owner = d.read(
          pre.pages.owner, d.sub(b.entry(e, i), d.word(pre.firstPage)), default: a.none)
        return a.implies(d.and(b.valid(e, i), d.not(kept)), d.eq(owner, a.w(e)))
      }
    }
  }
}
