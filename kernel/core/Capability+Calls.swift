import ExoABI

// Hierarchical capabilities (docs/ABI.md).

/// Non-empty and held by `caller`.
private func isHeld(_ c: UInt64, by caller: UInt64) -> Bool {
  Info.kind(c) != .empty && Info[capability: c, .owner] == caller
}

func sys_capabilityDerive(
  _ caller: UInt64, _ c: UInt64, child: UInt64, rights raw: UInt64, base: UInt64, count: UInt64
) -> SyscallResult {
  guard c < Info.capabilityCount else { return .failure(.outOfRange) }
  guard isHeld(c, by: caller) else { return .failure(.invalidCapability) }
  let parentRights = Rights(rawValue: Info[capability: c, .rights])
  guard parentRights.contains(.grant) else { return .failure(.insufficientRights) }
  let rights = Rights(rawValue: raw)
  guard rights.isValid else { return .failure(.invalidArgument) }
  guard child < Info.capabilityCount else { return .failure(.outOfRange) }
  guard Info.kind(child) == .empty else { return .failure(.slotInUse) }
  let depth = Info[capability: c, .depth]
  #if MUTANT_deriveDepthOffByOne
    // Kernel mutant: a capability at the maximum depth may derive one deeper.
    guard depth <= UInt64(Info.bounds.maximumDepth) else { return .failure(.invalidArgument) }
  #else
    guard depth < UInt64(Info.bounds.maximumDepth) else { return .failure(.invalidArgument) }
  #endif
  guard rights.isSubset(of: parentRights) else { return .failure(.insufficientRights) }
  let parentBase = Info[capability: c, .base]
  let parentCount = Info[capability: c, .count]
  if Info.kind(c) == .memory {
    guard count > 0, base >= parentBase, base - parentBase <= parentCount,
      count <= parentCount - (base - parentBase)
    else { return .failure(.insufficientRights) }
  } else {
    guard base == parentBase, count == 1 else { return .failure(.insufficientRights) }
  }

  Info[capability: child, .kind] = Info[capability: c, .kind]
  Info[capability: child, .owner] = caller
  Info[capability: child, .parent] = c
  Info[capability: child, .depth] = depth + 1
  Info[capability: child, .rights] = raw
  Info[capability: child, .base] = base
  Info[capability: child, .count] = count
  Info[capability: child, .children] = 0
  Info[capability: child, .bindings] = 0
  Info[capability: c, .children] += 1
  Info[environment: caller, .capabilities] += 1
  return .success(0)
}

func sys_capabilityGrant(_ caller: UInt64, _ c: UInt64, to target: UInt64) -> SyscallResult {
  guard c < Info.capabilityCount else { return .failure(.outOfRange) }
  guard isHeld(c, by: caller) else { return .failure(.invalidCapability) }
  guard Rights(rawValue: Info[capability: c, .rights]).contains(.grant) else {
    return .failure(.insufficientRights)
  }
  guard target < Info.environmentCount else { return .failure(.outOfRange) }
  guard isLive(target) else { return .failure(.wrongState) }
  #if !MUTANT_grantIgnoresBindings  // kernel mutant: a capability backing bindings moves
    guard Info[capability: c, .bindings] == 0 else { return .failure(.busy) }
  #endif
  guard !(isRootMemory(c) && (isPending(caller) || isPending(target))) else {
    return .failure(.busy)
  }

  Info[capability: c, .owner] = target
  Info[environment: caller, .capabilities] -= 1
  Info[environment: target, .capabilities] += 1
  if Info.kind(c) == .memory && Info[capability: c, .parent] == none {
    let base = Info[capability: c, .base]
    for p in base..<(base + Info[capability: c, .count]) { Info[page: p, .owner] = target }
  }
  return .success(0)
}

func sys_capabilityDelete(_ caller: UInt64, _ c: UInt64) -> SyscallResult {
  guard c < Info.capabilityCount else { return .failure(.outOfRange) }
  guard isHeld(c, by: caller) else { return .failure(.invalidCapability) }
  guard Info[capability: c, .children] == 0, Info[capability: c, .bindings] == 0 else {
    return .failure(.busy)
  }
  guard !(isRootMemory(c) && isPending(caller)) else { return .failure(.busy) }

  deleteCapability(c)
  return .success(0)
}

func sys_capabilityRevoke(_ caller: UInt64, _ c: UInt64) -> SyscallResult {
  guard c < Info.capabilityCount else { return .failure(.outOfRange) }
  guard isHeld(c, by: caller) else { return .failure(.invalidCapability) }

  for k in 0..<Info.capabilityCount
  where Info.kind(k) != .empty && Info[capability: k, .children] == 0
    && isStrictDescendant(k, of: c)
  {
    let holder = Info[capability: k, .owner]
    let kind = Info[capability: k, .kind]
    let deletes = Info[capability: k, .bindings] == 0
    removeOneDependent(of: k)
    if deletes && holder != caller {
      Upcall.raise(holder, .capabilityLost, k, kind)
    }
    return .success(1)
  }
  return .success(0)
}

/// `c` appears among the ancestors of `k` (at most maximum-depth steps).
func isStrictDescendant(_ k: UInt64, of c: UInt64) -> Bool {
  var a = Info[capability: k, .parent]
  for _ in 0..<Info.bounds.maximumDepth {
    guard a < Info.capabilityCount else { return false }
    if a == c { return true }
    a = Info[capability: a, .parent]
  }
  return false
}
