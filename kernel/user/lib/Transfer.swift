import ExoABI
import UserArch

extension Kernel {
  /// `call`: a synchronous protected control transfer into the environment
  /// `capability` names. On success, the callee's reply.
  public static func call(_ capability: CapabilitySlot, _ message: Message) -> Result<
    Message, ExoError
  > {
    let r = exo_call(
      Syscall.call.rawValue, UInt64(capability.rawValue), message.m0, message.m1, message.m2,
      message.m3)
    if r.status != 0 { return .failure(ExoError(rawValue: r.status)) }
    return .success(Message(r.m0, r.m1, r.m2, r.m3))
  }

  /// `send`: an asynchronous transfer; returns when the sender next runs.
  public static func send(_ capability: CapabilitySlot, _ message: Message) -> SyscallResult {
    call(.send, UInt64(capability.rawValue), message.m0, message.m1, message.m2, message.m3)
  }

  /// `reply`: ends the current transfer. On success it does not return: the
  /// replier resumes where the transfer interrupted it.
  public static func reply(_ message: Message) -> SyscallResult {
    call(.reply, message.m0, message.m1, message.m2, message.m3)
  }
}
