import ExoABI

#if canImport(ExoSpec)
  import ExoSpec
#endif

/// The invariants' bodies: readable accessors over a spec state and the
/// formulas themselves, each a conjunction unrolled over the table bounds.
struct View<D: SpecDomain> {
  typealias B = D.B
  typealias W = D.W

  let s: SpecState<D>
  let d: D
  let none: W
  let E: Int, P: Int, C: Int, S: Int, WS: Int

  init(_ s: SpecState<D>) {
    self.s = s
    d = s.domain
    none = d.word(ExoABI.none)
    E = s.bounds.environments
    P = s.bounds.pages
    C = s.bounds.capabilities
    S = s.bounds.slices
    WS = s.bounds.windowSlots
  }

  func w(_ value: Int) -> W { d.word(UInt64(value)) }
  func w(_ value: UInt64) -> W { d.word(value) }
  func w(_ value: EnvironmentState) -> W { d.word(value.rawValue) }
  func w(_ value: CapabilityKind) -> W { d.word(value.rawValue) }
  func w(_ value: Rights) -> W { d.word(value.rawValue) }

  /// `∧` over `0..<count`.
  func all(_ count: Int, _ body: (Int) -> B) -> B {
    var result = d.bool(true)
    for i in 0..<count { result = d.and(result, body(i)) }
    return result
  }

  /// `a → b`, where the plain domains do not evaluate `b` when `a` is
  /// false (most records of a table are empty: their consequents are not
  /// computed).
  func implies(_ a: B, _ b: @autoclosure () -> B) -> B { d.not(d.and(a, then: { d.not(b()) })) }

  /// The number of `i < count` where `body(i)` holds.
  func count(_ count: Int, _ body: (Int) -> B) -> W {
    var total = w(0)
    for i in 0..<count { total = d.add(total, d.ite(body(i), w(1), w(0))) }
    return total
  }

  /// The state of environment `e` (a symbolic index): `free` outside the table.
  func stateOf(_ e: W) -> W { d.read(s.environments.state, e, default: w(EnvironmentState.free)) }

  /// `e` names an environment that is not free.
  func exists(_ e: W) -> B {
    d.and(d.ult(e, w(E)), d.ne(stateOf(e), w(EnvironmentState.free)))
  }

  func isLive(_ e: W) -> B {
    let state = stateOf(e)
    return d.and(
      d.ult(e, w(E)),
      d.or(
        d.eq(state, w(EnvironmentState.runnable)),
        d.or(d.eq(state, w(EnvironmentState.stopped)), d.eq(state, w(EnvironmentState.waiting)))))
  }

  func isEmpty(_ c: Int) -> B { d.eq(s.capabilities.kind[c], w(CapabilityKind.empty)) }
  func isMemory(_ c: Int) -> B { d.eq(s.capabilities.kind[c], w(CapabilityKind.memory)) }
  func isEnvironment(_ c: Int) -> B {
    d.eq(s.capabilities.kind[c], w(CapabilityKind.environment))
  }
  func isBound(_ b: Int) -> B { d.ne(s.bindings.page[b], none) }
  /// Page number of page index `p`.
  func pageNumber(_ p: Int) -> W { w(s.firstPage + UInt64(p)) }
  /// `page` lies in `[base, base + count)` without wrapping.
  func covers(base: W, count: W, _ page: W) -> B {
    d.and(d.uge(page, base), d.ult(d.sub(page, base), count))
  }

  // MARK: Well-formed records

  func environmentRecords() -> B {
    let t = s.environments
    return all(E) { e in
      let free = d.eq(t.state[e], w(EnvironmentState.free))
      return d.and(
        d.ule(t.state[e], w(EnvironmentState.dying)),
        d.or(d.eq(t.parent[e], none), d.ult(t.parent[e], w(E))),
        implies(
          free,
          d.and(
            d.and(
              d.and(d.eq(t.parent[e], none), d.eq(t.caller[e], none)),
              d.eq(t.exitStatus[e], w(0)), d.eq(t.capabilities[e], w(0))),
            d.and(
              d.and(d.eq(t.handler[e], w(0)), d.eq(t.handlerStack[e], w(0))),
              d.and(d.eq(t.upcall[e], w(0)), d.eq(t.callEntry[e], w(0)))))))
    }
  }

  func capabilityRecords() -> B {
    let t = s.capabilities
    return all(C) { c in
      d.and(
        d.ule(t.kind[c], w(CapabilityKind.environment)),
        implies(
          isEmpty(c),
          d.and(
            d.and(d.eq(t.owner[c], none), d.eq(t.parent[c], none), d.eq(t.depth[c], w(0))),
            d.and(d.eq(t.rights[c], w(0)), d.eq(t.base[c], w(0)), d.eq(t.count[c], w(0))),
            d.and(d.eq(t.children[c], w(0)), d.eq(t.bindings[c], w(0))))))
    }
  }

