import Arch
import ExoABI

/// The register side of protected control transfer (docs/ABI.md "call",
/// "reply", "send") and of upcalls: the spec decides who runs; these move
/// the registers and the FPU/SSE state.
enum Transfer {
  /// The argument registers of the system call being run (set by the
  /// dispatcher before the spec runs): where the message words are.
  nonisolated(unsafe) static var registers = ArgumentWords<UInt64>(filling: 0)

  /// The spec's `call` or `send` just made `callee` current: its
  /// interrupted registers and FPU/SSE state are kept for its reply, and it
  /// enters its call entry on its handler stack with `rdi` = the caller,
  /// the message in `rsi`, `rdx`, `rcx`, `r8` and `r9` = 1 for `send`.
  static func enter(_ callee: UInt64, from caller: UInt64, asynchronous: Bool) {
    let m =
      asynchronous
      ? SendArguments(words: registers).message : CallArguments(words: registers).message
    let message = (m.m0, m.m1, m.m2, m.m3)
    arch_copy_frame(arch_env_saved(callee), Scheduler.frame(callee))
    Scheduler.saveTransferredFPU(callee)
    let rsp = handlerStackStart(callee, interruptedRsp: Scheduler.frame(callee).pointee.rsp) & ~15
    Scheduler.reset(callee, rip: Info[environment: callee, .callEntry], rsp: rsp)
    let f = Scheduler.frame(callee)
    f.pointee.rdi = caller
    (f.pointee.rsi, f.pointee.rdx, f.pointee.rcx, f.pointee.r8) = message
    f.pointee.r9 = asynchronous ? 1 : 0
  }

  /// The spec's `reply` by `replier`: it resumes the registers and FPU/SSE
  /// state its call interrupted; if `woke`, `waiter`'s `call` returns 0
  /// with the message in `rdx`, `rsi`, `r10`, `r8`.
  static func reply(_ replier: UInt64, to waiter: UInt64, woke: Bool) {
    let m = ReplyArguments(words: registers).message
    let message = (m.m0, m.m1, m.m2, m.m3)
    arch_copy_frame(Scheduler.frame(replier), arch_env_saved(replier))
    Scheduler.restoreTransferredFPU(replier)
    guard woke else { return }
    let f = Scheduler.frame(waiter)
    f.pointee.rax = 0
    (f.pointee.rdx, f.pointee.rsi, f.pointee.r10, f.pointee.r8) = message
  }
}

/// Where a delivery onto `e`'s handler stack starts: the top of the handler
/// stack, or the interrupted `rsp` if it is already on that stack (within
/// 64 KiB below its top).
func handlerStackStart(_ e: UInt64, interruptedRsp rsp: UInt64) -> UInt64 {
  ExceptionFrame.deliveryStart(top: Info[environment: e, .handlerStack], interruptedRsp: rsp)
}

/// Upcalls (docs/ABI.md "Upcalls"): a frame on the handler stack, entered
/// at the environment's `upcall` entry.
enum Upcall {
  /// Delivers `reason` with two arguments to `e` if it can take it;
  /// otherwise drops it (the exported state still tells).
  static func raise(_ e: UInt64, _ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
    guard e < Info.environmentCount else { return }
    let state = Info.state(e)
    let entry = Info[environment: e, .upcall]
    guard entry != 0, state == .runnable || state == .stopped else { return }
    _ = deliverFrame(
      e, Scheduler.frame(e), entry: entry, vector: reason.rawValue, error: a, address: b)
  }
}
