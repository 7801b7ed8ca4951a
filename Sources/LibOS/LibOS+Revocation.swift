import ExoABI

/// The libOS's side of visible revocation (docs/ABI.md "Revocation"): which
/// pages to give back when the kernel asks, and how to bring its own tables
/// back in line with what the kernel took by force.
///
/// The upcalls only note what happened: they interrupt the program
/// anywhere, also in the middle of a libOS table update. The work is done
/// at the next *revocation point*, where the tables are consistent: every
/// load, store and yield through the libOS (the same places a thread may be
/// preempted), before an allocation, and wherever the program calls
/// ``revocationPoint()``. A request is answered there in full; a
/// repossession is reconciled there with the repossession vector and the
/// exported bindings, so that no record names a page the environment lost.
extension LibOS {
  // MARK: The exported revocation tables

  /// A field of environment `e`'s revocation record.
  public func revocation(_ e: UInt64, _ field: RevocationField) -> UInt64 {
    kernel.info(layout.offset(revocation: Int(e), field))
  }
  /// Entry `i` of environment `e`'s repossession vector.
  public func repossession(_ e: UInt64, entry i: Int) -> UInt64 {
    kernel.info(layout.offset(repossession: Int(e), entry: i))
  }
  /// Whether a revocation request for this environment is pending.
  public var revocationPending: Bool {
    revocation(me, .phase) != RevocationPhase.none.rawValue
  }

  // MARK: Upcalls

