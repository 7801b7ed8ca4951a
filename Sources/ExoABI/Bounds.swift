/// The sizes of the kernel's tables. The kernel uses ``kernel``; the spec
/// takes any `Bounds`, so exoverify can prove its theorems at small sizes and
/// the differential tester can run the spec at the kernel's.
public struct Bounds: Hashable, Sendable {
  /// Environment slots.
  public var environments: Int
  /// Pages the kernel hands out, numbered from ``InfoHeader/firstPage``.
  public var pages: Int
  /// Capability slots (one table shared by all environments).
  public var capabilities: Int
  /// Window slots per environment (one binding each).
  public var windowSlots: Int
  /// Positions in the slice vector.
  public var slices: Int
  /// The deepest a capability can be: a root has depth 0.
  public var maximumDepth: Int
  /// The most pages one `pageAllocate` can take.
  public var maximumRun: Int
  /// Packet-filter slots (docs/network.md), at most 64 (`frameArrival`
  /// takes which slots match a frame as the bits of one word).
  public var filters: Int

  public init(
    environments: Int, pages: Int, capabilities: Int, windowSlots: Int, slices: Int,
    maximumDepth: Int, maximumRun: Int, filters: Int = 16
  ) {
    self.environments = environments
    self.pages = pages
    self.capabilities = capabilities
    self.windowSlots = windowSlots
    self.slices = slices
    self.maximumDepth = maximumDepth
    self.maximumRun = maximumRun
    self.filters = filters
  }

  /// The kernel's sizes.
  public static let kernel = Bounds(
    environments: 16, pages: 1024, capabilities: 256, windowSlots: 512, slices: 16,
    maximumDepth: 3, maximumRun: 16)
}

/// The value of a record field that names nothing (no owner, no parent,
/// no caller).
@inlinable public var none: UInt64 { .max }

/// The state of an environment slot.
public enum EnvironmentState: UInt64, CaseIterable, Sendable {
  /// The slot holds no environment.
  case free = 0
  /// Scheduled when a slice it owns comes up (or a transfer enters it).
  case runnable = 1
  /// Never scheduled until started.
  case stopped = 2
  /// Blocked in a synchronous `call` until the callee replies.
  case waiting = 3
  /// Exited or destroyed; owns resources until reclaimed.
  case dying = 4
}

/// The state of a packet-filter slot (docs/network.md).
public enum FilterState: UInt64, CaseIterable, Sendable {
  /// The slot holds no filter.
  case free = 0
  /// Its owner is writing its tests (`filterTest`); it matches nothing.
  case building = 1
  /// Installed: the kernel delivers it the frames it matches.
  case active = 2
}

/// What a capability names.
public enum CapabilityKind: UInt64, CaseIterable, Sendable {
  /// The slot is empty.
  case empty = 0
  /// A run of pages `[base, base + count)`.
  case memory = 1
  /// The environment `base` (`count` is 1).
  case environment = 2
}

/// The `caller` field of an environment that is serving an asynchronous
/// `send` (no one waits for its reply).
@inlinable public var asynchronousCaller: UInt64 { .max - 1 }
