/// What a capability allows its holder to do with the resource it names.
/// A derived capability carries a subset of its parent's rights.
public struct Rights: OptionSet, Hashable, Sendable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// Memory: map the pages readable.
  public static let read = Rights(rawValue: 1 << 0)
  /// Memory: map the pages writable.
  public static let write = Rights(rawValue: 1 << 1)
  /// Memory: map the pages executable.
  public static let execute = Rights(rawValue: 1 << 2)
  /// Any kind: derive children and grant the capability to others.
  public static let grant = Rights(rawValue: 1 << 3)
  /// Environment: set entries, start, stop, destroy, map into its window,
  /// give it slices.
  public static let control = Rights(rawValue: 1 << 4)
  /// Environment: make protected control transfers into it.
  public static let call = Rights(rawValue: 1 << 5)

  /// Every right a memory capability can carry.
  public static let memory: Rights = [.read, .write, .execute, .grant]
  /// Every right an environment capability can carry.
  public static let environment: Rights = [.grant, .control, .call]
  /// Every right defined above.
  public static let all: Rights = [.read, .write, .execute, .grant, .control, .call]

  /// Whether every bit is a defined right (hostile callers pass others).
  public var isValid: Bool { rawValue & ~Rights.all.rawValue == 0 }
}