  func bindingRecords() -> B {
    let t = s.bindings
    return all(E * WS) { b in
      implies(d.not(isBound(b)), d.and(d.eq(t.capability[b], none), d.eq(t.rights[b], w(0))))
    }
  }

  // MARK: The capability hierarchy

  func capabilityOwnerExists() -> B {
    all(C) { c in implies(d.not(isEmpty(c)), exists(s.capabilities.owner[c])) }
  }

  func parentExists() -> B {
    all(E) { e in
      let parent = s.environments.parent[e]
      return implies(d.ne(parent, none), exists(parent))
    }
  }

  func derivationAcyclic() -> B {
    let t = s.capabilities
    return all(C) { c in
      let parent = t.parent[c]
      let isRoot = d.eq(parent, none)
      return implies(
        d.not(isEmpty(c)),
        d.and(
          d.ule(t.depth[c], w(s.bounds.maximumDepth)),
          implies(isRoot, d.eq(t.depth[c], w(0))),
          implies(
            d.not(isRoot),
            d.and(
              d.ult(parent, w(C)),
              d.and(
                d.eq(d.read(t.kind, parent, default: w(0)), t.kind[c]),
                d.eq(t.depth[c], d.add(d.read(t.depth, parent, default: w(0)), w(1))))))))
    }
  }

  func rightsShrink() -> B {
    let t = s.capabilities
    return all(C) { c in
      let allowed = d.ite(isMemory(c), w(Rights.memory), w(Rights.environment))
      let parent = t.parent[c]
      return implies(
        d.not(isEmpty(c)),
        d.and(
          d.within(t.rights[c], allowed),
          implies(
            d.ne(parent, none),
            d.within(t.rights[c], d.read(t.rights, parent, default: w(0))))))
    }
  }

  func rangeShrinks() -> B {
    let t = s.capabilities
    let firstPage = w(s.firstPage)
    return all(C) { c in
      let parent = t.parent[c]
      let parentBase = d.read(t.base, parent, default: w(0))
      let parentCount = d.read(t.count, parent, default: w(0))
      let memory = d.and(
        d.and(d.uge(t.count[c], w(1)), d.uge(t.base[c], firstPage)),
        d.ule(t.count[c], w(P)),
        d.ule(d.sub(t.base[c], firstPage), d.sub(w(P), t.count[c])))
      let withinParent = implies(
        d.ne(parent, none),
        d.and(
          d.uge(t.base[c], parentBase),
          d.and(
            d.ule(t.count[c], parentCount),
            d.ule(d.sub(t.base[c], parentBase), d.sub(parentCount, t.count[c])))))
      let environment = d.and(d.eq(t.count[c], w(1)), exists(t.base[c]))
      // A root memory capability spans at most one allocation's run.
      let runBounded = implies(
        d.eq(parent, none), d.ule(t.count[c], w(s.bounds.maximumRun)))
      return d.and(
        implies(isMemory(c), d.and(memory, withinParent, runBounded)),
        implies(isEnvironment(c), d.and(environment, withinParent)))
    }
  }

  // The exact counts are ``SpecDomain/countsMatch(_:buckets:key:expected:)``:
  // for each record k, its count is the number of i whose key is k (a key
  // that is no record's, e.g. `none` for an empty one, counts nowhere).

  func childrenCountExact() -> B {
    let t = s.capabilities
    return d.countsMatch(
      C, buckets: C, key: { k in d.ite(isEmpty(k), none, t.parent[k]) },
      expected: { c in t.children[c] })
  }

  func capabilityCountExact() -> B {
    let t = s.capabilities
    return d.countsMatch(
      C, buckets: E, key: { c in d.ite(isEmpty(c), none, t.owner[c]) },
      expected: { e in s.environments.capabilities[e] })
  }

  func pagesCountExact() -> B {
    d.countsMatch(
      P, buckets: E, key: { p in s.pages.owner[p] },
      expected: { e in s.environments.pages[e] })
  }

  // MARK: Secure bindings

  func bindingBacked() -> B {
    let t = s.bindings
    let caps = s.capabilities
    return all(E * WS) { b in
      let e = b / WS
      let m = t.capability[b]
      let page = t.page[b]
      return implies(
        isBound(b),
        d.and(
          d.and(
            d.ult(m, w(C)),
            d.eq(d.read(caps.kind, m, default: w(0)), w(CapabilityKind.memory)),
            d.eq(d.read(caps.owner, m, default: none), w(e))),
          covers(
            base: d.read(caps.base, m, default: w(0)), count: d.read(caps.count, m, default: w(0)),
            page),
          d.and(
            d.within(t.rights[b], w(Rights([.read, .write, .execute]))),
            d.has(t.rights[b], Rights.read.rawValue),
            d.within(t.rights[b], d.read(caps.rights, m, default: w(0))))))
    }
  }

