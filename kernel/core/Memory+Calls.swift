import Arch
import ExoABI

// Physical memory by name and secure bindings (docs/ABI.md).

func sys_pageAllocate(_ caller: UInt64, page: UInt64, count: UInt64, slot: UInt64) -> SyscallResult
{
  guard count >= 1, count <= UInt64(Info.bounds.maximumRun) else {
    return .failure(.invalidArgument)
  }
  guard page >= Info.firstPage, page <= Info.firstPage + Info.pageCount - count else {
    return .failure(.outOfRange)
  }
  guard slot < Info.capabilityCount else { return .failure(.outOfRange) }
  guard Info.kind(slot) == .empty else { return .failure(.slotInUse) }
  for p in page..<(page + count) where Info[page: p, .owner] != none {
    memoryPressure(caller, page: page, count: count)
    return .failure(.slotInUse)
  }
  guard !isPending(caller) else { return .failure(.busy) }

  for p in page..<(page + count) {
    Info[page: p, .owner] = caller
    Info[page: p, .root] = slot
    PhysicalMemory.zeroPage(p * pageSize)
  }
  Info[capability: slot, .kind] = CapabilityKind.memory.rawValue
  Info[capability: slot, .owner] = caller
  Info[capability: slot, .parent] = none
  Info[capability: slot, .depth] = 0
  Info[capability: slot, .rights] = Rights.memory.rawValue
  Info[capability: slot, .base] = page
  Info[capability: slot, .count] = count
  Info[capability: slot, .children] = 0
  Info[capability: slot, .bindings] = 0
  Info[environment: caller, .capabilities] += 1
  return .success(0)
}

func sys_pageMap(
  _ caller: UInt64, _ target: UInt64, _ c: UInt64, memory m: UInt64, page: UInt64, slot s: UInt64,
  rights: UInt64
) -> SyscallResult {
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard isLive(target) else { return .failure(.wrongState) }
  guard isValidBindingRights(rights) else { return .failure(.invalidArgument) }
  guard s < Info.windowSlots else { return .failure(.outOfRange) }
  guard m < Info.capabilityCount else { return .failure(.outOfRange) }
  guard Info.kind(m) == .memory, Info[capability: m, .owner] == target else {
    return .failure(.invalidCapability)
  }
  let base = Info[capability: m, .base]
  #if MUTANT_mapSkipsRightsCheck
    // Kernel mutant: the binding's rights are not checked against the capability's.
    guard page >= base, page - base < Info[capability: m, .count] else {
      return .failure(.insufficientRights)
    }
  #else
    guard page >= base, page - base < Info[capability: m, .count],
      Rights(rawValue: rights).isSubset(of: Rights(rawValue: Info[capability: m, .rights]))
    else { return .failure(.insufficientRights) }
  #endif
  guard Info[binding: target, slot: s, .page] == none else { return .failure(.slotInUse) }

  Info[binding: target, slot: s, .page] = page
  Info[binding: target, slot: s, .capability] = m
  Info[binding: target, slot: s, .rights] = rights
  Info[capability: m, .bindings] += 1
  #if PLANTED_BUG
    // Only in kernel-planted.elf, a test kernel: the mapping goes uncounted,
    // and the invariant check must stop it with mappingsCountExact.
  #else
    Info[page: page, .mappings] += 1
  #endif
  AddressSpaces.syncWindow(target, slot: s)
  return .success(0)
}

func sys_pageUnmap(_ caller: UInt64, _ target: UInt64, _ c: UInt64, slot s: UInt64) -> SyscallResult
{
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard isLive(target) else { return .failure(.wrongState) }
  guard s < Info.windowSlots else { return .failure(.outOfRange) }
  guard Info[binding: target, slot: s, .page] != none else { return .failure(.slotEmpty) }

  removeBinding(target, s)
  return .success(0)
}

func sys_pageProtect(
  _ caller: UInt64, _ target: UInt64, _ c: UInt64, slot s: UInt64, rights: UInt64
) -> SyscallResult {
  if let error = checkAuthority(caller, target, c) { return .failure(error) }
  guard isLive(target) else { return .failure(.wrongState) }
  guard isValidBindingRights(rights) else { return .failure(.invalidArgument) }
  guard s < Info.windowSlots else { return .failure(.outOfRange) }
  guard Info[binding: target, slot: s, .page] != none else { return .failure(.slotEmpty) }
  let m = Info[binding: target, slot: s, .capability]
  #if !MUTANT_protectSkipsRightsCheck  // kernel mutant: any binding rights are accepted
    guard Rights(rawValue: rights).isSubset(of: Rights(rawValue: Info[capability: m, .rights]))
    else { return .failure(.insufficientRights) }
  #endif

  Info[binding: target, slot: s, .rights] = rights
  AddressSpaces.syncWindow(target, slot: s)
  return .success(0)
}

/// docs/ABI.md "remove binding": counts down, clears the slot, and removes
/// the hardware mapping and its TLB entry.
func removeBinding(_ e: UInt64, _ s: UInt64) {
  let page = Info[binding: e, slot: s, .page]
  let m = Info[binding: e, slot: s, .capability]
  #if !MUTANT_unmapLeaksMapping  // kernel mutant: the page keeps counting the mapping
    Info[page: page, .mappings] -= 1
  #endif
  Info[capability: m, .bindings] -= 1
  Info.clearBinding(e, s)
  AddressSpaces.syncWindow(e, slot: s)
}

/// docs/ABI.md "delete capability": a root memory capability frees its
/// pages; a derived one counts down its parent's children.
func deleteCapability(_ k: UInt64) {
  let parent = Info[capability: k, .parent]
  Info[environment: Info[capability: k, .owner], .capabilities] -= 1
  if Info.kind(k) == .memory && parent == none {
    let base = Info[capability: k, .base]
    var end = base + Info[capability: k, .count]
    #if MUTANT_deleteLeaksPage
      end -= 1  // kernel mutant: the run's last page is never freed
    #endif
    for p in base..<end {
      Info[page: p, .owner] = none
      Info[page: p, .root] = none
    }
  }
  if parent != none { Info[capability: parent, .children] -= 1 }
  Info.clearCapability(k)
}
