import ExoABI
import UserArch

/// Typed wrappers over the kernel's system calls for user programs, one per
/// `Syscall`, named after it. Each takes ExoABI types and returns the decoded
/// `SyscallResult`; see docs/ABI.md for checks and effects.
public enum Kernel {
  /// Makes system call `call` with raw argument words.
  @inline(__always)
  public static func call(
    _ call: Syscall, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
    _ a4: UInt64 = 0, _ a5: UInt64 = 0
  ) -> SyscallResult {
    raw(call.rawValue, a0, a1, a2, a3, a4, a5)
  }

  /// Makes a system call by number, for tests that pass numbers the ABI
  /// does not define.
  @inline(__always)
  public static func raw(
    _ number: UInt64, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
    _ a4: UInt64 = 0, _ a5: UInt64 = 0
  ) -> SyscallResult {
    let r = exo_syscall6(number, a0, a1, a2, a3, a4, a5)
    return SyscallResult(status: r.status, value: r.value)
  }

  // MARK: Console and time

  public static func consoleWrite(_ address: VirtualAddress, length: UInt64) -> SyscallResult {
    call(.consoleWrite, address.rawValue, length)
  }

  /// Ends this environment with `status`, after flushing buffered output.
  public static func exit(_ status: UInt64) -> Never {
    ConsoleBuffer.flush()
    _ = call(.exit, status)
    while true {}
  }

  /// Slice ends since boot.
  public static func ticks() -> UInt64 { call(.ticks).value }

  // MARK: Environments

  public static func environmentCreate(_ environment: EnvironmentID, capability: CapabilitySlot)
    -> SyscallResult
  {
    call(.environmentCreate, UInt64(environment.rawValue), UInt64(capability.rawValue))
  }

  public static func environmentSetEntries(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, handler: UInt64,
    handlerStack: UInt64, upcall: UInt64, callEntry: UInt64
  ) -> SyscallResult {
    call(
      .environmentSetEntries, UInt64(target.rawValue), UInt64(capability.rawValue), handler,
      handlerStack, upcall, callEntry)
  }

  public static func environmentStart(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, rip: UInt64, rsp: UInt64
  ) -> SyscallResult {
    call(.environmentStart, UInt64(target.rawValue), UInt64(capability.rawValue), rip, rsp)
  }

  public static func environmentStop(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none
  )
    -> SyscallResult
  {
    call(.environmentStop, UInt64(target.rawValue), UInt64(capability.rawValue))
  }

  public static func environmentDestroy(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none
  ) -> SyscallResult {
    call(.environmentDestroy, UInt64(target.rawValue), UInt64(capability.rawValue))
  }

  public static func environmentReclaim(_ target: EnvironmentID) -> SyscallResult {
    call(.environmentReclaim, UInt64(target.rawValue))
  }

  // MARK: Memory

  public static func pageAllocate(_ page: PageNumber, count: UInt64 = 1, capability: CapabilitySlot)
    -> SyscallResult
  {
    call(.pageAllocate, page.rawValue, count, UInt64(capability.rawValue))
  }

  public static func pageMap(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, memory: CapabilitySlot,
    page: PageNumber, slot: UInt64, rights: Rights
  ) -> SyscallResult {
    call(
      .pageMap, UInt64(target.rawValue), UInt64(capability.rawValue), UInt64(memory.rawValue),
      page.rawValue, slot, rights.rawValue)
  }

  public static func pageUnmap(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, slot: UInt64
  ) -> SyscallResult {
    call(.pageUnmap, UInt64(target.rawValue), UInt64(capability.rawValue), slot)
  }

  public static func pageProtect(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, slot: UInt64, rights: Rights
  ) -> SyscallResult {
    call(.pageProtect, UInt64(target.rawValue), UInt64(capability.rawValue), slot, rights.rawValue)
  }

  // MARK: Capabilities

  public static func capabilityDerive(
    _ capability: CapabilitySlot, child: CapabilitySlot, rights: Rights, base: UInt64,
    count: UInt64
  ) -> SyscallResult {
    call(
      .capabilityDerive, UInt64(capability.rawValue), UInt64(child.rawValue), rights.rawValue,
      base, count)
  }

  public static func capabilityGrant(_ capability: CapabilitySlot, to target: EnvironmentID)
    -> SyscallResult
  {
    call(.capabilityGrant, UInt64(capability.rawValue), UInt64(target.rawValue))
  }

  public static func capabilityDelete(_ capability: CapabilitySlot) -> SyscallResult {
    call(.capabilityDelete, UInt64(capability.rawValue))
  }

  public static func capabilityRevoke(_ capability: CapabilitySlot) -> SyscallResult {
    call(.capabilityRevoke, UInt64(capability.rawValue))
  }

  // MARK: Slices

  public static func sliceAllocate(
    _ position: UInt64, for target: EnvironmentID, via capability: CapabilitySlot = .none
  ) -> SyscallResult {
    call(.sliceAllocate, position, UInt64(target.rawValue), UInt64(capability.rawValue))
  }

  public static func sliceFree(_ position: UInt64) -> SyscallResult { call(.sliceFree, position) }

  public static func yield() -> SyscallResult { call(.yield) }

  public static func yieldTo(_ target: EnvironmentID) -> SyscallResult {
    call(.yieldTo, UInt64(target.rawValue))
  }
}

extension Kernel {
  // MARK: Revocation

  /// Asks `target` to give back `count` pages within `ticks` timer ticks.
  public static func revocationRequest(
    _ target: EnvironmentID, via capability: CapabilitySlot, count: UInt64, ticks: UInt64
  ) -> SyscallResult {
    call(
      .revocationRequest, UInt64(target.rawValue), UInt64(capability.rawValue), count, ticks)
  }

  /// Gives back the run of root memory capability `capability` towards the
  /// caller's pending request. Value: pages still owed.
  public static func revocationReturn(_ capability: CapabilitySlot) -> SyscallResult {
    call(.revocationReturn, UInt64(capability.rawValue))
  }
}

extension CapabilitySlot {
  /// No capability: for calls that act on the caller itself.
  public static let none = CapabilitySlot(rawValue: .max)
}
