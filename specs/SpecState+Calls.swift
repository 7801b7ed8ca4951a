import ExoABI

/// The system-call entry of the spec: a call and its argument registers,
/// decoded through ExoABI's argument types (the one definition of which
/// register carries which argument). The kernel's dispatcher and the host's
/// `apply` both come here.
extension SpecState {
  /// Runs system call `call` for the current environment with argument
  /// registers `r`.
  @inline(__always)
  public mutating func run(_ call: Syscall, _ r: ArgumentWords<W>) -> Outcome<D> {
    switch call {
    case .consoleWrite:
      let a = ConsoleWriteArguments(words: r)
      return consoleWrite(address: a.address, length: a.length)
    case .consoleRead:
      let a = ConsoleReadArguments(words: r)
      return consoleRead(address: a.address, length: a.length)
    case .exit: return exit(status: ExitArguments(words: r).status)
    case .ticks: return ticks()
    case .environmentCreate:
      let a = EnvironmentCreateArguments(words: r)
      return environmentCreate(environment: a.environment, slot: a.slot)
    case .environmentSetEntries:
      let a = EnvironmentSetEntriesArguments(words: r)
      return environmentSetEntries(
        target: a.target, envCap: a.envCap, handler: a.handler, handlerStack: a.handlerStack,
        upcall: a.upcall, callEntry: a.callEntry)
    case .environmentStart:
      let a = EnvironmentStartArguments(words: r)
      return environmentStart(target: a.target, envCap: a.envCap, rip: a.rip, rsp: a.rsp)
    case .environmentStop:
      let a = EnvironmentStopArguments(words: r)
      return environmentStop(target: a.target, envCap: a.envCap)
    case .environmentDestroy:
      let a = EnvironmentDestroyArguments(words: r)
      return environmentDestroy(target: a.target, envCap: a.envCap)
    case .environmentReclaim:
      return environmentReclaim(target: EnvironmentReclaimArguments(words: r).target)
    case .pageAllocate:
      let a = PageAllocateArguments(words: r)
      return pageAllocate(page: a.page, count: a.count, slot: a.slot)
    case .pageMap:
      let a = PageMapArguments(words: r)
      return pageMap(
        target: a.target, envCap: a.envCap, memoryCap: a.memoryCap, page: a.page, slot: a.slot,
        rights: a.rights)
    case .pageUnmap:
      let a = PageUnmapArguments(words: r)
      return pageUnmap(target: a.target, envCap: a.envCap, slot: a.slot)
    case .pageProtect:
      let a = PageProtectArguments(words: r)
      return pageProtect(target: a.target, envCap: a.envCap, slot: a.slot, rights: a.rights)
    case .capabilityDerive:
      let a = CapabilityDeriveArguments(words: r)
      return capabilityDerive(
        capability: a.capability, child: a.child, rights: a.rights, base: a.base, count: a.count)
    case .capabilityGrant:
      let a = CapabilityGrantArguments(words: r)
      return capabilityGrant(capability: a.capability, target: a.target)
    case .capabilityDelete:
      return capabilityDelete(capability: CapabilityDeleteArguments(words: r).capability)
    case .capabilityRevoke:
      return capabilityRevoke(capability: CapabilityRevokeArguments(words: r).capability)
    case .sliceAllocate:
      let a = SliceAllocateArguments(words: r)
      return sliceAllocate(position: a.position, target: a.target, envCap: a.envCap)
    case .sliceFree: return sliceFree(position: SliceFreeArguments(words: r).position)
    case .yield: return yield()
    case .yieldTo: return yieldTo(target: YieldToArguments(words: r).target)
    // The message words travel in registers, which the abstract state does
    // not hold.
    case .call: return self.call(capability: CallArguments(words: r).capability)
    case .reply: return reply()
    case .send: return send(capability: SendArguments(words: r).capability)
    case .revocationRequest:
      let a = RevocationRequestArguments(words: r)
      return revocationRequest(target: a.target, envCap: a.envCap, count: a.count, ticks: a.ticks)
    case .revocationReturn:
      return revocationReturn(capability: RevocationReturnArguments(words: r).capability)
    case .filterTest:
      let a = FilterTestArguments(words: r)
      return filterTest(filter: a.filter, index: a.index, first: a.first, second: a.second)
    case .filterInstall:
      let a = FilterInstallArguments(words: r)
      return filterInstall(filter: a.filter, count: a.count, slot: a.slot)
    case .filterRelease: return filterRelease(filter: FilterReleaseArguments(words: r).filter)
    case .filterRemove: return filterRemove(filter: FilterRemoveArguments(words: r).filter)
    case .frameTransmit:
      let a = FrameTransmitArguments(words: r)
      return frameTransmit(slot: a.slot, length: a.length)
    }
  }
}
