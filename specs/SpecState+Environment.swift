import ExoABI

/// Environment calls (docs/ABI.md, "Calls"): create, set entries, start,
/// stop, destroy, reclaim.
extension SpecState {
  /// `environmentCreate(e, slot)`.
  public mutating func environmentCreate(environment e: W, slot: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(e, word(bounds.environments)), else: .outOfRange)
    v.require(d.ult(slot, word(bounds.capabilities)), else: .outOfRange)
    v.require(d.eq(stateOf(e), word(EnvironmentState.free)), else: .slotInUse)
    v.require(d.eq(kindOf(slot), word(CapabilityKind.empty)), else: .slotInUse)
    return finish(v) { s in
      let me = s.current
      s.resetEnvironment(e, state: .stopped, parent: me)
      s.setCapability(
        slot, kind: .environment, owner: me, parent: s.none, depth: s.zero,
        rights: s.word(Rights.environment), base: e, count: s.word(1))
      d.environmentCreated(e)
      return s.zero
    }
  }

  /// `environmentSetEntries(T, c, handler, handlerStack, upcall, callEntry)`.
  public mutating func environmentSetEntries(
    target t: W, envCap c: W, handler: W, handlerStack: W, upcall: W, callEntry: W
  ) -> Outcome<D> {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(isLive(t), else: .wrongState)
    v.require(
      d.and(
        d.or(d.eq(handler, zero), isUserAddress(handler)),
        d.or(d.eq(upcall, zero), isUserAddress(upcall)),
        d.or(d.eq(callEntry, zero), isUserAddress(callEntry))),
      else: .badAddress)
    let windowEnd =
      UserLayout.windowBase + UInt64(truncatingIfNeeded: bounds.windowSlots) * pageSize
    let stackOK = d.and(
      d.eq(d.bitAnd(handlerStack, word(15)), zero),
      d.ult(word(UserLayout.windowBase), handlerStack), d.ule(handlerStack, word(windowEnd)))
    v.require(d.or(d.eq(handlerStack, zero), stackOK), else: .badAddress)
    return finish(v) { s in
      d.write(&s.environments.handler, t, handler)
      d.write(&s.environments.handlerStack, t, handlerStack)
      d.write(&s.environments.upcall, t, upcall)
      d.write(&s.environments.callEntry, t, callEntry)
      return s.zero
    }
  }

  /// `environmentStart(T, c, rip, rsp)`.
  public mutating func environmentStart(target t: W, envCap c: W, rip: W, rsp: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(d.eq(stateOf(t), word(EnvironmentState.stopped)), else: .wrongState)
    v.require(
      d.and(
        isUserAddress(rip),
        d.and(d.uge(rsp, word(UserLayout.start)), d.ule(rsp, word(UserLayout.end)))),
      else: .badAddress)
    return finish(v) { s in
      d.write(&s.environments.state, t, s.word(EnvironmentState.runnable))
      d.environmentStarted(t, rip: rip, rsp: rsp)
      return s.zero
    }
  }

  /// `environmentStop(T, c)`.
  public mutating func environmentStop(target t: W, envCap c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(d.eq(stateOf(t), word(EnvironmentState.runnable)), else: .wrongState)
    return finish(v) { s in
      let isSelf = d.eq(t, s.current)
      d.write(&s.environments.state, t, s.word(EnvironmentState.stopped))
      d.when(isSelf) { s.advance() }
      return s.zero
    }
  }

  /// `environmentDestroy(T, c)`.
  public mutating func environmentDestroy(target t: W, envCap c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(isLive(t), else: .wrongState)
    return finish(v) { s in
      let isSelf = d.eq(t, s.current)
      d.write(&s.environments.state, t, s.word(EnvironmentState.dying))
      s.removeFilters(of: t)
      d.write(&s.environments.exitStatus, t, s.none)
      d.write(&s.revocations.phase, t, s.word(RevocationPhase.none))
      s.endCall(t)
      d.when(isSelf) { s.advance() }
      return s.zero
    }
  }

  /// `environmentReclaim(T)`: one bounded step of tearing down a dying
  /// environment. Value 1 when a step was taken, 0 when the slot became free.
  public mutating func environmentReclaim(target t: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(t, word(bounds.environments)), else: .outOfRange)
    v.require(d.eq(stateOf(t), word(EnvironmentState.dying)), else: .wrongState)
    let parent = parentOf(environment: t)
    let parentLive = d.and(d.ult(parent, word(bounds.environments)), isLive(parent))
    v.require(d.or(d.eq(current, parent), d.not(parentLive)), else: .notPermitted)
    return finish(v) { s in
      var value = s.word(1)
      // 1. Every bound window slot of T (its `bindings` count is exact).
      d.branch(
        d.ne(d.read(s.environments.bindings, t, default: s.zero), s.zero),
        then: { s.unbindWindow(of: t) },
        else: {
          // 2. Every capability of the reclaim domain without children or
          // bindings, in one pass.
          let pass = s.deleteLeaves(of: t)
          d.when(d.eq(pass.deleted, s.zero)) {
            d.branch(
              d.ne(pass.bound, s.none),
              // 3. Else the lowest one without children: it backs a binding.
              then: { s.reclaimStep(pass.bound) },
              else: {
                // 4. The lowest slice position owned by T.
                let slice = d.first(s.bounds.slices) { j in d.eq(s.slices[j], t) }
                d.branch(
                  slice.found,
                  then: { d.write(&s.slices, slice.index, s.none) },
                  else: {
                    // 5. The slot becomes a free record; its children
                    // become orphans.
                    s.resetEnvironment(t, state: .free, parent: s.none)
                    s.releaseOrphans(of: t)
                    d.assign(&value, s.zero)
                  })
              })
          }
        })
      return value
    }
  }

  /// Deletes every capability of `t`'s reclaim domain that has no children
  /// and backs no binding, lowest slot first (one whose last child the pass
  /// deleted counts as childless when the pass reaches it). `deleted` is 1
  /// if it deleted any, else 0; `bound` is the lowest capability of the
  /// domain without children that it kept (it backs a binding), or `none`.
  mutating func deleteLeaves(of t: W) -> (deleted: W, bound: W) {
    let d = domain
    var deleted = zero
    var bound = none
    for j in 0..<bounds.capabilities {
      let k = word(j)
      // The reclaim domain's test, empty slots (most of the table) first out.
      let leaf = d.and(
        d.ne(capabilities.kind[j], word(CapabilityKind.empty)),
        then: {
          d.and(d.eq(capabilities.children[j], zero), then: { isHeldOrNamed(k, by: t) })
        })
      d.when(leaf) {
        d.branch(
          d.eq(capabilities.bindings[j], zero),
          then: {
            deleteCapability(k)
            d.assign(&deleted, word(1))
          },
          else: { d.when(d.eq(bound, none)) { d.assign(&bound, k) } })
      }
    }
    return (deleted, bound)
  }

  /// Every bound slot of `t`'s window is removed, lowest first; then the
  /// filters whose buffer went. The window is read only up to its last
  /// bound slot (`t`'s `bindings` count is exact).
  mutating func unbindWindow(of t: W) {
    let d = domain
    let row = d.mul(t, UInt64(truncatingIfNeeded: bounds.windowSlots))
    var unseen = d.read(environments.bindings, t, default: zero)
    d.forEach(bound: bounds.windowSlots, while: { d.ne(unseen, zero) }) { j in
      let b = d.add(row, word(j))
      d.when(d.ne(pageOf(binding: b), none)) {
        d.assign(&unseen, d.sub(unseen, word(1)))
        unbind(b, of: t)
      }
    }
    removeFiltersWithoutBuffer()
  }

  /// Every environment whose parent is `t` gets parent `none` (an
  /// orphan): a freed slot is nobody's parent, so its next occupant gains
  /// no parent's power (`sliceFree`, `environmentReclaim`) over them.
  mutating func releaseOrphans(of t: W) {
    let d = domain
    for j in 0..<bounds.environments {
      d.when(d.eq(environments.parent[j], t)) {
        d.write(&environments.parent, word(j), none)
      }
    }
  }

  /// The step of reclaim and revoke on capability `k` (which has no
  /// children): break the first binding it backs if it backs any, else
  /// delete it.
  mutating func reclaimStep(_ k: W) {
    let d = domain
    d.branch(
      d.ne(bindingsOf(k), zero),
      then: {
        // ABI.md: if bindings(k) > 0 but no window slot is backed by k (a
        // state no call sequence produces), nothing changes. A binding
        // backed by k is in the window of k's holder (`bindingBacked`).
        let first = firstBinding(backedBy: k)
        d.when(first.found) { removeBinding(first.index, of: ownerOf(capability: k)) }
      },
      else: { deleteCapability(k) })
  }

  /// Fills capability slot `k` with a fresh record (no children, no
  /// bindings).
  mutating func setCapability(
    _ k: W, kind: CapabilityKind, owner: W, parent: W, depth: W, rights: W, base: W, count: W
  ) {
    let d = domain
    d.write(&capabilities.kind, k, word(kind))
    d.write(&capabilities.owner, k, owner)
    d.write(&capabilities.parent, k, parent)
    d.write(&capabilities.depth, k, depth)
    d.write(&capabilities.rights, k, rights)
    d.write(&capabilities.base, k, base)
    d.write(&capabilities.count, k, count)
    d.write(&capabilities.children, k, zero)
    d.write(&capabilities.bindings, k, zero)
    countCapability(of: owner, by: 1)
  }

  /// Writes a fresh record into environment slot `e`: `state`, `parent`, no
  /// entries, no caller, exit status 0, no capabilities, pages or bindings.
  mutating func resetEnvironment(_ e: W, state: EnvironmentState, parent: W) {
    let d = domain
    d.write(&environments.state, e, word(state))
    d.write(&environments.parent, e, parent)
    d.write(&environments.handler, e, zero)
    d.write(&environments.handlerStack, e, zero)
    d.write(&environments.upcall, e, zero)
    d.write(&environments.callEntry, e, zero)
    d.write(&environments.caller, e, none)
    d.write(&environments.exitStatus, e, zero)
    d.write(&environments.capabilities, e, zero)
    d.write(&environments.pages, e, zero)
    d.write(&environments.bindings, e, zero)
    clearRevocation(e)
  }

  /// Adds `delta` (wrapping: `.max` is −1) to the capability count of
  /// environment `e`.
  mutating func countCapability(of e: W, by delta: UInt64) {
    let d = domain
    let held = d.read(environments.capabilities, e, default: zero)
    d.write(&environments.capabilities, e, d.add(held, word(delta)))
  }

  /// Adds `count` pages (`adding`) to, or takes them from, the page count
  /// of environment `e`.
  mutating func countPages(of e: W, _ count: W, adding: Bool) {
    let d = domain
    let owned = d.read(environments.pages, e, default: zero)
    d.write(&environments.pages, e, adding ? d.add(owned, count) : d.sub(owned, count))
  }

  /// Adds `delta` (wrapping: `.max` is −1) to the count of bound window
  /// slots of environment `e`.
  mutating func countBinding(of e: W, by delta: UInt64) {
    let d = domain
    let bound = d.read(environments.bindings, e, default: zero)
    d.write(&environments.bindings, e, d.add(bound, word(delta)))
  }
}