  /// The upcall handler: notes the event for the next revocation point.
  func noteUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
    switch reason {
    case .revocationRequest:
      requestNoted = true
      vectorSeen = 0  // a new request starts with an empty vector
    case .repossession: repossessionNoted = true
    case .capabilityLost, .sliceLost, .frameArrived: break
    }
  }

  // MARK: Revocation points

  /// Answers a pending revocation request and reconciles the libOS's tables
  /// with what the kernel took. Cheap when nothing happened: a few reads of
  /// the exported tables. Does nothing inside a handler (the interrupted
  /// code may be halfway through a table update).
  public func revocationPoint() {
    guard handlerDepth == 0, !inRevocation else { return }
    inRevocation = true
    defer { inRevocation = false }
    reconcileWithKernel()
    restoreHandlerStack()
    let phase = revocation(me, .phase)
    guard phase != RevocationPhase.none.rawValue else {
      requestNoted = false
      return
    }
    // A request not answered yet: one the upcall announced, or one whose
    // record differs from the last answered (the upcall may be dropped).
    let key =
      revocation(me, .deadline) &* 31 &+ revocation(me, .held) &* 7
      &+ revocation(me, .requested)
    guard requestNoted || key != answeredRequest else { return }
    requestNoted = false
    answeredRequest = key
    if ignoresRequests > 0 {
      ignoresRequests -= 1
      return
    }
    revocationsAnswered += 1
    answerRequest()
  }

  /// Gives back what the pending request still owes: first the retired
  /// root capabilities nothing uses any more (pages the libOS could not
  /// delete yet), then the slots of ``revocationVictims(count:)`` in its
  /// order; stops when nothing is owed.
  func answerRequest() {
    for c in retired
    where capability(c, .parent) == none && capability(c, .children) == 0
      && capability(c, .bindings) == 0
    {
      let result = kernel.sys(RevocationReturnArguments(capability: c))
      guard result.error == nil else { continue }
      pagesReturned += 1
      retired.removeAll { $0 == c }
      if result.value == 0 { return }
    }
    let requested = revocation(me, .requested)
    let done = revocation(me, .returned) &+ revocation(me, .repossessed)
    guard requested > done else { return }
    for s in revocationVictims(count: Int(requested - done)) {
      let record = slots[s]
      let result = kernel.sys(RevocationReturnArguments(capability: record.capability))
      guard result.error == nil else { continue }
      pagesReturned += 1
      forget(slot: s, lost: record.dirty)
      if result.value == 0 { break }
    }
  }

  /// Brings the tables in line with the kernel: the new entries of the
  /// repossession vector, then every slot whose binding the kernel removed
  /// (a page taken from a fork relative that shared it, or an entry the
  /// libOS could not read in time), then the retired capabilities. Makes
  /// no system call. Not for use inside a handler.
  public func reconcileWithKernel() {
    if plantedBug == .reconcileSkipped { return }
    let recorded = Int(min(revocation(me, .repossessed), UInt64(bounds.pages)))
    if recorded < vectorSeen { vectorSeen = 0 }  // a new request (its upcall was dropped)
    if recorded > vectorSeen {
      var pages: [UInt64] = []
      for i in vectorSeen..<recorded { pages.append(repossession(me, entry: i)) }
      vectorSeen = recorded
      pagesRepossessed += pages.count
      reconcile(repossessed: pages)
    }
    repossessionNoted = false
    for s in 0..<bounds.windowSlots where slots[s].page != none {
      if binding(me, s, .page) != slots[s].page
        || binding(me, s, .capability) != slots[s].capability
      {
        forget(slot: s, lost: slots[s].dirty || slots[s].copyOnWrite)
      }
    }
    retired.removeAll { c in
      capability(c, .owner) != me || capability(c, .kind) == CapabilityKind.empty.rawValue
    }
  }

  /// Maps the handler stack again where a repossession took a page of it
  /// (only when no request is pending: allocation is refused then).
  func restoreHandlerStack() {
    let top = bounds.windowSlots - 1
    guard slots[top - handlerStackSlots + 1...top].contains(where: { $0.page == none }),
      !revocationPending
    else { return }
    for i in 0..<handlerStackSlots where slots[top - i].page == none {
      try? allocate(slot: top - i, rights: [.read, .write], private: true)
    }
  }

  /// Forgets slot `s`'s page (the kernel no longer binds it there). The
  /// slot becomes demand-allocated: it reads as zeros again. `lost`: it
  /// held written data, which ``lostHook`` hears about.
  func forget(slot s: Int, lost: Bool) {
    let wasPrivate = slots[s].isPrivate
    slots[s] = SlotRecord()
    slots[s].demand = s < userSlots && !wasPrivate
    if lost && s < userSlots && !wasPrivate {
      lostSlots += 1
      if let lostHook { lostHook(s) } else { unreportedLosses.append(s) }
    }
  }

  /// Runs `attempt`, a call the kernel refuses with `busy` while a
  /// revocation request is pending for this environment (or, for a grant,
  /// for the receiver). On `busy`: answers this environment's request and,
  /// while a request stays pending, yields until it ends (met, or its
  /// deadline passed and the abort completed), then tries again.
  func retryingRevocation(_ attempt: () -> SyscallResult) -> SyscallResult {
    var result = attempt()
    var tries = 0
    while result.error == .busy, tries < 10_000 {
      tries += 1
      if revocationPending {
        let saved = handlerDepth
        handlerDepth = 0
        revocationPoint()
        handlerDepth = saved
      }
      // Not pending any more: it ended after the refusal; try at once.
      if revocationPending || tries > 1 { _ = kernel.sys(YieldArguments()) }
      result = attempt()
    }
    return result
  }

  // MARK: Policies

  /// The program slots to give back for a request of `count` pages, best
  /// first: only pages this environment owns outright (its root capability,
  /// shared with no fork relative, not the libOS's own stacks), clean ones
  /// (never written since mapped: nothing is lost) before dirty ones, and
  /// the least recently used first within each.
  public func revocationVictims(count: Int) -> [Int] {
    var candidates: [Int] = []
    for s in 0..<userSlots {
      let r = slots[s]
      guard r.page != none, !r.isPrivate, capability(r.capability, .owner) == me,
        capability(r.capability, .parent) == none, capability(r.capability, .count) == 1,
        capability(r.capability, .children) == 0, page(r.page, .mappings) == 1,
        binding(me, s, .page) == r.page
      else { continue }
      candidates.append(s)
    }
    candidates.sort { a, b in
      let (x, y) = (slots[a], slots[b])
      if x.dirty != y.dirty { return !x.dirty }
      return x.lastUse < y.lastUse
    }
    return Array(candidates.prefix(count))
  }

  /// After the kernel repossessed `pages`: forgets every slot that mapped
  /// one of them (the kernel removed the bindings and deleted the
  /// capabilities) and every retired capability that is gone. Each such
  /// slot becomes demand-allocated again (zeros on the next touch); the
  /// slots that held written data are returned (and told to ``lostHook``).
  /// The libOS never touches a repossessed page again: no record names it
  /// any more.
  @discardableResult
  public func reconcile(repossessed pages: [UInt64]) -> [Int] {
    var lost: [Int] = []
    for s in 0..<bounds.windowSlots where slots[s].page != none && pages.contains(slots[s].page) {
      let dirty = slots[s].dirty
      if dirty && s < userSlots && !slots[s].isPrivate { lost.append(s) }
      forget(slot: s, lost: dirty)
    }
    retired.removeAll { c in
      capability(c, .owner) != me || capability(c, .kind) == CapabilityKind.empty.rawValue
    }
    return lost
  }
}
