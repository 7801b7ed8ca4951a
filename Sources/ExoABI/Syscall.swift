/// The system calls of the exokernel: the one list that the kernel's
/// dispatcher, the user library, the spec and the tests all name.
///
/// Calling convention (x86_64 `syscall`): the number in `rax`, arguments in
/// `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`. The kernel returns a
/// ``SyscallResult`` in `rax` (status) and `rdx` (value); every other
/// general-purpose register except `rcx` and `r11` is preserved.
public enum Syscall: UInt64, CaseIterable, Sendable {
  /// Writes bytes from the caller's memory to the kernel console.
  /// Arguments: address (``VirtualAddress``), length in bytes (at most
  /// ``ConsoleLimits/maximumWrite``). Value: the number of bytes written.
  case consoleWrite = 1
  /// Ends the calling environment. Argument: exit status (0 means success).
  /// Does not return.
  case exit = 2
  /// Returns the number of timer ticks since boot. No arguments.
  case ticks = 3
}

/// Bounds the kernel enforces on console output.
public enum ConsoleLimits {
  /// The largest `consoleWrite` the kernel accepts in one call.
  public static let maximumWrite: UInt64 = 4096
}
