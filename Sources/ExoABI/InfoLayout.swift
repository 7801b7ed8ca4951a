/// The kernel's tables as every environment sees them: mapped read-only at
/// ``UserLayout/infoBase`` in every address space, and the kernel's own
/// storage for its state. Every field is a little-endian `UInt64` word.
///
///     offset                      table
///     0                           header (InfoHeader)
///     environmentsOffset          environments × EnvironmentField.wordCount words
///     slicesOffset                slices × 1 word: owner environment or `none`
///     pagesOffset                 pages × PageField.wordCount words
///     capabilitiesOffset          capabilities × CapabilityField.wordCount words
///     bindingsOffset              environments × windowSlots × BindingField.wordCount words
///     revocationsOffset           environments × RevocationField.wordCount words
///     repossessionsOffset         environments × pages words: repossession vectors
///     filtersOffset               filters × FilterField.wordCount words
///     filterWordsOffset           filters × PacketFilter.wordCount words: each filter's encoding
///
/// Each table starts on a page boundary.
public struct InfoLayout: Hashable, Sendable {
  public let bounds: Bounds
  // The tables' offsets, computed once from the bounds (user code reads
  // them on every access to a table).
  public let environmentsOffset: Int
  public let slicesOffset: Int
  public let pagesOffset: Int
  public let capabilitiesOffset: Int
  public let bindingsOffset: Int
  public let revocationsOffset: Int
  public let repossessionsOffset: Int
  public let filtersOffset: Int
  public let filterWordsOffset: Int
  /// The size of the whole area, a multiple of the page size.
  public let size: Int

  public init(bounds: Bounds) {
    self.bounds = bounds
    func after(_ offset: Int, _ words: Int) -> Int { offset + InfoLayout.pageAligned(words * 8) }
    environmentsOffset = 4096
    slicesOffset = after(environmentsOffset, bounds.environments * EnvironmentField.wordCount)
    pagesOffset = after(slicesOffset, bounds.slices)
    capabilitiesOffset = after(pagesOffset, bounds.pages * PageField.wordCount)
    bindingsOffset = after(capabilitiesOffset, bounds.capabilities * CapabilityField.wordCount)
    revocationsOffset = after(
      bindingsOffset, bounds.environments * bounds.windowSlots * BindingField.wordCount)
    repossessionsOffset = after(
      revocationsOffset, bounds.environments * RevocationField.wordCount)
    filtersOffset = after(repossessionsOffset, bounds.environments * bounds.pages)
    filterWordsOffset = after(filtersOffset, bounds.filters * FilterField.wordCount)
    size = after(filterWordsOffset, bounds.filters * PacketFilter.wordCount)
  }

  static func pageAligned(_ bytes: Int) -> Int { (bytes + 4095) & ~4095 }

  /// Byte offset of a header field.
  @inlinable @inline(__always) public func offset(_ field: InfoHeader) -> Int {
    Int(field.rawValue) * 8
  }
  /// Byte offset of a field of environment `index`.
  @inlinable @inline(__always) public func offset(environment index: Int, _ field: EnvironmentField)
    -> Int
  {
    environmentsOffset + (index * EnvironmentField.wordCount + Int(field.rawValue)) * 8
  }
  /// Byte offset of the owner of slice `position`.
  @inlinable @inline(__always) public func offset(slice position: Int) -> Int {
    slicesOffset + position * 8
  }
  /// Byte offset of a field of page `index` (page number − firstPage).
  @inlinable @inline(__always) public func offset(page index: Int, _ field: PageField) -> Int {
    pagesOffset + (index * PageField.wordCount + Int(field.rawValue)) * 8
  }
  /// Byte offset of a field of capability slot `index`.
  @inlinable @inline(__always) public func offset(capability index: Int, _ field: CapabilityField)
    -> Int
  {
    capabilitiesOffset + (index * CapabilityField.wordCount + Int(field.rawValue)) * 8
  }
  /// Byte offset of a field of window slot `slot` of environment `index`.
  @inlinable @inline(__always) public func offset(
    binding index: Int, slot: Int, _ field: BindingField
  ) -> Int {
    bindingsOffset
      + ((index * bounds.windowSlots + slot) * BindingField.wordCount + Int(field.rawValue)) * 8
  }
  /// Byte offset of a field of environment `index`'s revocation record.
  @inlinable @inline(__always) public func offset(revocation index: Int, _ field: RevocationField)
    -> Int
  {
    revocationsOffset + (index * RevocationField.wordCount + Int(field.rawValue)) * 8
  }
  /// Byte offset of entry `entry` of environment `index`'s repossession
  /// vector.
  @inlinable @inline(__always) public func offset(repossession index: Int, entry: Int) -> Int {
    repossessionsOffset + (index * bounds.pages + entry) * 8
  }
  /// Byte offset of a field of filter slot `index`.
  @inlinable @inline(__always) public func offset(filter index: Int, _ field: FilterField) -> Int {
    filtersOffset + (index * FilterField.wordCount + Int(field.rawValue)) * 8
  }
  /// Byte offset of word `word` of filter slot `index`'s encoding
  /// (``PacketFilter``: word 0 the test count, then two words per test).
  @inlinable @inline(__always) public func offset(filter index: Int, word: Int) -> Int {
    filterWordsOffset + (index * PacketFilter.wordCount + word) * 8
  }
}

