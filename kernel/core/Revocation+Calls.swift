import ExoABI

// Visible revocation and the abort protocol (docs/ABI.md "Revocation").

/// A request for `e` is pending.
func isPending(_ e: UInt64) -> Bool {
  Info[revocation: e, .phase] != RevocationPhase.none.rawValue
}

/// Capability `k` is a root memory capability.
func isRootMemory(_ k: UInt64) -> Bool {
  Info.kind(k) == .memory && Info[capability: k, .parent] == none
}

/// `requested − returned − repossessed` of `e`, or 0 if not positive.
func owed(_ e: UInt64) -> UInt64 {
  let done = Info[revocation: e, .returned] &+ Info[revocation: e, .repossessed]
  let asked = Info[revocation: e, .requested]
  return done < asked ? asked - done : 0
}

func sys_revocationRequest(
  _ caller: UInt64, _ target: UInt64, _ c: UInt64, count: UInt64, ticks: UInt64
) -> SyscallResult {
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard target != caller else { return .failure(.invalidArgument) }
  guard isLive(target) else { return .failure(.wrongState) }
  guard count >= 1, count <= Info.pageCount, ticks >= 1,
    ticks <= RevocationLimits.maximumDeadline
  else { return .failure(.invalidArgument) }
  guard !isPending(target) else { return .failure(.busy) }

  startRequest(target, count: count, deadline: Info[header: .ticks] &+ ticks)
  return .success(0)
}

func sys_revocationReturn(_ caller: UInt64, _ c: UInt64) -> SyscallResult {
  guard isPending(caller) else { return .failure(.wrongState) }
  guard c < Info.capabilityCount else { return .failure(.outOfRange) }
  guard isRootMemory(c), Info[capability: c, .owner] == caller else {
    return .failure(.invalidCapability)
  }

  let count = Info[capability: c, .count]
  repossessRun(c, recordFor: nil)
  Info[revocation: caller, .returned] &+= count
  let stillOwed = owed(caller)
  if stillOwed == 0 { Info[revocation: caller, .phase] = RevocationPhase.none.rawValue }
  return .success(stillOwed)
}

/// A fresh request for `e`, then the revocation-request upcall.
func startRequest(_ e: UInt64, count: UInt64, deadline: UInt64) {
  var held: UInt64 = 0
  for i in 0..<Info.pageCount where Info[page: Info.firstPage + i, .owner] == e { held += 1 }
  Info[revocation: e, .phase] = RevocationPhase.requested.rawValue
  Info[revocation: e, .requested] = count
  Info[revocation: e, .deadline] = deadline
  Info[revocation: e, .returned] = 0
  Info[revocation: e, .held] = held
  Info[revocation: e, .repossessed] = 0
  Info.clearRepossessions(e)
  Upcall.raise(e, .revocationRequest, count, deadline)
}

/// The kernel event `revocationDeadline(e)`: true if it applied.
@discardableResult
func revocationDeadline(_ e: UInt64) -> Bool {
  guard Info[revocation: e, .phase] == RevocationPhase.requested.rawValue,
    Info[header: .ticks] >= Info[revocation: e, .deadline]
  else { return false }
  Info[revocation: e, .phase] = RevocationPhase.aborting.rawValue
  return true
}

/// The kernel event `revocationAbort(e)` (e aborting): 1 if a run was
/// taken, 0 if the abort is complete (the repossession upcall is raised).
func revocationAbort(_ e: UInt64) -> UInt64 {
  if owed(e) > 0 {
    for r in 0..<Info.capabilityCount where isRootMemory(r) && Info[capability: r, .owner] == e {
      repossessRun(r, recordFor: e)
      return 1
    }
  }
  Info[revocation: e, .phase] = RevocationPhase.none.rawValue
  Upcall.raise(e, .repossession, Info[revocation: e, .repossessed], Info[revocation: e, .requested])
  return 0
}

/// At every timer tick: each expired request's deadline, then a bounded
/// number of abort steps per aborting environment.
func revocationTick() {
  for e in 0..<Info.environmentCount {
    revocationDeadline(e)
    guard Info[revocation: e, .phase] == RevocationPhase.aborting.rawValue else { continue }
    for _ in 0..<RevocationLimits.abortStepsPerTick where revocationAbort(e) == 0 { break }
  }
}

/// docs/ABI.md "repossess run r": every binding to a page of the run, or
/// backed by r or a capability derived from it, goes (page-table entry and
/// TLB); r and every capability derived from it are deleted; the pages
/// become free. With `recordFor`, they are appended to that environment's
/// repossession vector.
func repossessRun(_ r: UInt64, recordFor recorder: UInt64?) {
  let base = Info[capability: r, .base]
  let count = Info[capability: r, .count]
  for e in 0..<Info.environmentCount {
    Info.forEachBinding(of: e) { s, page, k in
      let inRun = page >= base && page - base < count
      if inRun || k == r || isStrictDescendant(k, of: r) { removeBinding(e, s) }
      return true
    }
  }
  // Deepest first, so every ancestor chain is intact when it is walked.
  var depth = UInt64(Info.bounds.maximumDepth)
  while depth > 0 {
    for k in 0..<Info.capabilityCount
    where Info.kind(k) != .empty && Info[capability: k, .depth] == depth
      && isStrictDescendant(k, of: r)
    {
      deleteCapability(k)
    }
    depth -= 1
  }
  deleteCapability(r)  // frees the pages
  for i in 0..<count {
    if let recorder {
      let n = Info[revocation: recorder, .repossessed]
      if n < Info.pageCount { Info[repossession: recorder, entry: n] = base + i }
      Info[revocation: recorder, .repossessed] = n + 1
      #if PLANTED_REVOCATION_BUG
        // Only in kernel-planted-revocation.elf, a test kernel: the run's
        // first page is recorded twice, and the invariant check must stop
        // it with repossessedOnce.
        if i == 0 && n + 1 < Info.pageCount {
          Info[repossession: recorder, entry: n + 1] = base
          Info[revocation: recorder, .repossessed] = n + 2
        }
      #endif
    }
  }
}

/// After `pageAllocate(page, count)` found an owned page: if fewer than
/// `count` pages are free anywhere, the owner of the lowest owned page of
/// the run (not the caller) is asked for the pages of the run it owns.
func memoryPressure(_ caller: UInt64, page: UInt64, count: UInt64) {
  var free: UInt64 = 0
  for i in 0..<Info.pageCount where Info[page: Info.firstPage + i, .owner] == none { free += 1 }
  guard free < count else { return }
  var victim = none
  var owned: UInt64 = 0
  for p in page..<(page + count) {
    let owner = Info[page: p, .owner]
    if victim == none && owner != none { victim = owner }
    if owner == victim && victim != none { owned += 1 }
  }
  guard victim != caller, victim < Info.environmentCount, isLive(victim), !isPending(victim)
  else { return }
  startRequest(
    victim, count: owned, deadline: Info[header: .ticks] &+ RevocationLimits.pressureDeadline)
}

/// Upcalls (docs/ABI.md "Upcalls"): a frame on the handler stack, entered
/// at the environment's `upcall` entry.
enum Upcall {
  /// Delivers `reason` with two arguments to `e` if it can take it;
  /// otherwise drops it (the exported state still tells).
  static func raise(_ e: UInt64, _ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
    guard e < Info.environmentCount else { return }
    let state = Info.state(e)
    let entry = Info[environment: e, .upcall]
    guard entry != 0, state == .runnable || state == .stopped else { return }
    _ = deliverFrame(
      e, Scheduler.frame(e), entry: entry, vector: reason.rawValue, error: a, address: b)
  }
}
