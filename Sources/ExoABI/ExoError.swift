/// A named error code returned by a system call, in the style of
/// swift-system's `Errno`: a raw value with a named static member for each
/// code. A failed call changes nothing in the kernel's state.
public struct ExoError: RawRepresentable, Hashable, Sendable, Error {
  public let rawValue: UInt64

  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// The call number is not a ``Syscall``. (Like `ENOSYS`.)
  public static let noSuchCall = ExoError(rawValue: 1)
  /// An argument is outside its domain: an undefined rights bit, a zero or
  /// too-large count, a length too large. (Like `EINVAL`.)
  public static let invalidArgument = ExoError(rawValue: 2)
  /// A user address is not canonical, not in user space, misaligned where
  /// alignment is required, or not mapped with the access the call needs.
  /// (Like `EFAULT`.)
  public static let badAddress = ExoError(rawValue: 3)
  /// An index names no slot: an environment, capability, window slot or slice
  /// position beyond its table, or a page the kernel does not hand out
  /// (kernel memory, devices). (Like `ERANGE`.)
  public static let outOfRange = ExoError(rawValue: 4)
  /// The capability slot is empty, not held by the caller, or of the wrong
  /// kind for the call. (Like `EBADF`.)
  public static let invalidCapability = ExoError(rawValue: 5)
  /// The capability lacks a right the call uses, or a requested right is not
  /// a subset of it, or a range is not inside it. (Like `EACCES`.)
  public static let insufficientRights = ExoError(rawValue: 6)
  /// The named slot is already occupied: an environment slot, capability
  /// slot, window slot, slice position or an allocated page. (Like `EEXIST`.)
  public static let slotInUse = ExoError(rawValue: 7)
  /// The named slot is empty: no binding in the window slot, no owner of the
  /// slice. (Like `ENOENT`.)
  public static let slotEmpty = ExoError(rawValue: 8)
  /// The resource has dependents: a capability with children or bindings.
  /// (Like `EBUSY`.)
  public static let busy = ExoError(rawValue: 9)
  /// The environment is not in a state that allows the call. (Like `ESRCH`.)
  public static let wrongState = ExoError(rawValue: 10)
  /// The target has no registered entry point for the transfer.
  public static let noEntry = ExoError(rawValue: 11)
  /// The caller has no authority over the target environment. (Like `EPERM`.)
  public static let notPermitted = ExoError(rawValue: 12)
  /// A packet filter could match a frame that an installed filter matches
  /// (docs/network.md, the overlap check).
  public static let overlap = ExoError(rawValue: 13)

  /// Every code defined above, in numeric order.
  public static let all: [ExoError] = [
    .noSuchCall, .invalidArgument, .badAddress, .outOfRange, .invalidCapability,
    .insufficientRights, .slotInUse, .slotEmpty, .busy, .wrongState, .noEntry, .notPermitted,
    .overlap,
  ]

  /// The code's name as it appears in the ABI, e.g. `badAddress`.
  public var name: StaticString {
    switch rawValue {
    case 1: "noSuchCall"
    case 2: "invalidArgument"
    case 3: "badAddress"
    case 4: "outOfRange"
    case 5: "invalidCapability"
    case 6: "insufficientRights"
    case 7: "slotInUse"
    case 8: "slotEmpty"
    case 9: "busy"
    case 10: "wrongState"
    case 11: "noEntry"
    case 12: "notPermitted"
    case 13: "overlap"
    default: "unknown"
    }
  }
}
