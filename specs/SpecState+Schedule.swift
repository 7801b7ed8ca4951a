import ExoABI

/// Console, time, slices and scheduling (docs/ABI.md, "Calls"):
/// consoleWrite, consoleRead, exit, ticks, sliceAllocate, sliceFree, yield, yieldTo.
extension SpecState {
  /// `consoleWrite(address, length)`. Value: `length`.
  public mutating func consoleWrite(address: W, length: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ule(length, word(ConsoleLimits.maximumWrite)), else: .invalidArgument)
    // Readable regions are whole pages and a write spans at most two pages
    // (length <= 4096), so the first and last bytes decide.
    // ABI.md: a zero-length write touches no byte and passes.
    let last = d.add(address, d.sub(length, word(1)))
    v.require(
      d.or(
        d.eq(length, zero),
        d.and(d.uge(last, address), isReadable(address), isReadable(last))),
      else: .badAddress)
    return finish(v) { _ in length }
  }

  /// Whether byte `a` is readable user memory of the caller as the spec sees
  /// it: the program image `[imageBase, windowBase)`, the stack pages below
  /// `stackTop`, and the window slots bound with read.
  // ABI.md: everything else is unreadable here, including the info area the
  // kernel maps read-only, as the doc's spec-view rule says.
  @inline(__always)
  func isReadable(_ a: W) -> B {
    let d = domain
    let image = d.inRange(a, UserLayout.imageBase, UserLayout.windowBase)
    let stackBottom = UserLayout.stackTop - UserLayout.stackPages * pageSize
    let stack = d.inRange(a, stackBottom, UserLayout.stackTop)
    let windowEnd =
      UserLayout.windowBase + UInt64(truncatingIfNeeded: bounds.windowSlots) * pageSize
    let inWindow = d.inRange(a, UserLayout.windowBase, windowEnd)
    let b = binding(current, d.shiftRight(d.sub(a, word(UserLayout.windowBase)), 12))
    let bound = d.and(d.ne(pageOf(binding: b), none), d.has(rightsOf(binding: b), 1))
    return d.or(image, stack, d.and(inWindow, bound))
  }

  /// `consoleRead(address, length)`. The spec models a console with no
  /// input waiting: value 0 (the kernel's value is how many bytes were
  /// waiting, at most `length`). No change to the abstract state.
  public mutating func consoleRead(address: W, length: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ule(length, word(ConsoleLimits.maximumRead)), else: .invalidArgument)
    // Writable regions are whole pages and a read spans at most two pages.
    let last = d.add(address, d.sub(length, word(1)))
    v.require(
      d.or(
        d.eq(length, zero),
        d.and(d.uge(last, address), isWritable(address), isWritable(last))),
      else: .badAddress)
    return finish(v) { s in s.zero }
  }

  /// Whether byte `a` is memory of the caller that `consoleRead` may write:
  /// the stack pages below `stackTop` and the window slots bound with write.
  // ABI.md: the program image is not, though its data pages are writable.
  @inline(__always)
  func isWritable(_ a: W) -> B {
    let d = domain
    let stackBottom = UserLayout.stackTop - UserLayout.stackPages * pageSize
    let stack = d.inRange(a, stackBottom, UserLayout.stackTop)
    let windowEnd =
      UserLayout.windowBase + UInt64(truncatingIfNeeded: bounds.windowSlots) * pageSize
    let inWindow = d.inRange(a, UserLayout.windowBase, windowEnd)
    let b = binding(current, d.shiftRight(d.sub(a, word(UserLayout.windowBase)), 12))
    let bound = d.and(
      d.ne(pageOf(binding: b), none), d.has(rightsOf(binding: b), Rights.write.rawValue))
    return d.or(stack, d.and(inWindow, bound))
  }

  /// `exit(status)`: the caller becomes dying. The spec's value is 0, though
  /// the call never returns.
  public mutating func exit(status: W) -> Outcome<D> {
    let v = begin()
    return finish(v) { s in
      let me = s.current
      s.domain.environmentExiting(me, status: status)
      s.domain.write(&s.environments.state, me, s.word(EnvironmentState.dying))
      s.removeFilters(of: me)
      s.domain.write(&s.environments.exitStatus, me, status)
      s.domain.write(&s.revocations.phase, me, s.word(RevocationPhase.none))
      s.endCall(me)
      s.advance()
      return s.zero
    }
  }

  /// `ticks()`. Value: slice ends since boot.
  public mutating func ticks() -> Outcome<D> {
    let v = begin()
    return finish(v) { s in s.tickCount }
  }

  /// `sliceAllocate(p, T, c)`.
  public mutating func sliceAllocate(position p: W, target t: W, envCap c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(p, word(bounds.slices)), else: .outOfRange)
    authority(&v, t, c)
    v.require(isLive(t), else: .wrongState)
    v.require(d.eq(sliceOwner(p), none), else: .slotInUse)
    return finish(v) { s in
      d.write(&s.slices, p, t)
      return s.zero
    }
  }

  /// `sliceFree(p)`.
  public mutating func sliceFree(position p: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(p, word(bounds.slices)), else: .outOfRange)
    let owner = sliceOwner(p)
    v.require(d.ne(owner, none), else: .slotEmpty)
    v.require(
      d.or(d.eq(owner, current), d.eq(parentOf(environment: owner), current)),
      else: .notPermitted)
    return finish(v) { s in
      d.write(&s.slices, p, s.none)
      d.when(d.ne(owner, s.current)) { d.upcall(owner, .sliceLost, p, s.zero) }
      return s.zero
    }
  }

  /// `yield()`: advance. Value 0.
  public mutating func yield() -> Outcome<D> {
    let v = begin()
    return finish(v) { s in
      s.advance()
      return s.zero
    }
  }

  /// `yieldTo(T)`: T runs for the rest of the slice.
  public mutating func yieldTo(target t: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(t, word(bounds.environments)), else: .outOfRange)
    v.require(d.eq(stateOf(t), word(EnvironmentState.runnable)), else: .wrongState)
    return finish(v) { s in
      d.assign(&s.current, t)
      return s.zero
    }
  }
}
