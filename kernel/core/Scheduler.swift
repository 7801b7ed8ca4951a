import Arch
import ExoABI

/// The switch to the environment the spec made current (docs/ABI.md
/// "advance" is the spec's): registers, FPU/SSE state and address space.
///
/// While an environment is not running its registers are in
/// `arch_env_frame(e)`; the entry paths copy the frame from the kernel stack
/// there first, and `resume` returns the frame of `Info.current`.
enum Scheduler {
  /// The environment whose FPU/SSE state is live in the CPU, or `none`.
  nonisolated(unsafe) static var fpuOwner: UInt64 = none
  /// A clean FPU/SSE state, copied into a slot when it is created.
  nonisolated(unsafe) static var fpuTemplate: UInt64 = 0

  static func frame(_ e: UInt64) -> UnsafeMutablePointer<trap_frame> { arch_env_frame(e) }

  /// Saves the registers of the current environment from the kernel stack.
  static func enter(_ stackFrame: UnsafeMutablePointer<trap_frame>) {
    arch_copy_frame(frame(Info.current), stackFrame)
  }

  /// Fresh registers for environment `e` to start at `rip` with stack `rsp`.
  static func reset(_ e: UInt64, rip: UInt64, rsp: UInt64) {
    reset(frame(e), rip: rip, rsp: rsp)
  }

  /// Clears the registers `f` and points them at `rip` and `rsp` in ring 3
  /// (`vector` and `error` are left: nothing restores them).
  static func reset(_ f: UnsafeMutablePointer<trap_frame>, rip: UInt64, rsp: UInt64) {
    arch_clear_registers(f)
    f.pointee.rip = rip
    f.pointee.rsp = rsp
    f.pointee.cs = UInt64(Selector.userCode)
    f.pointee.ss = UInt64(Selector.userData)
    f.pointee.rflags = 0x202
  }

  /// Gives slot `e` a clean FPU/SSE state. Not inlined: the copy stays out
  /// of the spec's transitions that call it through their hooks.
  @inline(never)
  static func resetFPU(_ e: UInt64) {
    let destination = UInt64(UInt(bitPattern: arch_env_fx(e)))
    PhysicalMemory.copy(
      to: destination, from: UnsafePointer(PhysicalMemory.bytes(fpuTemplate)), count: 512)
    if fpuOwner == e { fpuOwner = none }
  }

  /// Keeps `e`'s FPU/SSE state as a transfer interrupts it, for
  /// ``restoreTransferredFPU(_:)`` when it replies. `e` runs next, so its
  /// state is made live now (what ``resume()`` would do) and saved from
  /// the CPU with one `fxsave`: no copy through memory.
  static func saveTransferredFPU(_ e: UInt64) {
    own(e)
    arch_fxsave(arch_env_saved_fx(e))
  }

  /// Gives `e` back the FPU/SSE state a transfer interrupted (its handler's
  /// state is dropped): loaded straight into the CPU with `fxrstor`, `e`
  /// its owner (its own area is saved from the CPU when another
  /// environment takes the FPU).
  static func restoreTransferredFPU(_ e: UInt64) {
    if fpuOwner != e && fpuOwner != none { arch_fxsave(arch_env_fx(fpuOwner)) }
    arch_fxrstor(arch_env_saved_fx(e))
    fpuOwner = e
  }

  /// Makes `e`'s FPU/SSE state the live one, saving the previous owner's.
  @inline(__always)
  static func own(_ e: UInt64) {
    if fpuOwner != e {
      if fpuOwner != none { arch_fxsave(arch_env_fx(fpuOwner)) }
      arch_fxrstor(arch_env_fx(e))
      fpuOwner = e
    }
  }

  /// The frame to return to: the current environment's, with its address
  /// space and FPU/SSE state in place. Ends the machine if nothing can run.
  static func resume() -> UnsafeMutablePointer<trap_frame> {
    let next = Info.current
    if next == none {
      Log("exo: no runnable environment; halting").end()
      exitMachine(.userFailure)
    }
    own(next)
    AddressSpaces.activate(next)
    return frame(next)
  }
}
