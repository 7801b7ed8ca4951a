import Arch
import ExoABI

/// Names of the CPU exceptions, for reports.
func exceptionName(_ vector: UInt64) -> StaticString {
  switch vector {
  case 0: "#DE divide error"
  case 1: "#DB debug"
  case 2: "NMI"
  case 3: "#BP breakpoint"
  case 4: "#OF overflow"
  case 5: "#BR bound range"
  case 6: "#UD invalid opcode"
  case 7: "#NM device not available"
  case 8: "#DF double fault"
  case 10: "#TS invalid TSS"
  case 11: "#NP segment not present"
  case 12: "#SS stack fault"
  case 13: "#GP general protection"
  case 14: "#PF page fault"
  case 16: "#MF x87 floating point"
  case 17: "#AC alignment check"
  case 18: "#MC machine check"
  case 19: "#XM SIMD floating point"
  case 20: "#VE virtualization"
  case 21: "#CP control protection"
  default: "reserved exception"
  }
}

/// Every CPU exception and interrupt arrives here from entry.S; returns the
/// frame to resume.
@_cdecl("exo_trap")
func trap(_ stackFrame: UnsafeMutablePointer<trap_frame>) -> UnsafeMutablePointer<trap_frame> {
  let vector = stackFrame.pointee.vector
  let fromUser = stackFrame.pointee.cs & 3 == 3
  if vector == Timer.vector {
    Timer.acknowledge()
    VirtioNet.pollAtTick()
    guard fromUser, !DiffMode.enabled else { return stackFrame }
    Scheduler.enter(stackFrame)
    Spec.state.timerInterrupt()
    #if INVARIANTS
      Invariants.check()
    #endif
    return Scheduler.resume()
  }
  if vector >= 32 {
    // Spurious or unexpected device interrupts: nothing is wired to them.
    return stackFrame
  }
  guard fromUser else { panic(frame: stackFrame) }
  // The differential tester's memory probes: observed, not an event.
  if DiffMode.enabled {
    if vector == 14, DiffMode.probeFaulted(stackFrame) { return stackFrame }
    if DiffMode.executeProbe(stackFrame) { return stackFrame }
  }
  // A fault in ring 3 belongs to the current environment, never the kernel:
  // the spec's `exception` event decides. Delivered, the frame is written
  // from the registers on the kernel stack and the same environment
  // resumes from there, its saved registers untouched (they are saved
  // whenever it enters the kernel, so nothing reads them while it runs).
  let e = Info.current
  let address = vector == 14 ? arch_read_cr2() : 0
  let placement = Exceptions.place(e, interruptedRsp: stackFrame.pointee.rsp)
  Exceptions.registers = stackFrame
  Exceptions.vector = vector
  Exceptions.address = address
  Exceptions.frame = placement.address
  let outcome = Spec.state.exception(
    vector: vector, error: stackFrame.pointee.error, address: address, frameSlot: placement.slot)
  if DiffMode.enabled {
    DiffMode.record(e, SyscallResult(status: outcome.status, value: outcome.value))
  }
  if outcome.value == 1 {
    #if INVARIANTS
      Invariants.check()
    #endif
    return stackFrame
  }
  // Stopped: its registers are saved for whoever starts it again.
  arch_copy_frame(Scheduler.frame(e), stackFrame)
  #if INVARIANTS
    Invariants.check()
  #endif
  return Scheduler.resume()
}

/// The register side of the spec's `exception` event (docs/ABI.md
/// "exception").
enum Exceptions {
  // The exception being taken, for the hook: the interrupted registers,
  // the vector, the faulting address and where the frame goes.
  nonisolated(unsafe) static var registers: UnsafeMutablePointer<trap_frame>? = nil
  nonisolated(unsafe) static var vector: UInt64 = 0
  nonisolated(unsafe) static var address: UInt64 = 0
  nonisolated(unsafe) static var frame: UInt64 = 0

  /// Where an `ExceptionFrame` for `e` goes: below the handler stack's top,
  /// or below the interrupted `rsp` if it is already on that stack, 16-byte
  /// aligned and in one page; and the window slot of that page (`none` when
  /// it is outside the window).
  static func place(_ e: UInt64, interruptedRsp rsp: UInt64) -> (address: UInt64, slot: UInt64) {
    let frame = ExceptionFrame.placement(below: handlerStackStart(e, interruptedRsp: rsp))
    guard
      let slot = UserLayout.windowSlot(
        of: VirtualAddress(rawValue: frame), slots: Int(Info.windowSlots))
    else { return (frame, none) }
    return (frame, UInt64(slot))
  }

  /// The spec's `exception` hook: delivered, the frame goes on the handler
  /// stack and `e` enters its handler; stopped, the fault is reported (and
  /// environment 0's ends the machine).
  static func taken(_ e: UInt64, delivered: Bool) {
    guard let f = registers else { return }
    if delivered {
      // The spec checked the slot: bound, writable (read in place through
      // the spec's columns).
      let state = Spec.state
      let slot = (frame &- UserLayout.windowBase) >> 12
      let b = e &* UInt64(truncatingIfNeeded: state.bounds.windowSlots) &+ slot
      let page = state.bindings.page[Int(truncatingIfNeeded: b)]
      writeFrame(
        f, at: page &* pageSize &+ (frame & (pageSize - 1)), user: frame,
        entry: state.environments.handler[Int(truncatingIfNeeded: e)], vector: vector,
        error: f.pointee.error, address: address)
      return
    }
    Log("exo: environment ").decimal(e).text(" stopped: ").text(exceptionName(vector))
      .text(" rip=").hex(f.pointee.rip).text(" error=").hex(f.pointee.error)
      .text(" cr2=").hex(address).end()
    if e == 0 {
      Log("exo: environment 0 cannot handle its fault; ending").end()
      exitMachine(.userFailure)
    }
  }
}

