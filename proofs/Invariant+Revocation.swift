import ExoABI
#if canImport(ExoSpec)
  import ExoSpec
#endif

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
      d.allDistinct(
        P, key: { i in entry(e, i) }, valid: { i in valid(e, i) }, low: s.firstPage, span: P)
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
