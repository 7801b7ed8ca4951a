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
  /// Only its holder or the holder's parent takes a slice away (docs/ABI.md
  /// "sliceFree"), or the holder is dying (its reclaim frees its slices): a
  /// slice owned by X before a transition and not after it was taken by the
  /// current environment X or X's parent, or X was dying.
  case sliceTakenByOwnerOrParent
  /// A dying environment's slot becomes free only by its parent, or by
  /// anyone once its parent is not live (docs/ABI.md
  /// "environmentReclaim").
  case reclaimedByParent

  public var name: String { rawValue }

  /// Whether the property holds of `transition` from `pre` to `post`.
  public func holds<D: SpecDomain>(
    _ transition: Transition, pre: SpecState<D>, post: SpecState<D>
  ) -> D.B {
    let a = View(pre)
    let b = View(post)
    let d = pre.domain
    let actor = pre.current
    switch self {
    case .voluntaryNotRecorded: break
    case .sliceTakenByOwnerOrParent:
      return a.all(a.S) { p in
        let holder = pre.slices[p]
        let taken = d.and(d.ne(holder, a.none), d.ne(post.slices[p], holder))
        let parent = d.read(pre.environments.parent, holder, default: a.none)
        return a.implies(
          taken,
          d.or(
            d.or(d.eq(actor, holder), d.eq(actor, parent)),
            d.eq(a.stateOf(holder), a.w(EnvironmentState.dying))))
      }
    case .reclaimedByParent:
      return a.all(a.E) { e in
        let freed = d.and(
          d.eq(pre.environments.state[e], a.w(EnvironmentState.dying)),
          d.eq(post.environments.state[e], a.w(EnvironmentState.free)))
        let parent = pre.environments.parent[e]
        return a.implies(freed, d.or(d.eq(actor, parent), d.not(a.isLive(parent))))
      }
    }
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
