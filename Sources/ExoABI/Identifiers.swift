/// Typed identifiers and addresses that cross the user/kernel interface.
/// Each wraps a raw integer so that a page number can never be passed where a
/// virtual address is expected.

/// The size of a page, in bytes.
public let pageSize: UInt64 = 4096

/// A physical page number: the physical address divided by ``pageSize``.
public struct PageNumber: RawRepresentable, Hashable, Comparable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }
  /// The first byte of the page.
  public var address: PhysicalAddress { PhysicalAddress(rawValue: rawValue &* pageSize) }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A physical address.
public struct PhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }
  /// The page that contains this address.
  public var page: PageNumber { PageNumber(rawValue: rawValue / pageSize) }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A virtual address in some environment's address space.
public struct VirtualAddress: RawRepresentable, Hashable, Comparable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }
  /// Whether the address is page aligned.
  public var isPageAligned: Bool { rawValue % pageSize == 0 }
  /// The address rounded down to its page.
  public var pageBase: VirtualAddress { VirtualAddress(rawValue: rawValue & ~(pageSize - 1)) }
  /// Whether the address lies in the user part of every address space
  /// (``UserLayout/start`` ..< ``UserLayout/end``).
  public var isUser: Bool { rawValue >= UserLayout.start && rawValue < UserLayout.end }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// An environment: an index into the kernel's fixed environment table.
public struct EnvironmentID: RawRepresentable, Hashable, Comparable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A capability slot: an index into an environment's capability table.
public struct CapabilitySlot: RawRepresentable, Hashable, Comparable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
