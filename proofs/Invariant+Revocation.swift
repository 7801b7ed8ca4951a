import ExoABI
import ExoSpec

/// The abort-protocol invariants (docs/ABI.md "Revocation").
extension View {
  func pending(_ e: Int) -> B { d.ne(s.revocations.phase[e], w(0)) }
  /// Entry `i` of environment `e`'s repossession vector.
  func entry(_ e: Int, _ i: Int) -> W { s.repossessions[e * P + i] }
  /// Entry `i` of `e`'s vector is valid (below the header).
  func valid(_ e: Int, _ i: Int) -> B { d.ult(w(i), s.revocations.repossessed[e]) }

  func revocationRecords() -> B {
    let t = s.revocations
    return all(E) { e in
      let bounded = d.and(
        d.and(
          d.ule(t.phase[e], w(RevocationPhase.aborting.rawValue)), d.ule(t.requested[e], w(P))),
        d.and(d.ule(t.returned[e], w(P)), d.ule(t.held[e], w(P))),
        d.ule(t.repossessed[e], w(P)))
      let entries = all(P) { i in
        d.ite(
          valid(e, i), covers(base: w(s.firstPage), count: w(P), entry(e, i)),
          d.eq(entry(e, i), w(0)))
      }
      let free = d.eq(s.environments.state[e], w(EnvironmentState.free))
      let zero = d.and(
        d.and(d.eq(t.phase[e], w(0)), d.eq(t.requested[e], w(0)), d.eq(t.deadline[e], w(0))),
        d.and(d.eq(t.returned[e], w(0)), d.eq(t.held[e], w(0)), d.eq(t.repossessed[e], w(0))))
      let asked = implies(
        pending(e), d.and(isLive(w(e)), d.uge(t.requested[e], w(1))))
      return d.and(d.and(bounded, entries), implies(free, zero), asked)
    }
  }

  func repossessedOnce() -> B {
    all(E) { e in
      all(P) { j in
        all(j) { i in implies(valid(e, j), d.ne(entry(e, i), entry(e, j))) }
      }
    }
  }

  func repossessedUnbound() -> B {
    all(E) { e in
      all(P) { i in
        let page = entry(e, i)
        let index = d.sub(page, w(s.firstPage))
        let owner = d.read(s.pages.owner, index, default: none)
        // With mappingsCountExact, no mapping means no window slot maps it.
        let unbound = d.eq(d.read(s.pages.mappings, index, default: w(0)), w(0))
        return implies(
          valid(e, i),
          d.and(implies(pending(e), d.ne(owner, w(e))), implies(d.eq(owner, none), unbound)))
      }
    }
  }

  func pagesConserved() -> B {
    let t = s.revocations
    return all(E) { e in
      let owned = count(P) { p in d.eq(s.pages.owner[p], w(e)) }
      return implies(
        pending(e),
        d.eq(d.add(d.add(owned, t.returned[e]), t.repossessed[e]), t.held[e]))
    }
  }
}

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
