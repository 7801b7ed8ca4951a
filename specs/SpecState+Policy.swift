import ExoABI

/// The kernel's policy: which transitions the kernel itself runs, and
/// when (docs/ABI.md "Kernel events"). Each step here is a transition of
/// the spec (so each keeps every invariant); this file only says how the
/// kernel composes them, for every runner of the spec alike: the kernel,
/// the libOS's host machine and the checker's liveness proof.
extension SpecState {
  /// The timer interrupt: the slice ends (``tick()``), then each
  /// environment's revocation request gets its kernel steps
  /// (``revocationTick(target:)``), in environment order.
  public mutating func timerInterrupt() {
    _ = tick()
    for e in 0..<bounds.environments { revocationTick(target: word(e)) }
  }

  /// What the kernel does for T's request at each tick: if the deadline
  /// has passed, the abort begins (``revocationDeadline(target:)``); then,
  /// while it aborts, up to `RevocationLimits.abortStepsPerTick` abort steps
  /// (``revocationAbort(target:)``; a step after the abort ended fails and
  /// changes nothing).
  ///
  /// `deadline` and `abort` run those two transitions; a checker passes its
  /// own (a mutated transition) to prove what the policy does with them.
  @inline(__always)
  public mutating func revocationTick(
    target t: W,
    deadline: (inout Self, W) -> Void = { s, t in _ = s.revocationDeadline(target: t) },
    abort: (inout Self, W) -> Void = { s, t in _ = s.revocationAbort(target: t) }
  ) {
    let d = domain
    d.when(isPending(t)) {
      deadline(&self, t)
      d.when(d.eq(phaseOf(t), word(RevocationPhase.aborting))) {
        for _ in 0..<RevocationLimits.abortStepsPerTick { abort(&self, t) }
      }
    }
  }

  /// Memory pressure, raised by the kernel after `pageAllocate(page, count,
  /// slot)` by the current environment failed because a page of the run is
  /// owned: if fewer than `count` pages are free anywhere, the owner of the
  /// lowest owned page of the run is asked (``startRequest``, with the
  /// pressure deadline) for the pages of the run it owns, unless it is the
  /// caller, not live, or already asked. Fails, changing nothing, where it
  /// does not apply.
  public mutating func allocationPressure(page: W, count: W, slot: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    // pageAllocate's checks 1-4 passed and its run check failed.
    let pageCount = word(bounds.pages)
    v.require(
      d.and(d.ne(count, zero), d.ule(count, word(bounds.maximumRun))), else: .invalidArgument)
    v.require(
      d.and(
        d.uge(page, word(firstPage)), d.ule(count, pageCount),
        d.ule(pageIndex(page), d.sub(pageCount, count))),
      else: .outOfRange)
    v.require(d.ult(slot, word(bounds.capabilities)), else: .outOfRange)
    v.require(d.eq(kindOf(slot), word(CapabilityKind.empty)), else: .slotInUse)
    v.require(d.not(runIsFree(page: page, count: count)), else: .wrongState)
    // Too few pages are free anywhere.
    v.require(d.ult(pagesOwned(by: none), count), else: .wrongState)
    let owned = d.first(bounds.maximumRun) { i in
      d.and(d.ult(word(i), count), d.ne(ownerOf(page: d.add(page, word(i))), none))
    }
    let victim = ownerOf(page: d.add(page, owned.index))
    v.require(d.ne(victim, current), else: .wrongState)
    v.require(d.ult(victim, word(bounds.environments)), else: .wrongState)
    v.require(isLive(victim), else: .wrongState)
    v.require(d.not(isPending(victim)), else: .busy)
    return finish(v) { s in
      var asked = s.zero
      for i in 0..<s.bounds.maximumRun {
        let mine = d.and(
          d.ult(s.word(i), count), d.eq(s.ownerOf(page: d.add(page, s.word(i))), victim))
        asked = d.add(asked, d.ite(mine, s.word(1), s.zero))
      }
      s.startRequest(
        victim, count: asked,
        deadline: d.add(s.tickCount, s.word(RevocationLimits.pressureDeadline)))
      return s.zero
    }
  }
}

extension SpecState where D: PlainDomain {
  /// A system call as the kernel takes it: the call's transition
  /// (``run(_:_:)``), then the kernel's memory pressure when it was a
  /// `pageAllocate` that failed with `slotInUse`
  /// (``allocationPressure(page:count:slot:)``, whose own result is
  /// dropped). The kernel's dispatcher and the differential tester's spec
  /// side both come here.
  @inline(__always)
  public mutating func systemCall(_ call: Syscall, _ r: ArgumentWords<UInt64>) -> Outcome<D> {
    let outcome = run(call, r)
    if Self.policyFollows(call, outcome) {
      let a = PageAllocateArguments(words: r)
      _ = allocationPressure(page: a.page, count: a.count, slot: a.slot)
    }
    return outcome
  }

  /// Whether the kernel's policy runs after `call` ended with `outcome`
  /// (``systemCall(_:_:)``): a `pageAllocate` refused with `slotInUse`.
  /// The kernel's short system-call path reads it too: such a call is
  /// taken again on the full path, which may upcall.
  @inline(__always)
  public static func policyFollows(_ call: Syscall, _ outcome: Outcome<D>) -> Bool {
    call == .pageAllocate && outcome.status == ExoError.slotInUse.rawValue
  }
}
