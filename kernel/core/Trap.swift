import Arch
import ExoABI

/// Names of the CPU exceptions, for reports.
private func exceptionName(_ vector: UInt64) -> StaticString {
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
func trap(_ frame: UnsafeMutablePointer<trap_frame>) -> UnsafeMutablePointer<trap_frame> {
  let vector = frame.pointee.vector
  if vector == Timer.vector {
    Timer.tick()
    return frame
  }
  if vector == Timer.spuriousVector { return frame }
  if vector >= 32 {
    // An unexpected device interrupt: nothing is wired to it.
    return frame
  }
  if frame.pointee.cs & 3 == 3 {
    // A fault in user mode is the program's, not the kernel's: report it
    // and end the program.
    Log("exo: user program fault: ").text(exceptionName(vector))
      .text(" rip=").hex(frame.pointee.rip).text(" error=").hex(frame.pointee.error)
      .text(" cr2=").hex(arch_read_cr2()).end()
    Programs.exitCurrent(status: 128 + vector)
  }
  panic(frame: frame.pointee)
}

/// Reports a kernel fault and ends the machine with the kernel-panic status.
func panic(frame: trap_frame) -> Never {
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
