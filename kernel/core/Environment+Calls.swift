import Arch
import ExoABI

// The environment calls of docs/ABI.md.

func sys_exit(_ caller: UInt64, status: UInt64) {
  if caller == 0 {
    Log("exo: environment 0 exited with status ").decimal(status).end()
    exitMachine(status == 0 ? .success : .userFailure)
  }
  makeDying(caller, status: status)
  Scheduler.advance()
}

/// exit/destroy: the environment becomes dying; end call of it.
func makeDying(_ e: UInt64, status: UInt64) {
  Info[environment: e, .state] = EnvironmentState.dying.rawValue
  Info[environment: e, .exitStatus] = status
  // A pending revocation request is cancelled (docs/ABI.md "Revocation").
  Info[revocation: e, .phase] = RevocationPhase.none.rawValue
  // End call of e: servers of e's calls reply to no one; a caller waiting
  // on e gets wrongState.
  for other in 0..<Info.environmentCount where Info[environment: other, .caller] == e {
    Info[environment: other, .caller] = asynchronousCaller
  }
  let waiter = Info[environment: e, .caller]
  if waiter < Info.environmentCount && Info.state(waiter) == .waiting {
    Info[environment: waiter, .state] = EnvironmentState.runnable.rawValue
    Scheduler.frame(waiter).pointee.rax = ExoError.wrongState.rawValue
    Scheduler.frame(waiter).pointee.rdx = 0
  }
  Info[environment: e, .caller] = none
}

func sys_environmentCreate(_ caller: UInt64, _ e: UInt64, slot: UInt64) -> SyscallResult {
  guard e < Info.environmentCount else { return .failure(.outOfRange) }
  guard slot < Info.capabilityCount else { return .failure(.outOfRange) }
  guard Info.state(e) == .free else { return .failure(.slotInUse) }
  guard Info.kind(slot) == .empty else { return .failure(.slotInUse) }

  Info.clearEnvironment(e)
  Info[environment: e, .state] = EnvironmentState.stopped.rawValue
  Info[environment: e, .parent] = caller
  Info[capability: slot, .kind] = CapabilityKind.environment.rawValue
  Info[capability: slot, .owner] = caller
  Info[capability: slot, .parent] = none
  Info[capability: slot, .depth] = 0
  Info[capability: slot, .rights] = Rights([.grant, .control, .call]).rawValue
  Info[capability: slot, .base] = e
  Info[capability: slot, .count] = 1
  #if !MUTANT_createForgetsCapabilityCount  // kernel mutant: the new capability goes uncounted
    Info[environment: caller, .capabilities] += 1
  #endif
  AddressSpaces.build(e)
  Scheduler.reset(e, rip: ProgramImage.entry, rsp: UserLayout.stackTop)
  Scheduler.resetFPU(e)
  return .success(0)
}

func sys_environmentSetEntries(
  _ caller: UInt64, _ target: UInt64, _ c: UInt64, handler: UInt64, handlerStack: UInt64,
  upcall: UInt64, callEntry: UInt64
) -> SyscallResult {
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard isLive(target) else { return .failure(.wrongState) }
  guard handler == 0 || isUserAddress(handler), upcall == 0 || isUserAddress(upcall),
    callEntry == 0 || isUserAddress(callEntry)
  else { return .failure(.badAddress) }
  let windowEnd = UserLayout.windowBase + Info.windowSlots * pageSize
  guard
    handlerStack == 0
      || (handlerStack % 16 == 0 && handlerStack > UserLayout.windowBase
        && handlerStack <= windowEnd)
  else { return .failure(.badAddress) }

  Info[environment: target, .handler] = handler
  Info[environment: target, .handlerStack] = handlerStack
  Info[environment: target, .upcall] = upcall
  Info[environment: target, .callEntry] = callEntry
  return .success(0)
}

func sys_environmentStart(_ caller: UInt64, _ target: UInt64, _ c: UInt64, rip: UInt64, rsp: UInt64)
  -> SyscallResult
{
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard Info.state(target) == .stopped else { return .failure(.wrongState) }
  guard isUserAddress(rip), rsp >= UserLayout.start, rsp <= UserLayout.end else {
    return .failure(.badAddress)
  }

  Info[environment: target, .state] = EnvironmentState.runnable.rawValue
  Scheduler.reset(target, rip: rip, rsp: rsp)
  return .success(0)
}

func sys_environmentStop(_ caller: UInt64, _ target: UInt64, _ c: UInt64) -> SyscallResult {
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard Info.state(target) == .runnable else { return .failure(.wrongState) }

  Info[environment: target, .state] = EnvironmentState.stopped.rawValue
  if target == caller { Scheduler.advance() }
  return .success(0)
}

func sys_environmentDestroy(_ caller: UInt64, _ target: UInt64, _ c: UInt64) -> SyscallResult {
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard isLive(target) else { return .failure(.wrongState) }

  makeDying(target, status: none)
  if target == caller { Scheduler.advance() }
  return .success(0)
}

func sys_environmentReclaim(_ caller: UInt64, _ target: UInt64) -> SyscallResult {
  guard target < Info.environmentCount else { return .failure(.outOfRange) }
  guard Info.state(target) == .dying else { return .failure(.wrongState) }
  let parent = Info[environment: target, .parent]
  #if !MUTANT_reclaimIgnoresParent  // kernel mutant: anyone reclaims a live parent's child
    guard caller == parent || parent >= Info.environmentCount || !isLive(parent) else {
      return .failure(.notPermitted)
    }
  #endif

  // 1. The lowest bound window slot.
  var removed = false
  Info.forEachBinding(of: target) { s, _, _ in
    removeBinding(target, s)
    removed = true
    return false
  }
  if removed { return .success(1) }
  // 2. The lowest leaf of the reclaim domain.
  for k in 0..<Info.capabilityCount
  where Info.kind(k) != .empty && Info[capability: k, .children] == 0
    && inReclaimDomain(k, of: target)
  {
    removeOneDependent(of: k)
    return .success(1)
  }
  // 3. The lowest slice.
  for p in 0..<Info.sliceCount where Info[slice: p] == target {
    Info[slice: p] = none
    return .success(1)
  }
  // 4. The slot is free.
  Info.clearEnvironment(target)
  return .success(0)
}

/// Held by `e`, or has an ancestor held by `e`, or an environment
/// capability naming `e`.
func inReclaimDomain(_ k: UInt64, of e: UInt64) -> Bool {
  if Info.kind(k) == .environment && Info[capability: k, .base] == e { return true }
  var c = k
  for _ in 0...Info.bounds.maximumDepth {
    guard c < Info.capabilityCount else { return false }
    if Info[capability: c, .owner] == e { return true }
    c = Info[capability: c, .parent]
  }
  return false
}

/// For a leaf capability `k`: removes the first binding it backs, or, if it
/// backs none, deletes it.
func removeOneDependent(of k: UInt64) {
  if Info[capability: k, .bindings] > 0 {
    for e in 0..<Info.environmentCount {
      var removed = false
      Info.forEachBinding(of: e) { s, _, backing in
        guard backing == k else { return true }
        removeBinding(e, s)
        removed = true
        return false
      }
      if removed { return }
    }
    panic("invariant: capability bindings count exceeds its bindings")
  }
  deleteCapability(k)
}
