/// The system calls of the exokernel: the one list that the kernel's
/// dispatcher, the user library, the spec and the tests all name. The
/// arguments, checks (in order) and effects of each are in `docs/ABI.md`.
///
/// Calling convention (x86_64 `syscall`): the number in `rax`, arguments in
/// `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`, as each call's arguments type
/// assigns them (``SyscallArguments``). The kernel returns a
/// ``SyscallResult`` in `rax` (status) and `rdx` (value); `reply` delivers
/// three more words in `rsi`, `r10`, `r8` of the caller. `rcx` and `r11` are
/// clobbered; every other register is preserved.
public enum Syscall: UInt64, CaseIterable, Sendable {
  // Console and time.
  /// `consoleWrite(address, length)`: writes bytes to the kernel console.
  case consoleWrite = 1
  /// `exit(status)`: the caller becomes dying; does not return.
  case exit = 2
  /// `ticks()`: slice ends (timer ticks) since boot.
  case ticks = 3
  /// `consoleRead(address, length)`: reads the bytes waiting on the kernel
  /// console (at most `length`) without blocking. Value: how many.
  case consoleRead = 4

  // Environments.
  /// `environmentCreate(environment, capability slot)`.
  case environmentCreate = 10
  /// `environmentSetEntries(target, envCap, handler, handlerStack, upcall, callEntry)`.
  case environmentSetEntries = 11
  /// `environmentStart(target, envCap, rip, rsp)`.
  case environmentStart = 12
  /// `environmentStop(target, envCap)`.
  case environmentStop = 13
  /// `environmentDestroy(target, envCap)`: the target becomes dying.
  case environmentDestroy = 14
  /// `environmentReclaim(target)`: one bounded step of tearing down a dying
  /// environment. Value: 1 if more remains, 0 when the slot is free.
  case environmentReclaim = 15

  // Physical memory and bindings.
  /// `pageAllocate(page, count, capability slot)`.
  case pageAllocate = 20
  /// `pageMap(target, envCap, cap, page, window slot, rights)`.
  case pageMap = 21
  /// `pageUnmap(target, envCap, window slot)`.
  case pageUnmap = 22
  /// `pageProtect(target, envCap, window slot, rights)`.
  case pageProtect = 23

  // Capabilities.
  /// `capabilityDerive(cap, child slot, rights, base, count)`.
  case capabilityDerive = 30
  /// `capabilityGrant(cap, target)`.
  case capabilityGrant = 31
  /// `capabilityDelete(cap)`.
  case capabilityDelete = 32
  /// `capabilityRevoke(cap)`: one bounded step of revoking every descendant.
  /// Value: 1 if more remains, 0 when the capability has no children.
  case capabilityRevoke = 33

  // Time slices.
  /// `sliceAllocate(position, target, envCap)`.
  case sliceAllocate = 40
  /// `sliceFree(position)`.
  case sliceFree = 41
  /// `yield()`: ends the caller's turn in the current slice.
  case yield = 42
  /// `yieldTo(target)`: donates the rest of the slice to `target`.
  case yieldTo = 43

  // Protected control transfer.
  /// `call(cap, m0, m1, m2, m3)`: synchronous call into the environment
  /// `cap` names, at its registered call entry; blocks until `reply`.
  case call = 50
  /// `reply(m0, m1, m2, m3)`: ends the current call.
  case reply = 51
  /// `send(cap, m0, m1, m2, m3)`: asynchronous call; the sender does not wait.
  case send = 52

  // Revocation (docs/ABI.md "Revocation").
  /// `revocationRequest(target, envCap, count, ticks)`: asks `target` to
  /// give back `count` pages within `ticks` timer ticks.
  case revocationRequest = 60
  /// `revocationReturn(cap)`: gives back the run of a root memory
  /// capability towards the caller's pending request. Value: pages still
  /// owed.
  case revocationReturn = 61

  // Packet filters (docs/network.md).
  /// `filterTest(filter, index, first, second)`: writes test `index` of the
  /// caller's filter slot `filter` (claiming a free slot).
  case filterTest = 80
  /// `filterInstall(filter, count, slot)`: installs the caller's filter of
  /// `count` tests, its frames delivered to window slot `slot`.
  case filterInstall = 81
  /// `filterRelease(filter)`: the caller has read the frame in the buffer.
  case filterRelease = 82
  /// `filterRemove(filter)`: frees the caller's filter slot.
  case filterRemove = 83
  /// `frameTransmit(slot, length)`: sends the first `length` bytes of the
  /// page the caller has bound at window slot `slot` as a frame, if the
  /// transmit rule allows it.
  case frameTransmit = 84
}

/// Bounds the kernel enforces on console output.
public enum ConsoleLimits {
  /// The largest `consoleWrite` the kernel accepts in one call.
  public static let maximumWrite: UInt64 = 4096
  /// The largest `consoleRead` the kernel accepts in one call.
  public static let maximumRead: UInt64 = 4096
}
