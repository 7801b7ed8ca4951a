/// The outcome of a system call as it crosses the user/kernel boundary:
/// `rax` holds the status (0 for success, otherwise an ``ExoError`` code)
/// and `rdx` holds the value (0 on error).
public struct SyscallResult: Hashable, Sendable {
  /// The raw status word (`rax`).
  public let status: UInt64
  /// The raw value word (`rdx`).
  public let value: UInt64

  /// Decodes the two words a `syscall` instruction returned.
  public init(status: UInt64, value: UInt64) {
    self.status = status
    self.value = value
  }

  /// A successful result carrying `value`.
  public static func success(_ value: UInt64 = 0) -> SyscallResult {
    SyscallResult(status: 0, value: value)
  }

  /// A failed result carrying `error`.
  public static func failure(_ error: ExoError) -> SyscallResult {
    SyscallResult(status: error.rawValue, value: 0)
  }

  /// The error, or `nil` for success.
  public var error: ExoError? { status == 0 ? nil : ExoError(rawValue: status) }

  /// The value on success, or the error.
  public var result: Result<UInt64, ExoError> {
    if let error { return .failure(error) }
    return .success(value)
  }
}