/// Writes an `ExceptionFrame` of the interrupted registers `f` with
/// `vector`, `error` and `address` at physical address `physical` (user
/// address `frame`) and redirects `f` to `entry` with `rdi` = `rsp` = the
/// frame.
func writeFrame(
  _ f: UnsafeMutablePointer<trap_frame>, at physical: UInt64, user frame: UInt64, entry: UInt64,
  vector: UInt64, error: UInt64, address: UInt64
) {
  arch_write_exception_frame(
    arch_pointer(physical).assumingMemoryBound(to: UInt64.self), f, vector, error, address)
  Scheduler.reset(f, rip: entry, rsp: frame)
  f.pointee.rdi = frame
}

/// An upcall's frame for `e` (its saved registers `f`) on its handler
/// stack, entering `entry`. False, and no change, when `e` has no handler
/// stack or the frame's window slot is not bound writable.
func deliverFrame(
  _ e: UInt64, _ f: UnsafeMutablePointer<trap_frame>, entry: UInt64, vector: UInt64,
  error: UInt64, address: UInt64
) -> Bool {
  guard Info[environment: e, .handlerStack] != 0 else { return false }
  let (frame, slot) = Exceptions.place(e, interruptedRsp: f.pointee.rsp)
  guard slot != none, Info[binding: e, slot: slot, .page] != none,
    Rights(rawValue: Info[binding: e, slot: slot, .rights]).contains(.write)
  else { return false }
  let physical = Info[binding: e, slot: slot, .page] * pageSize + (frame & (pageSize - 1))
  writeFrame(
    f, at: physical, user: frame, entry: entry, vector: vector, error: error, address: address)
  return true
}

/// Reports a kernel fault and ends the machine with the kernel-panic status.
func panic(frame f: UnsafePointer<trap_frame>) -> Never {
  let frame = f.pointee
  Log("").end()
  Log("KERNEL PANIC: ").text(exceptionName(frame.vector)).text(" (vector ")
    .decimal(frame.vector).text(")").end()
  Log("  error=").hex(frame.error).text(" rip=").hex(frame.rip).text(" cr2=").hex(arch_read_cr2())
    .end()
  Log("  cs=").hex(frame.cs).text(" rflags=").hex(frame.rflags).text(" rsp=").hex(frame.rsp)
    .text(" ss=").hex(frame.ss).end()
  Log("  rax=").hex(frame.rax).text(" rbx=").hex(frame.rbx).text(" rcx=").hex(frame.rcx).end()
  Log("  rdx=").hex(frame.rdx).text(" rsi=").hex(frame.rsi).text(" rdi=").hex(frame.rdi).end()
  Log("  rbp=").hex(frame.rbp).text(" r8=").hex(frame.r8).text(" r9=").hex(frame.r9).end()
  Log("  r10=").hex(frame.r10).text(" r11=").hex(frame.r11).text(" r12=").hex(frame.r12).end()
  Log("  r13=").hex(frame.r13).text(" r14=").hex(frame.r14).text(" r15=").hex(frame.r15).end()
  Log("  cr3=").hex(arch_read_cr3()).end()
  exitMachine(.kernelPanic)
}

/// A broken kernel invariant without a CPU fault.
func panic(_ reason: StaticString) -> Never {
  Log("").end()
  Log("KERNEL PANIC: ").text(reason).end()
  exitMachine(.kernelPanic)
}

/// Checks at boot that `arch_write_exception_frame` writes each register
/// where ExoABI's `ExceptionFrame` says it goes (a mismatch is a kernel
/// bug: every handler would read wrong registers).
func checkExceptionFrameLayout() {
  var r = trap_frame()
  withUnsafeMutableBytes(of: &r) { bytes in
    // Every register a distinct value.
    for i in 0..<(bytes.count / 8) {
      bytes.storeBytes(of: 0x5EED_0000 + UInt64(i), toByteOffset: i * 8, as: UInt64.self)
    }
  }
  var out = (
    UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
    UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
    UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0)
  )
  let ok = withUnsafeMutableBytes(of: &out) { bytes -> Bool in
    guard let base = bytes.baseAddress else { return false }
    let words = base.assumingMemoryBound(to: UInt64.self)
    withUnsafePointer(to: &r) { arch_write_exception_frame(words, $0, 1, 2, 3) }
    func at(_ field: ExceptionFrame) -> UInt64 { words[Int(ExceptionFrame.offset(field) / 8)] }
    return ExceptionFrame.size <= UInt64(bytes.count) && at(.vector) == 1 && at(.error) == 2
      && at(.address) == 3 && at(.rip) == r.rip && at(.rsp) == r.rsp && at(.rflags) == r.rflags
      && at(.rax) == r.rax && at(.rbx) == r.rbx && at(.rcx) == r.rcx && at(.rdx) == r.rdx
      && at(.rsi) == r.rsi && at(.rdi) == r.rdi && at(.rbp) == r.rbp && at(.r8) == r.r8
      && at(.r9) == r.r9 && at(.r10) == r.r10 && at(.r11) == r.r11 && at(.r12) == r.r12
      && at(.r13) == r.r13 && at(.r14) == r.r14 && at(.r15) == r.r15
  }
  if !ok { panic("arch_write_exception_frame does not match ExoABI's ExceptionFrame") }
}
