import Arch
import ExoABI

/// The system-call path: entry.S → `syscall` (save registers, dispatch on
/// `Syscall`, decode the argument registers) → the spec's transition over
/// the kernel's own tables (`Spec.state`: the checks of docs/ABI.md in
/// order, then the state change, with the hardware following through the
/// hooks of `KernelDomain`) → `Scheduler.resume`. Calls that run in place
/// take entry.S's short path to `syscallInPlace` instead.
@_cdecl("exo_syscall")
func syscall(_ stackFrame: UnsafeMutablePointer<trap_frame>) -> UnsafeMutablePointer<trap_frame> {
  let caller = Info.current
  // Decoded once (difftest calls have numbers of their own, no system call's).
  let call = Syscall(rawValue: stackFrame.pointee.rax)
  if let call, call.runsInPlace {
    // An in-place call comes this way when its return address is not
    // canonical (entry.S): it runs on the frame on the kernel stack, which
    // iretq restores. One the short path gave back (`takeFullPath`) is
    // refused here again and goes on to `dispatch`.
    let result = syscallInPlace(
      stackFrame.pointee.rdi, stackFrame.pointee.rsi, stackFrame.pointee.rdx, call.rawValue,
      stackFrame.pointee.r8, stackFrame.pointee.r9, stackFrame.pointee.r10)
    // A call the full path must take again (`takeFullPath`) goes on below.
    if result.status != takeFullPath {
      stackFrame.pointee.rax = result.status
      stackFrame.pointee.rdx = result.value
      return stackFrame
    }
  }
  Scheduler.enter(stackFrame)
  // Read through the pointer: a local copy of the frame costs a copy of
  // every register on each call.
  let f = UnsafePointer(Scheduler.frame(caller))
  let result: SyscallResult?
  if let call {
    result = dispatch(call, caller, f)
    if DiffMode.enabled { DiffMode.record(caller, result) }
  } else if let call = DiffCall(rawValue: f.pointee.rax), DiffMode.enabled || Loopback.allows(call)
  {
    result = DiffMode.dispatch(call, caller, f.pointee.rdi, f.pointee.rsi, f.pointee.rdx)
  } else {
    result = .failure(.noSuchCall)
    if DiffMode.enabled { DiffMode.record(caller, result) }
  }
  if let result {
    Scheduler.frame(caller).pointee.rax = result.status
    Scheduler.frame(caller).pointee.rdx = result.value
  }
  #if INVARIANTS
    Invariants.check()
  #endif
  return Scheduler.resume()
}

/// A call that runs in place (`Syscall.runsInPlace`), from entry.S's short
/// path: the call's number and argument registers (`a3`, from `r10`, comes
/// last: it is the one passed on the stack), the result for `rax` and
/// `rdx`. The caller's registers stay in the CPU and on the kernel stack:
/// nothing here may switch environments or touch saved registers.
@_cdecl("exo_syscall_in_place")
func syscallInPlace(
  _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ number: UInt64, _ a4: UInt64, _ a5: UInt64,
  _ a3: UInt64
) -> syscall_return {
  // `ticks`, the null call, costs one comparison; the others are
  // dispatched apart (a switch here would cost `ticks` a jump table).
  let outcome: Outcome<KernelDomain>
  if number == Syscall.ticks.rawValue {
    outcome = Spec.state.systemCall(.ticks, ArgumentWords(a0, a1, a2, a3, a4, a5))
  } else {
    outcome = pageCallInPlace(number, a0, a1, a2, a3, a4, a5)
    if outcome.status == takeFullPath { return syscall_return(status: takeFullPath, value: 0) }
  }
  if DiffMode.enabled {
    DiffMode.record(Info.current, SyscallResult(status: outcome.status, value: outcome.value))
  }
  #if INVARIANTS
    Invariants.check()
  #endif
  return syscall_return(status: outcome.status, value: outcome.value)
}

/// The status `exo_syscall_in_place` returns to entry.S for a call the
/// full path must take again (no call returns it: statuses are 0 and
/// `ExoError`'s codes).
private let takeFullPath = UInt64.max

