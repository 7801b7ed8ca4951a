import ExoABI

/// Capability calls (docs/ABI.md, "Calls"): derive, grant, delete, revoke.
extension SpecState {
  /// Checks 1–2 shared by every capability call: `c` names a non-empty
  /// capability held by the caller.
  @inline(__always) func requireHeld(_ v: inout Verdict<D>, _ c: W) {
    let d = domain
    v.require(d.ult(c, word(bounds.capabilities)), else: .outOfRange)
    v.require(
      d.and(
        d.ne(kindOf(c), word(CapabilityKind.empty)), d.eq(ownerOf(capability: c), current)),
      else: .invalidCapability)
  }

  /// `capabilityDerive(c, child, rights, base, count)`.
  public mutating func capabilityDerive(
    capability c: W, child: W, rights: W, base: W, count: W
  ) -> Outcome<D> {
    let d = domain
    var v = begin()
    requireHeld(&v, c)
    let parentRights = rightsOf(capability: c)
    v.require(d.has(parentRights, Rights.grant.rawValue), else: .insufficientRights)
    v.require(d.within(rights, word(Rights.all)), else: .invalidArgument)
    v.require(d.ult(child, word(bounds.capabilities)), else: .outOfRange)
    v.require(d.eq(kindOf(child), word(CapabilityKind.empty)), else: .slotInUse)
    let depth = depthOf(c)
    v.require(d.ult(depth, word(bounds.maximumDepth)), else: .invalidArgument)
    v.require(d.within(rights, parentRights), else: .insufficientRights)
    let kind = kindOf(c)
    let parentBase = baseOf(c)
    let parentCount = countOf(c)
    // Memory: `base + count <= base(c) + count(c)` without wrapping, as
    // `base - base(c) <= count(c) - count` once `base >= base(c)` and
    // `count <= count(c)`.
    let memoryInside = d.and(
      d.and(d.ne(count, zero), d.uge(base, parentBase), d.ule(count, parentCount)),
      d.ule(d.sub(base, parentBase), d.sub(parentCount, count)))
    let environmentInside = d.and(d.eq(base, parentBase), d.eq(count, word(1)))
    // ABI.md: a kind other than memory (only environment in a well-formed
    // state) takes the environment rule.
    v.require(
      d.ite(d.eq(kind, word(CapabilityKind.memory)), memoryInside, environmentInside),
      else: .insufficientRights)
    return finish(v) { s in
      d.write(&s.capabilities.kind, child, kind)
      d.write(&s.capabilities.owner, child, s.current)
      d.write(&s.capabilities.parent, child, c)
      d.write(&s.capabilities.depth, child, d.add(depth, s.word(1)))
      d.write(&s.capabilities.rights, child, rights)
      d.write(&s.capabilities.base, child, base)
      d.write(&s.capabilities.count, child, count)
      d.write(&s.capabilities.children, child, s.zero)
      d.write(&s.capabilities.bindings, child, s.zero)
      d.write(&s.capabilities.children, c, d.add(s.childrenOf(c), s.word(1)))
      s.countCapability(of: s.current, by: 1)
      return s.zero
    }
  }

  /// `capabilityGrant(c, T)`.
  public mutating func capabilityGrant(capability c: W, target t: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    requireHeld(&v, c)
    v.require(d.has(rightsOf(capability: c), Rights.grant.rawValue), else: .insufficientRights)
    v.require(d.ult(t, word(bounds.environments)), else: .outOfRange)
    v.require(isLive(t), else: .wrongState)
    v.require(d.eq(bindingsOf(c), zero), else: .busy)
    // ABI.md "Revocation": no root memory capability moves to or from an
    // environment with a request pending.
    v.require(
      d.not(d.and(isRootMemory(c), d.or(isPending(current), isPending(t)))), else: .busy)
    return finish(v) { s in
      let isRootMemory = d.and(
        d.eq(s.kindOf(c), s.word(CapabilityKind.memory)), d.eq(s.parentOf(capability: c), s.none))
      d.write(&s.capabilities.owner, c, t)
      s.countCapability(of: s.current, by: .max)
      s.countCapability(of: t, by: 1)
      s.freeRun(base: s.baseOf(c), count: s.countOf(c), when: isRootMemory) { state, index in
        d.write(&state.pages.owner, index, t)
      }
      d.when(isRootMemory) {
        s.countPages(of: s.current, s.countOf(c), adding: false)
        s.countPages(of: t, s.countOf(c), adding: true)
      }
      return s.zero
    }
  }

  /// `capabilityDelete(c)`.
  public mutating func capabilityDelete(capability c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    requireHeld(&v, c)
    v.require(d.and(d.eq(childrenOf(c), zero), d.eq(bindingsOf(c), zero)), else: .busy)
    v.require(d.not(d.and(isRootMemory(c), isPending(current))), else: .busy)
    return finish(v) { s in
      s.deleteCapability(c)
      return s.zero
    }
  }

  /// `capabilityRevoke(c)`: one bounded step of revoking every descendant.
  /// Value 1 when a step was taken, 0 when `c` has no descendants.
  public mutating func capabilityRevoke(capability c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    requireHeld(&v, c)
    return finish(v) { s in
      // ABI.md: a descendant is a non-empty capability; in a well-formed
      // state an empty record has parent none and is never a descendant.
      let leaf = d.first(s.bounds.capabilities) { j in
        d.and(
          d.and(d.ne(s.capabilities.kind[j], s.zero), d.eq(s.capabilities.children[j], s.zero)),
          then: { s.isStrictDescendant(s.word(j), of: c) })
      }
      d.when(leaf.found) {
        // The holder of a leaf that is deleted (not merely unbound) is
        // told, unless it is the caller.
        let k = leaf.index
        let holder = s.ownerOf(capability: k)
        let kind = s.kindOf(k)
        let deletes = d.eq(s.bindingsOf(k), s.zero)
        s.reclaimStep(k)
        d.when(d.and(deletes, d.ne(holder, s.current))) {
          d.upcall(holder, .capabilityLost, k, kind)
        }
      }
      return d.ite(leaf.found, s.word(1), s.zero)
    }
  }
}
