import ExoABI
import UserArch

/// An `ExceptionFrame` on the handler stack. Writing a field changes what
/// the interrupted code resumes with.
public struct FaultFrame {
  public let base: UnsafeMutablePointer<UInt64>

  public subscript(_ field: ExceptionFrame) -> UInt64 {
    get { base[Int(field.rawValue)] }
    nonmutating set { base[Int(field.rawValue)] = newValue }
  }
}

/// The libOS side of exceptions and protected control transfer: the
/// handlers the assembly entries (upcall.S) dispatch to, and the entry
/// addresses to register with `environmentSetEntries`.
public enum Upcalls {
  /// Called with the frame of each exception; returns normally to resume.
  nonisolated(unsafe) public static var exceptionHandler: ((FaultFrame) -> Void)?
  /// Called with each upcall's (reason, first argument, second argument)
  /// (docs/ABI.md "Upcalls"); returns normally to resume the interrupted
  /// code.
  nonisolated(unsafe) public static var upcallHandler: ((UpcallReason, UInt64, UInt64) -> Void)?
  /// Called for each transfer with (caller, message, asynchronous); its
  /// result is the reply.
  nonisolated(unsafe) public static var callHandler: ((UInt64, Message, Bool) -> Message)?

  /// The address of the exception entry (`handler` of
  /// `environmentSetEntries`). It is also the upcall entry (`upcall`): the
  /// frame's vector tells an upcall (256 and up) from an exception.
  public static var exceptionEntry: UInt64 { exo_exception_entry_address() }
  /// The address of the transfer entry (`callEntry`).
  public static var callEntry: UInt64 { exo_call_entry_address() }
}

@_cdecl("exo_exception_dispatch")
func exceptionDispatch(_ frame: UnsafeMutablePointer<UInt64>) {
  if let reason = UpcallReason(rawValue: frame[0]) {
    // An upcall: without a handler it is ignored.
    Upcalls.upcallHandler?(reason, frame[1], frame[2])
    return
  }
  guard let handler = Upcalls.exceptionHandler else {
    print("exception \(frame[0]) with no handler installed")
    Kernel.exit(70)
  }
  handler(FaultFrame(base: frame))
}

@_cdecl("exo_call_dispatch")
func callDispatch(
  _ caller: UInt64, _ m0: UInt64, _ m1: UInt64, _ m2: UInt64, _ m3: UInt64, _ asynchronous: UInt64
) -> Never {
  let reply = Upcalls.callHandler?(caller, Message(m0, m1, m2, m3), asynchronous != 0) ?? Message()
  _ = Kernel.reply(reply)
  print("reply failed")
  Kernel.exit(71)
}