/// The spec's transition of in-place call `number` other than `ticks`:
/// `pageMap`, `pageUnmap`, `pageProtect`, `capabilityDelete`, and
/// `pageAllocate`, which returns ``takeFullPath`` when the kernel's policy
/// follows it (`SpecState.policyFollows`): the policy may upcall the caller,
/// whose registers the short path keeps in the CPU. The refused call
/// changed nothing (exoverify proves `errorUnchanged` for every call), so
/// entry.S takes it again from the start on the full path, which runs it
/// and the policy.
@inline(never)
private func pageCallInPlace(
  _ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
  _ a5: UInt64
) -> Outcome<KernelDomain> {
  let words = ArgumentWords(a0, a1, a2, a3, a4, a5)
  switch number {
  case Syscall.pageAllocate.rawValue:
    let outcome = Spec.state.run(.pageAllocate, words)
    if SpecState<KernelDomain>.policyFollows(.pageAllocate, outcome) {
      return Outcome(status: takeFullPath, value: 0)
    }
    return outcome
  case Syscall.pageMap.rawValue: return Spec.state.systemCall(.pageMap, words)
  case Syscall.pageUnmap.rawValue: return Spec.state.systemCall(.pageUnmap, words)
  case Syscall.pageProtect.rawValue: return Spec.state.systemCall(.pageProtect, words)
  case Syscall.capabilityDelete.rawValue: return Spec.state.systemCall(.capabilityDelete, words)
  default: panic("a call that does not run in place took the short path")
  }
}

extension Syscall {
  /// Calls that never switch environments, raise an upcall or touch any
  /// environment's saved registers: they run in place, without saving the
  /// caller's registers first (`syscallInPlace` and `pageCallInPlace`, which
  /// list them too).
  var runsInPlace: Bool {
    switch self {
    // capabilityDelete frees a root's pages and counts; it never upcalls
    // (only a revocation step tells a holder it lost a capability).
    case .ticks, .pageMap, .pageUnmap, .pageProtect, .capabilityDelete, .pageAllocate: true
    default: false
    }
  }

  /// In-place calls that may be taken again on the full path
  /// (``takeFullPath``): entry.S keeps their number and `rdx` too.
  var mayTakeFullPath: Bool { self == .pageAllocate }

  /// The bit set of the in-place calls that may be taken again on the
  /// full path, for entry.S (set at boot): full-path calls test it, so the
  /// other in-place calls pay nothing for it.
  static var retriedCalls: UInt64 {
    var mask: UInt64 = 0
    for call in Syscall.allCases where call.runsInPlace && call.mayTakeFullPath {
      if call.rawValue >= 64 { panic("a call that runs in place has a number of 64 or more") }
      mask |= 1 &<< call.rawValue
    }
    return mask
  }

  /// The bit set of the calls that run in place and are never taken again
  /// on the full path, for entry.S (set at boot).
  static var inPlaceCalls: UInt64 {
    var mask: UInt64 = 0
    for call in Syscall.allCases where call.runsInPlace && !call.mayTakeFullPath {
      if call.rawValue >= 64 { panic("a call that runs in place has a number of 64 or more") }
      mask |= 1 &<< call.rawValue
    }
    return mask
  }
}

