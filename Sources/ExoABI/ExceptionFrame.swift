/// The frame the kernel writes on an environment's handler stack when it
/// delivers an exception or a protected control transfer. Every field is a
/// `UInt64`; `ExceptionFrame.offset(_:)` gives its byte offset. The handler
/// resumes the interrupted code itself by restoring these registers.
public enum ExceptionFrame: UInt64, CaseIterable, Sendable {
  /// The CPU exception vector (14 for a page fault).
  case vector = 0
  /// The CPU's error code (0 when the exception has none).
  case error
  /// The faulting address (CR2) for a page fault, else 0.
  case address
  case rip, rsp, rflags
  case rax, rbx, rcx, rdx, rsi, rdi, rbp
  case r8, r9, r10, r11, r12, r13, r14, r15

  /// The size of the frame in bytes (a multiple of 16).
  public static let size: UInt64 = 176

  /// Byte offset of `field` from the start of the frame.
  public static func offset(_ field: ExceptionFrame) -> UInt64 { field.rawValue * 8 }

  /// How far below the handler stack's top an interrupted `rsp` still
  /// counts as on the handler stack.
  public static let handlerStackSpan: UInt64 = 65536

  /// Where a delivery onto a handler stack whose top is `top` starts: the
  /// top, or the interrupted `rsp` if it is already on that stack (within
  /// ``handlerStackSpan`` below the top).
  @inlinable public static func deliveryStart(top: UInt64, interruptedRsp rsp: UInt64) -> UInt64 {
    rsp <= top && rsp > top &- handlerStackSpan ? rsp : top
  }

  /// Where a frame goes when delivery starts at `start` (the handler
  /// stack's top, or the interrupted `rsp` already on it): just below it,
  /// 16-byte aligned, and moved down to end at the upper page's start if it
  /// would straddle two pages, so it lies in one page (docs/ABI.md
  /// "exception").
  public static func placement(below start: UInt64) -> UInt64 {
    var frame = (start &- size) & ~15
    if frame >> 12 != (frame &+ size &- 1) >> 12 {
      frame = (frame & ~4095) &+ 4096 &- size
    }
    return frame
  }
}