/// The initial state (docs/ABI.md, "Initial state"), written once for every
/// domain: the kernel writes it into its exported tables at boot, the host
/// starts every run from it.
extension SpecState {
  /// Makes the state the ABI's initial state: environment 0 runnable and
  /// current, owning slice 0; everything else free or empty. The
  /// repossession vectors must already be zero (only the entries below
  /// each header are cleared, and the headers become 0).
  public mutating func writeInitialState() {
    let d = domain
    d.assign(&header[0], zero)
    d.assign(&header[1], zero)
    d.assign(&header[2], zero)
    for e in 0..<bounds.environments {
      resetEnvironment(word(e), state: e == 0 ? .runnable : .free, parent: none)
    }
    for p in 0..<bounds.slices { d.assign(&slices[p], p == 0 ? zero : none) }
    for i in 0..<bounds.pages {
      d.assign(&pages.owner[i], none)
      d.assign(&pages.mappings[i], zero)
      d.assign(&pages.root[i], none)
    }
    for c in 0..<bounds.capabilities { writeEmptyCapability(at: word(c)) }
    for b in 0..<bindings.page.count {
      d.assign(&bindings.page[b], none)
      d.assign(&bindings.capability[b], none)
      d.assign(&bindings.rights[b], zero)
    }
    d.assign(&header[3], zero)
    for f in 0..<bounds.filters {
      freeFilter(at: f)
      for i in 0..<PacketFilter.wordCount {
        d.assign(&filterWords[f * PacketFilter.wordCount + i], zero)
      }
    }
  }
}
