import ExoABI

/// Protected control transfer (docs/ABI.md, "Calls"): call, reply, send.
/// The message words travel in registers, which the abstract state does not
/// hold, so they do not appear in the transitions.
extension SpecState {
  /// Checks 1–7 of `call` (shared by `send`); returns the callee `T`.
  @inline(__always)
  func requireCallable(_ v: inout Verdict<D>, _ c: W) -> W {
    let d = domain
    v.require(d.ult(c, word(bounds.capabilities)), else: .outOfRange)
    v.require(
      d.and(
        d.eq(kindOf(c), word(CapabilityKind.environment)), d.eq(ownerOf(capability: c), current)),
      else: .invalidCapability)
    v.require(d.has(rightsOf(capability: c), Rights.call.rawValue), else: .insufficientRights)
    let t = baseOf(c)
    v.require(d.ne(t, current), else: .invalidArgument)
    v.require(d.eq(stateOf(t), word(EnvironmentState.runnable)), else: .wrongState)
    v.require(d.and(d.ne(callEntryOf(t), zero), d.ne(handlerStackOf(t), zero)), else: .noEntry)
    v.require(d.eq(callerOf(t), none), else: .busy)
    return t
  }

  /// `call(c, m0, m1, m2, m3)`: the caller waits, the callee runs.
  // ABI.md: the call's own value is the callee's reply, delivered later by
  // `reply`; the transition's value is 0.
  public mutating func call(capability c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    let t = requireCallable(&v, c)
    return finish(v) { s in
      let me = s.current
      d.write(&s.environments.state, me, s.word(EnvironmentState.waiting))
      d.write(&s.environments.caller, t, me)
      d.assign(&s.current, t)
      d.transferred(from: me, to: t, asynchronous: false)
      return s.zero
    }
  }

  /// `reply(m0, m1, m2, m3)`: ends the current call.
  // ABI.md: the replier resumes its saved registers; the transition's value
  // is 0.
  public mutating func reply() -> Outcome<D> {
    let d = domain
    var v = begin()
    let waiter = callerOf(current)
    v.require(d.ne(waiter, none), else: .wrongState)
    return finish(v) { s in
      let me = s.current
      d.write(&s.environments.caller, me, s.none)
      let wakes = d.and(
        d.ult(waiter, s.word(s.bounds.environments)),
        d.eq(s.stateOf(waiter), s.word(EnvironmentState.waiting)))
      d.when(wakes) {
        d.write(&s.environments.state, waiter, s.word(EnvironmentState.runnable))
        d.assign(&s.current, waiter)
      }
      d.replied(me, to: waiter, woke: wakes)
      return s.zero
    }
  }

  /// `send(c, m0, m1, m2, m3)`: asynchronous call; the sender stays runnable.
  public mutating func send(capability c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    let t = requireCallable(&v, c)
    return finish(v) { s in
      let me = s.current
      d.write(&s.environments.caller, t, s.word(asynchronousCaller))
      d.assign(&s.current, t)
      d.transferred(from: me, to: t, asynchronous: true)
      return s.zero
    }
  }
}

/// Kernel events (docs/ABI.md, "Kernel events"): tick and exception.
extension SpecState {
  /// A slice ends: `ticks += 1`, advance. Value 0.
  public mutating func tick() -> Outcome<D> {
    let d = domain
    tickCount = d.add(tickCount, word(1))
    advance()
    return Outcome(status: zero, value: zero)
  }

  /// An exception in ring 3 of the current environment X, whose frame would
  /// go into window slot `frameSlot`. Value 1 when delivered to X's handler
  /// (no change), 0 when X is stopped instead.
  // ABI.md: vector, error and address are reported, not modelled. On an
  // idle state (no current environment, so no ring-3 code to fault) the
  // event is a no-op with value 0.
  public mutating func exception(vector: W, error: W, address: W, frameSlot: W) -> Outcome<D> {
    let d = domain
    let x = current
    let running = d.ult(x, word(bounds.environments))
    let b = binding(x, frameSlot)
    let delivered = d.and(
      d.and(d.ne(handlerOf(x), zero), d.ne(handlerStackOf(x), zero)),
      d.ne(pageOf(binding: b), none), d.has(rightsOf(binding: b), Rights.write.rawValue))
    d.when(running) { d.exceptionTaken(x, delivered: delivered) }
    d.when(d.and(running, d.not(delivered))) {
      d.write(&environments.state, x, word(EnvironmentState.stopped))
      advance()
    }
    return Outcome(status: zero, value: d.ite(d.and(running, delivered), word(1), zero))
  }
}
