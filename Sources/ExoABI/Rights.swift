/// What a capability allows its holder to do with the resource it names.
/// A derived capability carries a subset of its parent's rights.
public struct Rights: OptionSet, Hashable, Sendable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// Map the resource readable.
  public static let read = Rights(rawValue: 1 << 0)
  /// Map the resource writable.
  public static let write = Rights(rawValue: 1 << 1)
  /// Map the resource executable.
  public static let execute = Rights(rawValue: 1 << 2)
  /// Derive children and grant them to other environments.
  public static let grant = Rights(rawValue: 1 << 3)

  /// Every right defined above.
  public static let all: Rights = [.read, .write, .execute, .grant]

  /// Whether every bit is a defined right (hostile callers pass others).
  public var isValid: Bool { rawValue & ~Rights.all.rawValue == 0 }
}
