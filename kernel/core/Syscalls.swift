import Arch
import ExoABI

/// The system-call path: entry.S → `syscall` (save registers, dispatch on
/// `Syscall`) → `sys_*` (decode: the checks of docs/ABI.md in order, each a
/// guard returning a named error, then the state change, which cannot fail)
/// → `Scheduler.resume`.
@_cdecl("exo_syscall")
func syscall(_ stackFrame: UnsafeMutablePointer<trap_frame>) -> UnsafeMutablePointer<trap_frame> {
  let caller = Info.current
  // Decoded once (difftest calls have numbers of their own, no system call's).
  let call = Syscall(rawValue: stackFrame.pointee.rax)
  if let call, call.runsInPlace {
    // The caller resumes from the frame on the kernel stack: its saved
    // registers are neither written nor read (it is saved whenever it
    // enters the kernel, so nothing reads them while it runs).
    let result = dispatch(call, caller, UnsafePointer(stackFrame))
    if DiffMode.enabled { DiffMode.record(caller, result) }
    if let result {
      stackFrame.pointee.rax = result.status
      stackFrame.pointee.rdx = result.value
    }
    #if INVARIANTS
      Invariants.check()
    #endif
    return stackFrame
  }
  Scheduler.enter(stackFrame)
  // Read through the pointer: a local copy of the frame costs a copy of
  // every register on each call.
  let f = UnsafePointer(Scheduler.frame(caller))
  let result: SyscallResult?
  if let call {
    result = dispatch(call, caller, f)
    if DiffMode.enabled { DiffMode.record(caller, result) }
  } else if DiffMode.enabled, let call = DiffCall(rawValue: f.pointee.rax) {
    result = DiffMode.dispatch(call, caller, f.pointee.rdi, f.pointee.rsi)
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

extension Syscall {
  /// Calls that never switch environments, raise an upcall or touch any
  /// environment's saved registers: they run on the caller's frame on the
  /// kernel stack, without saving it first.
  var runsInPlace: Bool {
    switch self {
    case .ticks, .pageMap, .pageUnmap, .pageProtect: true
    default: false
    }
  }
}

/// Runs one call for `caller` with argument registers `f`. `nil` means the
/// caller gets no result now (it exited, or waits for a reply).
private func dispatch(_ call: Syscall, _ caller: UInt64, _ f: UnsafePointer<trap_frame>)
  -> SyscallResult?
{
  let (a0, a1, a2, a3, a4, a5) = (
    f.pointee.rdi, f.pointee.rsi, f.pointee.rdx, f.pointee.r10, f.pointee.r8, f.pointee.r9
  )
  switch call {
  case .consoleWrite:
    // In difftest mode the console carries the agent's protocol: the call
    // checks and returns as always, but its bytes are dropped.
    return sys_consoleWrite(
      caller, address: a0, length: a1, sink: DiffMode.enabled ? .none : .console)
  case .exit:
    sys_exit(caller, status: a0)
    return nil
  case .ticks: return .success(Info[header: .ticks])
  case .consoleRead: return sys_consoleRead(caller, address: a0, length: a1)
  case .environmentCreate: return sys_environmentCreate(caller, a0, slot: a1)
  case .environmentSetEntries:
    return sys_environmentSetEntries(
      caller, a0, a1, handler: a2, handlerStack: a3, upcall: a4, callEntry: a5)
  case .environmentStart: return sys_environmentStart(caller, a0, a1, rip: a2, rsp: a3)
  case .environmentStop: return sys_environmentStop(caller, a0, a1)
  case .environmentDestroy: return sys_environmentDestroy(caller, a0, a1)
  case .environmentReclaim: return sys_environmentReclaim(caller, a0)
  case .pageAllocate: return sys_pageAllocate(caller, page: a0, count: a1, slot: a2)
  case .pageMap: return sys_pageMap(caller, a0, a1, memory: a2, page: a3, slot: a4, rights: a5)
  case .pageUnmap: return sys_pageUnmap(caller, a0, a1, slot: a2)
  case .pageProtect: return sys_pageProtect(caller, a0, a1, slot: a2, rights: a3)
  case .capabilityDerive:
    return sys_capabilityDerive(caller, a0, child: a1, rights: a2, base: a3, count: a4)
  case .capabilityGrant: return sys_capabilityGrant(caller, a0, to: a1)
  case .capabilityDelete: return sys_capabilityDelete(caller, a0)
  case .capabilityRevoke: return sys_capabilityRevoke(caller, a0)
  case .sliceAllocate: return sys_sliceAllocate(caller, position: a0, a1, a2)
  case .sliceFree: return sys_sliceFree(caller, position: a0)
  case .yield: return sys_yield(caller)
  case .yieldTo: return sys_yieldTo(caller, a0)
  case .call: return sys_call(caller, a0, message: (a1, a2, a3, a4), asynchronous: false)
  case .send: return sys_call(caller, a0, message: (a1, a2, a3, a4), asynchronous: true)
  case .reply: return sys_reply(caller, message: (a0, a1, a2, a3))
  case .revocationRequest:
    return sys_revocationRequest(caller, a0, a1, count: a2, ticks: a3)
  case .revocationReturn: return sys_revocationReturn(caller, a0)
  }
}

// MARK: Shared checks (docs/ABI.md "Shared checks")

/// authority(T, c): may `caller` act on environment `target` presenting
/// environment capability `c`.
func checkAuthority(_ caller: UInt64, _ target: UInt64, _ c: UInt64) -> ExoError? {
  guard target < Info.environmentCount else { return .outOfRange }
  if target == caller { return nil }
  guard c < Info.capabilityCount else { return .outOfRange }
  guard Info.kind(c) == .environment, Info[capability: c, .owner] == caller,
    Info[capability: c, .base] == target
  else { return .invalidCapability }
  guard Rights(rawValue: Info[capability: c, .rights]).contains(.control) else {
    return .insufficientRights
  }
  return nil
}

/// live(T): runnable, stopped or waiting.
func isLive(_ e: UInt64) -> Bool {
  let s = Info.state(e)
  return s == .runnable || s == .stopped || s == .waiting
}

/// Rights a binding may use: defined bits only, within read/write/execute,
/// always including read.
func isValidBindingRights(_ raw: UInt64) -> Bool {
  let rights = Rights(rawValue: raw)
  return rights.isValid && rights.isSubset(of: [.read, .write, .execute]) && rights.contains(.read)
}

func isUserAddress(_ a: UInt64) -> Bool { a >= UserLayout.start && a < UserLayout.end }

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

func sys_consoleWrite(_ caller: UInt64, address: UInt64, length: UInt64, sink: ConsoleSink)
  -> SyscallResult
{
  guard length <= ConsoleLimits.maximumWrite else { return .failure(.invalidArgument) }
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

/// docs/ABI.md consoleRead: the stack pages below `stackTop` and the window
/// slots bound with write; not the program image.
private func isReadTarget(_ caller: UInt64, _ a: UInt64) -> Bool {
  let stackBottom = UserLayout.stackTop - UserLayout.stackPages * pageSize
  if a >= stackBottom && a < UserLayout.stackTop { return true }
  guard let s = UserLayout.windowSlot(of: VirtualAddress(rawValue: a), slots: Int(Info.windowSlots))
  else { return false }
  return Info[binding: caller, slot: UInt64(s), .page] != none
    && Rights(rawValue: Info[binding: caller, slot: UInt64(s), .rights]).contains(.write)
}

private func sys_consoleRead(_ caller: UInt64, address: UInt64, length: UInt64) -> SyscallResult {
  guard length <= ConsoleLimits.maximumRead else { return .failure(.invalidArgument) }
  if length == 0 { return .success(0) }  // no byte is written
  let (last, wraps) = address.addingReportingOverflow(length - 1)
  // A read spans at most two pages, each wholly a target or not.
  guard !wraps, isReadTarget(caller, address), isReadTarget(caller, last) else {
    return .failure(.badAddress)
  }
  var count: UInt64 = 0
  while count < length, let byte = DiffMode.enabled ? DiffMode.receive() : Console.receive() {
    guard let entry = AddressSpaces.userEntry(caller, address + count) else { break }
    PhysicalMemory.bytes(entry.frame.rawValue + ((address + count) & (pageSize - 1))).pointee =
      byte
    count += 1
  }
  return .success(count)
}
