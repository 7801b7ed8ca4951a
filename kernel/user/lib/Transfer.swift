import ExoABI
import UserArch

extension Kernel {
  /// `call`: a synchronous protected control transfer into the environment
  /// `capability` names. On success, the callee's reply.
  public static func call(_ capability: CapabilitySlot, _ message: Message) -> Result<
    Message, ExoError
  > {
    // exo_call loads the registers `CallArguments` assigns and takes the
    // reply from where the kernel leaves it.
    let w = CallArguments(capability: UInt64(capability.rawValue), message: message).words
    let r = exo_call(Syscall.call.rawValue, w.rdi, w.rsi, w.rdx, w.r10, w.r8)
    if r.status != 0 { return .failure(ExoError(rawValue: r.status)) }
    return .success(Message(r.m0, r.m1, r.m2, r.m3))
  }

  /// `send`: an asynchronous transfer; returns when the sender next runs.
  public static func send(_ capability: CapabilitySlot, _ message: Message) -> SyscallResult {
    call(SendArguments(capability: UInt64(capability.rawValue), message: message))
  }

  /// `reply`: ends the current transfer. On success it does not return: the
  /// replier resumes where the transfer interrupted it.
  public static func reply(_ message: Message) -> SyscallResult {
    call(ReplyArguments(message: message))
  }
}
