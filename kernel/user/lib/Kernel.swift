import ExoABI
import UserArch

/// Typed wrappers over the kernel's system calls for user programs. Each
/// takes ExoABI types and returns the decoded `SyscallResult`.
public enum Kernel {
  /// Makes system call `call` with raw argument words.
  @inline(__always)
  public static func call(
    _ call: Syscall, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
    _ a4: UInt64 = 0, _ a5: UInt64 = 0
  ) -> SyscallResult {
    raw(call.rawValue, a0, a1, a2, a3, a4, a5)
  }

  /// Makes a system call by number, for tests that pass numbers the ABI
  /// does not define.
  @inline(__always)
  public static func raw(
    _ number: UInt64, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
    _ a4: UInt64 = 0, _ a5: UInt64 = 0
  ) -> SyscallResult {
    let r = exo_syscall6(number, a0, a1, a2, a3, a4, a5)
    return SyscallResult(status: r.status, value: r.value)
  }

  /// Writes bytes to the kernel console.
  public static func consoleWrite(_ address: VirtualAddress, length: UInt64) -> SyscallResult {
    call(.consoleWrite, address.rawValue, length)
  }

  /// Ends this environment with `status`, after flushing buffered output.
  public static func exit(_ status: UInt64) -> Never {
    ConsoleBuffer.flush()
    _ = call(.exit, status)
    while true {}
  }

  /// Timer ticks since boot.
  public static func ticks() -> UInt64 { call(.ticks).value }
}
