import ExoABI
import UserArch

/// Typed wrappers over the kernel's system calls for user programs, one per
/// `Syscall`, named after it. Each takes ExoABI types and returns the decoded
/// `SyscallResult`; see docs/ABI.md for checks and effects.
public enum Kernel {
  /// Makes the system call `arguments` are for: its number and its
  /// argument registers both come from the arguments type.
  @inline(__always)
  public static func call<Arguments: SyscallArguments>(_ arguments: Arguments) -> SyscallResult
  where Arguments.Word == UInt64 {
    call(Arguments.call, arguments.words)
  }

  /// Makes system call `call` with argument registers `words`, for code
  /// that relays a call it did not build (the libOS's kernel interface).
  @inline(__always)
  public static func call(_ call: Syscall, _ words: ArgumentWords<UInt64>) -> SyscallResult {
    raw(call.rawValue, words.rdi, words.rsi, words.rdx, words.r10, words.r8, words.r9)
  }

  /// Makes a system call by number, for tests that pass numbers the ABI
  /// does not define, and the difftest calls (`DiffCall`).
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
    call(ConsoleWriteArguments(address: address.rawValue, length: length))
  }

  /// Reads the console bytes waiting (at most `length`) to `address`.
  public static func consoleRead(_ address: VirtualAddress, length: UInt64) -> SyscallResult {
    call(ConsoleReadArguments(address: address.rawValue, length: length))
  }

  /// Ends this environment with `status`, after flushing buffered output.
  public static func exit(_ status: UInt64) -> Never {
    ConsoleBuffer.flush()
    _ = call(ExitArguments(status: status))
    while true {}
  }

  /// Slice ends since boot.
  public static func ticks() -> UInt64 { call(TicksArguments()).value }

  // MARK: Environments

  public static func environmentCreate(_ environment: EnvironmentID, capability: CapabilitySlot)
    -> SyscallResult
  {
    call(
      EnvironmentCreateArguments(
        environment: UInt64(environment.rawValue), slot: UInt64(capability.rawValue)))
  }

  public static func environmentSetEntries(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, handler: UInt64,
    handlerStack: UInt64, upcall: UInt64, callEntry: UInt64
  ) -> SyscallResult {
    call(
      EnvironmentSetEntriesArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue), handler: handler,
        handlerStack: handlerStack, upcall: upcall, callEntry: callEntry))
  }

  public static func environmentStart(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, rip: UInt64, rsp: UInt64
  ) -> SyscallResult {
    call(
      EnvironmentStartArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue), rip: rip, rsp: rsp))
  }

  public static func environmentStop(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none
  ) -> SyscallResult {
    call(
      EnvironmentStopArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue)))
  }

  public static func environmentDestroy(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none
  ) -> SyscallResult {
    call(
      EnvironmentDestroyArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue)))
  }

  public static func environmentReclaim(_ target: EnvironmentID) -> SyscallResult {
    call(EnvironmentReclaimArguments(target: UInt64(target.rawValue)))
  }

  // MARK: Memory

  public static func pageAllocate(_ page: PageNumber, count: UInt64 = 1, capability: CapabilitySlot)
    -> SyscallResult
  {
    call(
      PageAllocateArguments(
        page: page.rawValue, count: count, slot: UInt64(capability.rawValue)))
  }

  public static func pageMap(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, memory: CapabilitySlot,
    page: PageNumber, slot: UInt64, rights: Rights
  ) -> SyscallResult {
    call(
      PageMapArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue),
        memoryCap: UInt64(memory.rawValue), page: page.rawValue, slot: slot,
        rights: rights.rawValue))
  }

  public static func pageUnmap(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, slot: UInt64
  ) -> SyscallResult {
    call(
      PageUnmapArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue), slot: slot))
  }

  public static func pageProtect(
    _ target: EnvironmentID, via capability: CapabilitySlot = .none, slot: UInt64, rights: Rights
  ) -> SyscallResult {
    call(
      PageProtectArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue), slot: slot,
        rights: rights.rawValue))
  }

  // MARK: Capabilities

  public static func capabilityDerive(
    _ capability: CapabilitySlot, child: CapabilitySlot, rights: Rights, base: UInt64,
    count: UInt64
  ) -> SyscallResult {
    call(
      CapabilityDeriveArguments(
        capability: UInt64(capability.rawValue), child: UInt64(child.rawValue),
        rights: rights.rawValue, base: base, count: count))
  }

  public static func capabilityGrant(_ capability: CapabilitySlot, to target: EnvironmentID)
    -> SyscallResult
  {
    call(
      CapabilityGrantArguments(
        capability: UInt64(capability.rawValue), target: UInt64(target.rawValue)))
  }

  public static func capabilityDelete(_ capability: CapabilitySlot) -> SyscallResult {
    call(CapabilityDeleteArguments(capability: UInt64(capability.rawValue)))
  }

  public static func capabilityRevoke(_ capability: CapabilitySlot) -> SyscallResult {
    call(CapabilityRevokeArguments(capability: UInt64(capability.rawValue)))
  }

  // MARK: Slices

  public static func sliceAllocate(
    _ position: UInt64, for target: EnvironmentID, via capability: CapabilitySlot = .none
  ) -> SyscallResult {
    call(
      SliceAllocateArguments(
        position: position, target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue)))
  }

  public static func sliceFree(_ position: UInt64) -> SyscallResult {
    call(SliceFreeArguments(position: position))
  }

  public static func yield() -> SyscallResult { call(YieldArguments()) }

  public static func yieldTo(_ target: EnvironmentID) -> SyscallResult {
    call(YieldToArguments(target: UInt64(target.rawValue)))
  }
}

extension Kernel {
  // MARK: Revocation

  /// Asks `target` to give back `count` pages within `ticks` timer ticks.
  public static func revocationRequest(
    _ target: EnvironmentID, via capability: CapabilitySlot, count: UInt64, ticks: UInt64
  ) -> SyscallResult {
    call(
      RevocationRequestArguments(
        target: UInt64(target.rawValue), envCap: UInt64(capability.rawValue), count: count,
        ticks: ticks))
  }

  /// Gives back the run of root memory capability `capability` towards the
  /// caller's pending request. Value: pages still owed.
  public static func revocationReturn(_ capability: CapabilitySlot) -> SyscallResult {
    call(RevocationReturnArguments(capability: UInt64(capability.rawValue)))
  }
}

extension CapabilitySlot {
  /// No capability: for calls that act on the caller itself.
  public static let none = CapabilitySlot(rawValue: .max)
}