/// Runs one call for `caller` with argument registers `f`: the spec's
/// transition over the kernel's tables (`Spec.state`), the registers
/// decoded through ExoABI's argument types. `nil` means the caller gets no
/// result now (it exited, waits for a reply, or replied and resumes its
/// interrupted registers).
private func dispatch(_ call: Syscall, _ caller: UInt64, _ f: UnsafePointer<trap_frame>)
  -> SyscallResult?
{
  let words = ArgumentWords(
    f.pointee.rdi, f.pointee.rsi, f.pointee.rdx, f.pointee.r10, f.pointee.r8, f.pointee.r9)
  switch call {
  case .call, .send, .reply: Transfer.registers = words  // the message, for the hooks
  case .consoleWrite:
    // In difftest mode the console carries the agent's protocol: the call
    // checks and returns as always, but its bytes are dropped.
    let a = ConsoleWriteArguments(words: words)
    return consoleWrite(
      caller, address: a.address, length: a.length, sink: DiffMode.enabled ? .none : .console)
  case .consoleRead:
    // In difftest mode no console input is waiting (the agent's commands
    // come through diffRead), as the spec models the console.
    let a = ConsoleReadArguments(words: words)
    return consoleRead(
      caller, address: a.address, length: a.length, source: DiffMode.enabled ? .none : .console)
  default: break
  }
  // The call, and the kernel's memory pressure after it where the spec's
  // policy says so.
  let outcome = Spec.state.systemCall(call, words)
  switch call {
  case .exit: return nil  // (environment 0's exit ends the machine in the hook)
  case .call where outcome.status == 0: return nil  // the result arrives with the reply
  case .reply where outcome.status == 0: return nil  // the replier resumes where it was
  default: break
  }
  return SyscallResult(status: outcome.status, value: outcome.value)
}

// MARK: Console

/// Where `consoleWrite` bytes go.
enum ConsoleSink {
  /// The UART.
  case console
  /// The difftest output ring (`diffWrite`).
  case ring
  /// Nowhere (`consoleWrite` in difftest mode).
  case none
}

/// `consoleWrite`: the spec's checks, then the bytes, read through the
/// caller's page tables (the spec does not say which image pages are
/// mapped: a byte the page tables do not map is `badAddress` here too).
func consoleWrite(_ caller: UInt64, address: UInt64, length: UInt64, sink: ConsoleSink)
  -> SyscallResult
{
  let outcome = Spec.state.consoleWrite(address: address, length: length)
  guard outcome.status == 0 else { return SyscallResult(status: outcome.status, value: 0) }
  if length == 0 { return .success(0) }  // no byte is read
  // The info area is readable too, but not console input (docs/ABI.md).
  let infoEnd = UserLayout.infoBase + UInt64(Info.layout.size)
  let (end, wraps) = address.addingReportingOverflow(length)
  guard wraps || end <= UserLayout.infoBase || address >= infoEnd else {
    return .failure(.badAddress)
  }
  switch UserBuffer.claim(address, length: length, in: caller) {
  case .failure(let error):
    return .failure(error)
  case .success(let buffer):
    switch sink {
    case .console: buffer.forEachChunk { start, count in Log("").bytes(start, count: count) }
    case .ring: buffer.forEachChunk { start, count in DiffMode.send(start, count: count) }
    case .none: break
    }
    return .success(length)
  }
}

/// Where `consoleRead` bytes come from.
enum ConsoleSource {
  /// The UART.
  case console
  /// The difftest input ring (`diffRead`).
  case ring
  /// Nowhere (`consoleRead` in difftest mode).
  case none
}

/// `consoleRead`: the spec's checks (every byte is the caller's stack or a
/// window slot bound with write), then the bytes waiting, at most
/// `length`. The value is how many (the spec's console has none waiting).
func consoleRead(_ caller: UInt64, address: UInt64, length: UInt64, source: ConsoleSource)
  -> SyscallResult
{
  let outcome = Spec.state.consoleRead(address: address, length: length)
  guard outcome.status == 0 else { return SyscallResult(status: outcome.status, value: 0) }
  var count: UInt64 = 0
  while count < length, source != .none,
    let byte = source == .ring ? DiffMode.receive() : Console.receive()
  {
    guard let entry = AddressSpaces.userEntry(caller, address + count) else { break }
    PhysicalMemory.bytes(entry.frame.rawValue + ((address + count) & (pageSize - 1))).pointee =
      byte
    // Written through the identity map: the page is no longer pristine
    // (`AddressSpaces.build` copies only pages whose entry is dirty).
    AddressSpaces.markWritten(caller, address + count)
    count += 1
  }
  return .success(count)
}
