import ExoABI

// The CPU as a vector of time slices (docs/ABI.md).

func sys_sliceAllocate(_ caller: UInt64, position p: UInt64, _ target: UInt64, _ c: UInt64)
  -> SyscallResult
{
  guard p < Info.sliceCount else { return .failure(.outOfRange) }
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard isLive(target) else { return .failure(.wrongState) }
  guard Info[slice: p] == none else { return .failure(.slotInUse) }

  Info[slice: p] = target
  return .success(0)
}

func sys_sliceFree(_ caller: UInt64, position p: UInt64) -> SyscallResult {
  guard p < Info.sliceCount else { return .failure(.outOfRange) }
  let owner = Info[slice: p]
  guard owner != none else { return .failure(.slotEmpty) }
  #if !MUTANT_sliceFreeIgnoresOwner  // kernel mutant: anyone frees anyone's slice
    guard owner == caller || Info[environment: owner, .parent] == caller else {
      return .failure(.notPermitted)
    }
  #endif

  Info[slice: p] = none
  if owner != caller { Upcall.raise(owner, .sliceLost, p, 0) }
  return .success(0)
}

func sys_yield(_ caller: UInt64) -> SyscallResult {
  Scheduler.advance()
  return .success(0)
}

func sys_yieldTo(_ caller: UInt64, _ target: UInt64) -> SyscallResult {
  guard target < Info.environmentCount else { return .failure(.outOfRange) }
  #if MUTANT_yieldToAcceptsStopped
    // Kernel mutant: a stopped environment may be given the slice.
    guard Info.state(target) == .runnable || Info.state(target) == .stopped else {
      return .failure(.wrongState)
    }
  #else
    guard Info.state(target) == .runnable else { return .failure(.wrongState) }
  #endif

  Info.current = target
  return .success(0)
}

/// The timer event: a slice ends.
func tick() {
  Info[header: .ticks] += 1
  Scheduler.advance()
  revocationTick()
}