  func bindingsCountExact() -> B {
    let t = s.bindings
    return d.countsMatch(
      E * WS, buckets: C, key: { b in d.ite(isBound(b), t.capability[b], none) },
      expected: { c in s.capabilities.bindings[c] })
  }

  func mappingsCountExact() -> B {
    let t = s.bindings
    // A binding's key is the page index of its page (`none` for an empty
    // slot is far outside the table).
    return d.countsMatch(
      E * WS, buckets: P, key: { b in d.sub(t.page[b], w(s.firstPage)) },
      expected: { p in s.pages.mappings[p] })
  }

  func windowCountExact() -> B {
    d.countsMatch(
      E * WS, buckets: E, key: { b in d.ite(isBound(b), w(b / WS), none) },
      expected: { e in s.environments.bindings[e] })
  }

  func pageOwnership() -> B {
    let t = s.pages
    let caps = s.capabilities
    let ownedPages = all(P) { p in
      let free = d.eq(t.owner[p], none)
      let root = t.root[p]
      return d.and(
        implies(free, d.and(d.eq(root, none), d.eq(t.mappings[p], w(0)))),
        implies(
          d.not(free),
          d.and(
            exists(t.owner[p]),
            d.and(
              d.ult(root, w(C)),
              d.eq(d.read(caps.kind, root, default: w(0)), w(CapabilityKind.memory)),
              d.eq(d.read(caps.parent, root, default: w(0)), none)),
            d.and(
              d.eq(d.read(caps.owner, root, default: none), t.owner[p]),
              covers(
                base: d.read(caps.base, root, default: w(0)),
                count: d.read(caps.count, root, default: w(0)), pageNumber(p))))))
    }
    // No binding maps a page outside the managed range.
    let boundInRange = all(E * WS) { b in
      implies(isBound(b), covers(base: w(s.firstPage), count: w(P), s.bindings.page[b]))
    }
    return d.and(ownedPages, boundInRange)
  }

  func rootCoversPages() -> B {
    let caps = s.capabilities
    return all(C) { c in
      let isRoot = d.and(isMemory(c), d.eq(caps.parent[c], none))
      return implies(
        isRoot,
        all(P) { p in
          implies(
            covers(base: caps.base[c], count: caps.count[c], pageNumber(p)),
            d.and(d.eq(s.pages.root[p], w(c)), d.eq(s.pages.owner[p], caps.owner[c])))
        })
    }
  }

  func freeEnvironmentOwnsNothing() -> B {
    all(E) { e in
      let free = d.eq(s.environments.state[e], w(EnvironmentState.free))
      return implies(
        free,
        d.and(
          all(WS) { slot in d.not(isBound(e * WS + slot)) },
          all(S) { p in d.ne(s.slices[p], w(e)) }))
    }
  }

  // MARK: Scheduling and control transfer

  func sliceOwnerExists() -> B {
    all(S) { p in d.or(d.eq(s.slices[p], none), exists(s.slices[p])) }
  }

  func currentRunnable() -> B {
    d.or(
      d.eq(s.current, none),
      d.and(d.ult(s.current, w(E)), d.eq(stateOf(s.current), w(EnvironmentState.runnable))))
  }

  func idleOnlyWhenNothingRuns() -> B {
    implies(
      d.eq(s.current, none),
      all(S) { p in
        let owner = s.slices[p]
        return d.or(
          d.eq(owner, none), d.ne(stateOf(owner), w(EnvironmentState.runnable)))
      })
  }

  func pendingCallsLive() -> B {
    let t = s.environments
    let asynchronous = w(asynchronousCaller)
    let callersWait = all(E) { e in
      let caller = t.caller[e]
      let synchronous = d.and(d.ne(caller, none), d.ne(caller, asynchronous))
      return implies(
        synchronous,
        d.and(
          d.and(d.ult(caller, w(E)), d.ne(caller, w(e))),
          d.eq(stateOf(caller), w(EnvironmentState.waiting)), isLive(w(e))))
    }
    // Every waiting environment has exactly one callee serving its call.
    let waitersServed = all(E) { waiter in
      implies(
        d.eq(t.state[waiter], w(EnvironmentState.waiting)),
        d.eq(count(E) { e in d.eq(t.caller[e], w(waiter)) }, w(1)))
    }
    return d.and(callersWait, waitersServed)
  }
}
