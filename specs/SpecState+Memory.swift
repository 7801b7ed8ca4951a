import ExoABI

/// Physical memory and bindings (docs/ABI.md, "Calls"): allocate, map,
/// unmap, protect.
extension SpecState {
  /// `pageAllocate(page, count, slot)`.
  public mutating func pageAllocate(page: W, count: W, slot: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(
      d.and(d.ne(count, zero), d.ule(count, word(bounds.maximumRun))), else: .invalidArgument)
    // ABI.md: `page + count > firstPage + P` without wrapping, i.e. the run
    // must end inside the table.
    let pageCount = word(bounds.pages)
    v.require(
      d.and(
        d.uge(page, word(firstPage)), d.ule(count, pageCount),
        d.ule(pageIndex(page), d.sub(pageCount, count))),
      else: .outOfRange)
    v.require(d.ult(slot, word(bounds.capabilities)), else: .outOfRange)
    v.require(d.eq(kindOf(slot), word(CapabilityKind.empty)), else: .slotInUse)
    v.require(runIsFree(page: page, count: count), else: .slotInUse)
    v.require(d.not(isPending(current)), else: .busy)
    return finish(v) { s in
      let me = s.current
      s.freeRun(base: page, count: count, when: d.bool(true)) { state, index in
        d.write(&state.pages.owner, index, me)
        d.write(&state.pages.root, index, slot)
        d.pageAllocated(d.add(index, state.word(state.firstPage)))
      }
      s.countPages(of: me, count, adding: true)
      s.setCapability(
        slot, kind: .memory, owner: me, parent: s.none, depth: s.zero,
        rights: s.word(Rights.memory), base: page, count: count)
      return s.zero
    }
  }

  /// Whether every page of `[page, page + count)` is free (count at most
  /// maximumRun).
  @inline(__always)
  func runIsFree(page: W, count: W) -> B {
    let d = domain
    var free = d.bool(true)
    // Positions past `count` add nothing: the plain domains stop there.
    d.forEach(below: count, bound: bounds.maximumRun) { i in
      let beyond = d.uge(word(i), count)
      free = d.and(free, d.or(beyond, d.eq(ownerOf(page: d.add(page, word(i))), none)))
    }
    return free
  }

  /// `pageMap(T, c, m, page, s, rights)`.
  public mutating func pageMap(
    target t: W, envCap c: W, memoryCap m: W, page: W, slot: W, rights: W
  ) -> Outcome<D> {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(isLive(t), else: .wrongState)
    v.require(isBindingRights(rights), else: .invalidArgument)
    v.require(d.ult(slot, word(bounds.windowSlots)), else: .outOfRange)
    v.require(d.ult(m, word(bounds.capabilities)), else: .outOfRange)
    v.require(
      d.and(d.eq(kindOf(m), word(CapabilityKind.memory)), d.eq(ownerOf(capability: m), t)),
      else: .invalidCapability)
    let base = baseOf(m)
    v.require(
      d.and(
        d.uge(page, base), d.ult(d.sub(page, base), countOf(m)),
        d.within(rights, rightsOf(capability: m))),
      else: .insufficientRights)
    let b = binding(t, slot)
    v.require(d.eq(pageOf(binding: b), none), else: .slotInUse)
    return finish(v) { s in
      d.write(&s.bindings.page, b, page)
      d.write(&s.bindings.capability, b, m)
      d.write(&s.bindings.rights, b, rights)
      d.write(&s.capabilities.bindings, m, d.add(s.bindingsOf(m), s.word(1)))
      d.write(&s.pages.mappings, s.pageIndex(page), d.add(s.mappingsOf(page: page), s.word(1)))
      s.countBinding(of: t, by: 1)
      d.bindingChanged(b)
      return s.zero
    }
  }

  /// `pageUnmap(T, c, s)`.
  public mutating func pageUnmap(target t: W, envCap c: W, slot: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(isLive(t), else: .wrongState)
    v.require(d.ult(slot, word(bounds.windowSlots)), else: .outOfRange)
    let b = binding(t, slot)
    v.require(d.ne(pageOf(binding: b), none), else: .slotEmpty)
    return finish(v) { s in
      s.removeBinding(b, of: t)
      return s.zero
    }
  }

  /// `pageProtect(T, c, s, rights)`.
  public mutating func pageProtect(target t: W, envCap c: W, slot: W, rights: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(isLive(t), else: .wrongState)
    v.require(isBindingRights(rights), else: .invalidArgument)
    v.require(d.ult(slot, word(bounds.windowSlots)), else: .outOfRange)
    let b = binding(t, slot)
    v.require(d.ne(pageOf(binding: b), none), else: .slotEmpty)
    v.require(
      d.within(rights, rightsOf(capability: capabilityOf(binding: b))), else: .insufficientRights)
    return finish(v) { s in
      // A filter's buffer stays writable (docs/network.md).
      d.when(d.not(d.has(rights, Rights.write.rawValue))) { s.removeFilters(bufferedAt: b) }
      d.write(&s.bindings.rights, b, rights)
      d.bindingChanged(b)
      return s.zero
    }
  }
}
