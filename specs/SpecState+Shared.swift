import ExoABI

/// The shared checks and steps of docs/ABI.md ("Shared checks"), used by
/// several transitions.
extension SpecState {
  /// The checks of a call so far, starting with the caller's own: a call is
  /// made by `current`. On an idle state (`current` is `none`, or any value
  /// that is not an environment) every call is a no-op failing with
  /// `wrongState`; the kernel cannot reach this (only a running environment
  /// makes calls), so it is never observed by the differential tester.
  // ABI.md: the document leaves calls on an idle state undefined; this rule
  // makes every transition total.
  @inline(__always) func begin() -> Verdict<D> {
    var v = Verdict(domain)
    v.require(domain.ult(current, word(bounds.environments)), else: .wrongState)
    return v
  }

  /// Ends a call: where every check passed, runs `effect` (which returns the
  /// call's value); the status is 0 or the first failed check's error, the
  /// value 0 on error. Where a check failed the state is unchanged.
  @inline(__always)
  mutating func finish(_ v: Verdict<D>, _ effect: (inout Self) -> W) -> Outcome<D> {
    let d = domain
    var value = zero
    d.when(v.ok) { d.assign(&value, effect(&self)) }
    return Outcome(status: d.ite(v.ok, zero, v.error), value: d.ite(v.ok, value, zero))
  }

  /// **authority(T, c)**: may the caller act on environment `t` presenting
  /// environment capability `c`.
  @inline(__always) func authority(_ v: inout Verdict<D>, _ t: W, _ c: W) {
    let d = domain
    v.require(d.ult(t, word(bounds.environments)), else: .outOfRange)
    let isSelf = d.eq(t, current)
    v.require(d.or(isSelf, d.ult(c, word(bounds.capabilities))), else: .outOfRange)
    v.require(
      d.or(
        isSelf,
        d.and(
          d.eq(kindOf(c), word(CapabilityKind.environment)), d.eq(ownerOf(capability: c), current),
          d.eq(baseOf(c), t))),
      else: .invalidCapability)
    v.require(
      d.or(isSelf, d.has(rightsOf(capability: c), Rights.control.rawValue)),
      else: .insufficientRights)
  }

  /// **live(T)**: runnable, stopped or waiting.
  @inline(__always) func isLive(_ t: W) -> B {
    let d = domain
    let state = stateOf(t)
    return d.or(
      d.eq(state, word(EnvironmentState.runnable)), d.eq(state, word(EnvironmentState.stopped)),
      d.eq(state, word(EnvironmentState.waiting)))
  }

  /// **memory rights (binding)**: a subset of read, write, execute that
  /// includes read.
  @inline(__always) func isBindingRights(_ rights: W) -> B {
    let d = domain
    return d.and(
      d.within(rights, word(Rights([.read, .write, .execute]))),
      d.has(rights, Rights.read.rawValue))
  }

  /// **user address**: `UserLayout.start <= a < UserLayout.end`.
  @inline(__always) func isUserAddress(_ a: W) -> B {
    domain.inRange(a, UserLayout.start, UserLayout.end)
  }

  /// Whether `c` appears among `parent(k)`, `parent(parent(k))`, … (at most
  /// maximum-depth steps): `k` is a strict descendant of `c`.
  @inline(__always)
  func isStrictDescendant(_ k: W, of c: W) -> B {
    let d = domain
    var ancestor = k
    var found = d.bool(false)
    for _ in 0..<bounds.maximumDepth {
      ancestor = parentOf(capability: ancestor)
      found = d.or(found, d.eq(ancestor, c))
    }
    return found
  }

  /// Whether capability `k` is in the *reclaim domain* of environment `t`:
  /// non-empty, and held by `t`, or with an ancestor held by `t`, or an
  /// environment capability with `base == t`.
  @inline(__always)
  func isInReclaimDomain(_ k: W, of t: W) -> B {
    let d = domain
    return d.and(d.ne(kindOf(k), word(CapabilityKind.empty)), then: { isHeldOrNamed(k, by: t) })
  }

  /// Whether `k` is held by `t`, has an ancestor held by `t`, or is an
  /// environment capability with `base == t`.
  @inline(__always)
  func isHeldOrNamed(_ k: W, by t: W) -> B {
    let d = domain
    var held = d.eq(ownerOf(capability: k), t)
    var ancestor = k
    for _ in 0..<bounds.maximumDepth {
      ancestor = parentOf(capability: ancestor)
      held = d.or(held, d.eq(ownerOf(capability: ancestor), t))
    }
    let names = d.and(d.eq(kindOf(k), word(CapabilityKind.environment)), d.eq(baseOf(k), t))
    return d.or(held, names)
  }