/// The header's words.
public enum InfoHeader: UInt64, CaseIterable, Sendable {
  /// ``InfoHeader/magicValue``.
  case magic = 0
  /// ``InfoHeader/currentVersion``.
  case version
  case environments, pages, capabilities, windowSlots, slices, maximumDepth, maximumRun
  /// The physical page number of page index 0.
  case firstPage
  /// The environment running now.
  case current
  /// The slice position whose turn it is.
  case currentSlice
  /// Slice ends since boot.
  case ticks
  /// Frames that arrived and no active filter matched (dropped).
  case unclaimedFrames
  /// Packet-filter slots.
  case filters

  /// "EXOINFO1" in ASCII, little-endian.
  public static let magicValue: UInt64 = 0x3146_4E49_4F58_4F45
  public static let currentVersion: UInt64 = 3
  /// The `firstPage` of the kernel: its managed pages start at 16 MiB, so
  /// page numbers in replay files mean the same on every build.
  public static let kernelFirstPage: UInt64 = 0x1000
}

/// An environment record's words.
public enum EnvironmentField: UInt64, CaseIterable, Sendable {
  /// An ``EnvironmentState`` raw value.
  case state = 0
  /// The creator, or `none` for the first environment.
  case parent
  /// Where exceptions are delivered (0: none registered).
  case handler
  /// The top of the exception stack, in the window.
  case handlerStack
  /// Where revocation and repossession upcalls are delivered (0: none).
  case upcall
  /// Where protected control transfers enter (0: none).
  case callEntry
  /// The environment waiting for this one's reply, ``asynchronousCaller``,
  /// or `none`.
  case caller
  /// The status it exited with (valid once dying).
  case exitStatus
  /// How many capabilities it holds.
  case capabilities
  /// How many pages it owns.
  case pages
  /// How many of its window slots are bound.
  case bindings

  public static let wordCount = 11
}

/// A page record's words.
public enum PageField: UInt64, CaseIterable, Sendable {
  /// The owning environment, or `none` if free.
  case owner = 0
  /// How many bindings (in all windows) map the page.
  case mappings
  /// The root capability that covers the page, or `none` if free.
  case root

  public static let wordCount = 3
}

/// A capability record's words.
public enum CapabilityField: UInt64, CaseIterable, Sendable {
  /// A ``CapabilityKind`` raw value.
  case kind = 0
  /// The holder.
  case owner
  /// The capability it was derived from, or `none` for a root.
  case parent
  /// 0 for a root, parent's depth + 1 otherwise.
  case depth
  /// A ``Rights`` raw value.
  case rights
  /// The first page number (memory) or the environment (environment).
  case base
  /// How many pages (memory) or 1 (environment).
  case count
  /// Live capabilities derived from this one.
  case children
  /// Bindings backed by this capability.
  case bindings

  public static let wordCount = 9
}

/// A binding (window slot) record's words.
public enum BindingField: UInt64, CaseIterable, Sendable {
  /// The page number mapped, or `none` if the slot is empty.
  case page = 0
  /// The capability that backs the binding.
  case capability
  /// The ``Rights`` the mapping uses (read, write, execute).
  case rights

  public static let wordCount = 3
}

/// A packet-filter slot's words (docs/network.md); its tests are in the
/// filter words section (``InfoLayout/offset(filter:word:)``).
public enum FilterField: UInt64, CaseIterable, Sendable {
  /// A ``FilterState`` raw value.
  case state = 0
  /// The environment that wrote or installed it, or `none` if free.
  case owner
  /// The window slot of the owner where frames are delivered, or `none`
  /// until installed.
  case slot
  /// 1 while a delivered frame waits in the buffer (until `filterRelease`).
  case pending
  /// Frames delivered since installation.
  case delivered
  /// Frames it matched while its buffer was still pending (not copied).
  case dropped

  public static let wordCount = 6
}
