/// A named error code returned by a system call, in the style of
/// swift-system's `Errno`: a raw value with a named static member for each
/// code. A failed call changes nothing in the kernel's state.
public struct ExoError: RawRepresentable, Hashable, Sendable, Error {
  public let rawValue: UInt64

  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// The call number is not a ``Syscall``. (Like `ENOSYS`.)
  public static let noSuchCall = ExoError(rawValue: 1)
  /// An argument is out of its domain: a length too large, a flag unknown.
  /// (Like `EINVAL`.)
  public static let invalidArgument = ExoError(rawValue: 2)
  /// A user address is not canonical, not in user space, or not mapped with
  /// the access the call needs. (Like `EFAULT`.)
  public static let badAddress = ExoError(rawValue: 3)

  /// Every code defined above, in numeric order.
  public static let all: [ExoError] = [.noSuchCall, .invalidArgument, .badAddress]

  /// The code's name as it appears in the ABI, e.g. `badAddress`.
  public var name: StaticString {
    switch rawValue {
    case 1: "noSuchCall"
    case 2: "invalidArgument"
    case 3: "badAddress"
    default: "unknown"
    }
  }
}