  /// The first binding backed by `k` (lowest environment, then lowest slot).
  @inline(__always)
  func firstBinding(backedBy k: W) -> (found: B, index: W) {
    let d = domain
    // ABI.md: an empty window slot (page none) backs nothing, whatever its
    // capability field says.
    return d.first(bindings.page.count) { j in
      d.and(d.ne(bindings.page[j], none), then: { d.eq(bindings.capability[j], k) })
    }
  }

  /// **remove binding** at binding index `b`, a slot of environment `e`'s
  /// window: the filters whose buffer it is are removed, then
  /// ``unbind(_:of:)``.
  mutating func removeBinding(_ b: W, of e: W) {
    removeFilters(bufferedAt: b)
    unbind(b, of: e)
  }

  /// The page of binding `b` (a slot of environment `e`'s window) loses a
  /// mapping, the capability and the environment a binding, the slot
  /// becomes empty. Filters are left to the caller, which removes those
  /// whose buffer went (``removeFiltersWithoutBuffer()``) once after a loop
  /// of these.
  mutating func unbind(_ b: W, of e: W) {
    let d = domain
    let page = pageOf(binding: b)
    let k = capabilityOf(binding: b)
    d.write(&pages.mappings, pageIndex(page), d.sub(mappingsOf(page: page), word(1)))
    d.write(&capabilities.bindings, k, d.sub(bindingsOf(k), word(1)))
    countBinding(of: e, by: .max)
    d.write(&bindings.page, b, none)
    d.write(&bindings.capability, b, none)
    d.write(&bindings.rights, b, zero)
    d.bindingChanged(b)
  }

  /// **delete capability k**: a root memory capability frees its pages; a
  /// parent loses a child; the record becomes empty.
  mutating func deleteCapability(_ k: W) {
    let d = domain
    let parent = parentOf(capability: k)
    let owner = ownerOf(capability: k)
    countCapability(of: owner, by: .max)
    let isRootMemory = d.and(
      d.eq(kindOf(k), word(CapabilityKind.memory)), d.eq(parent, none))
    freeRun(base: baseOf(k), count: countOf(k), when: isRootMemory) { state, index in
      d.write(&state.pages.owner, index, state.none)
      d.write(&state.pages.root, index, state.none)
    }
    d.when(isRootMemory) { countPages(of: owner, countOf(k), adding: false) }
    d.when(d.ne(parent, none)) {
      d.write(&capabilities.children, parent, d.sub(childrenOf(parent), word(1)))
    }
    writeEmptyCapability(at: k)
  }

  /// Runs `body` with the page table index of each page of the run
  /// `[base, base + count)`, where `condition` holds.
  // ABI.md: the run of a root memory capability is at most maximumRun pages
  // (pageAllocate's check 1), so the loop is over maximumRun positions; on a
  // state with a longer root run (which no call sequence produces) only the
  // first maximumRun pages are visited.
  mutating func freeRun(
    base: W, count: W, when condition: B, _ body: (inout Self, W) -> Void
  ) {
    let d = domain
    d.when(condition) {
      d.forEach(below: count, bound: bounds.maximumRun) { i in
        body(&self, pageIndex(d.add(base, word(i))))
      }
    }
  }

  /// **advance**: the next slice position (after `currentSlice`, wrapping,
  /// ending with `currentSlice` itself) whose owner is runnable becomes
  /// current; if none, the kernel idles (`current = none`).
  mutating func advance() {
    let d = domain
    let count = UInt64(truncatingIfNeeded: bounds.slices)
    let start = currentSlice
    let hit = d.first(bounds.slices) { k in
      let position = d.remainder(d.add(start, word(k + 1)), count)
      return d.eq(stateOf(sliceOwner(position)), word(EnvironmentState.runnable))
    }
    d.branch(
      hit.found,
      then: {
        let position = d.remainder(d.add(d.add(start, hit.index), word(1)), count)
        d.assign(&currentSlice, position)
        d.assign(&current, sliceOwner(position))
      },
      else: {
        d.assign(&current, none)
      })
  }

  /// **end call of X**: whoever X is serving gets `asynchronousCaller`; a
  /// caller waiting for X wakes up (its `call` returns `wrongState`); then
  /// `caller(X) = none`.
  mutating func endCall(_ x: W) {
    let d = domain
    for j in 0..<bounds.environments {
      d.when(d.eq(environments.caller[j], x)) {
        d.write(&environments.caller, word(j), word(asynchronousCaller))
      }
    }
    let waiter = callerOf(x)
    d.when(
      d.and(
        d.ult(waiter, word(bounds.environments)),
        d.eq(stateOf(waiter), word(EnvironmentState.waiting)))
    ) {
      d.write(&environments.state, waiter, word(EnvironmentState.runnable))
      d.callAbandoned(waiter)
    }
    d.write(&environments.caller, x, none)
  }
}
