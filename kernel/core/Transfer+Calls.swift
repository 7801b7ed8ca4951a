import Arch
import ExoABI

// Protected control transfer (docs/ABI.md "call", "reply", "send").

/// Where a delivery onto `e`'s handler stack starts: the top of the handler
/// stack, or the interrupted `rsp` if it is already on that stack (within
/// 64 KiB below its top).
func handlerStackStart(_ e: UInt64, interruptedRsp rsp: UInt64) -> UInt64 {
  let top = Info[environment: e, .handlerStack]
  if rsp <= top && rsp > top &- 65536 { return rsp }
  return top
}

/// `call` and `send`: the checks are the same; only the effect differs.
func sys_call(
  _ caller: UInt64, _ c: UInt64, message: (UInt64, UInt64, UInt64, UInt64), asynchronous: Bool
) -> SyscallResult? {
  guard c < Info.capabilityCount else { return .failure(.outOfRange) }
  guard Info.kind(c) == .environment, Info[capability: c, .owner] == caller else {
    return .failure(.invalidCapability)
  }
  guard Rights(rawValue: Info[capability: c, .rights]).contains(.call) else {
    return .failure(.insufficientRights)
  }
  let target = Info[capability: c, .base]
  guard target != caller else { return .failure(.invalidArgument) }
  guard Info.state(target) == .runnable else { return .failure(.wrongState) }
  guard Info[environment: target, .callEntry] != 0, Info[environment: target, .handlerStack] != 0
  else { return .failure(.noEntry) }
  #if !MUTANT_callSkipsBusyCheck  // kernel mutant: a callee already serving is entered again
    guard Info[environment: target, .caller] == none else { return .failure(.busy) }
  #endif

  // The callee's interrupted registers come back when it replies.
  arch_copy_frame(arch_env_saved(target), Scheduler.frame(target))
  Scheduler.saveTransferredFPU(target)
  let rsp = handlerStackStart(target, interruptedRsp: Scheduler.frame(target).pointee.rsp) & ~15
  Scheduler.reset(target, rip: Info[environment: target, .callEntry], rsp: rsp)
  let f = Scheduler.frame(target)
  f.pointee.rdi = caller
  (f.pointee.rsi, f.pointee.rdx, f.pointee.rcx, f.pointee.r8) = message
  f.pointee.r9 = asynchronous ? 1 : 0
  Info.current = target
  if asynchronous {
    Info[environment: target, .caller] = asynchronousCaller
    return .success(0)
  }
  Info[environment: caller, .state] = EnvironmentState.waiting.rawValue
  Info[environment: target, .caller] = caller
  return nil  // the result arrives with the reply
}

func sys_reply(_ caller: UInt64, message: (UInt64, UInt64, UInt64, UInt64)) -> SyscallResult? {
  let waiter = Info[environment: caller, .caller]
  guard waiter != none else { return .failure(.wrongState) }

  Info[environment: caller, .caller] = none
  arch_copy_frame(Scheduler.frame(caller), arch_env_saved(caller))
  Scheduler.restoreTransferredFPU(caller)
  if waiter < Info.environmentCount && Info.state(waiter) == .waiting {
    Info[environment: waiter, .state] = EnvironmentState.runnable.rawValue
    let f = Scheduler.frame(waiter)
    f.pointee.rax = 0
    (f.pointee.rdx, f.pointee.rsi, f.pointee.r10, f.pointee.r8) = message
    Info.current = waiter
  }
  return nil  // the replier resumes its interrupted registers
}
