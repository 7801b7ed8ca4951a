import Arch
import ExoABI

/// The kernel's tables: the exported area of `InfoLayout`, which is both the
/// kernel's storage for its abstract state and what every environment sees
/// read-only at `UserLayout.infoBase`. Fields are read and written only
/// through these accessors, by the names ExoABI gives them; every store goes
/// through `store`, which keeps `digest` (ExoABI's `InfoDigest` of the whole
/// area) exact.
enum Info {
  /// Physical address of the area (page aligned, `layout.size` bytes).
  nonisolated(unsafe) static var base: UInt64 = 0
  /// Physical page number of page index 0 of the page table.
  nonisolated(unsafe) static var firstPage: UInt64 = 0

  /// `InfoDigest` of the area, updated on every store.
  nonisolated(unsafe) static var digest = InfoDigest()

  static var bounds: Bounds { .kernel }
  static var layout: InfoLayout { InfoLayout(bounds: .kernel) }
  static var environmentCount: UInt64 { UInt64(bounds.environments) }
  static var capabilityCount: UInt64 { UInt64(bounds.capabilities) }
  static var pageCount: UInt64 { UInt64(bounds.pages) }
  static var windowSlots: UInt64 { UInt64(bounds.windowSlots) }
  static var sliceCount: UInt64 { UInt64(bounds.slices) }

  static subscript(header field: InfoHeader) -> UInt64 {
    get { PhysicalMemory.load64(base + UInt64(layout.offset(field))) }
    set { store(layout.offset(field), newValue) }
  }

  static subscript(environment e: UInt64, field: EnvironmentField) -> UInt64 {
    get { PhysicalMemory.load64(base + UInt64(layout.offset(environment: Int(e), field))) }
    set { store(layout.offset(environment: Int(e), field), newValue) }
  }

  static subscript(slice p: UInt64) -> UInt64 {
    get { PhysicalMemory.load64(base + UInt64(layout.offset(slice: Int(p)))) }
    set { store(layout.offset(slice: Int(p)), newValue) }
  }

  /// A field of the page with physical page number `page` (must be managed).
  static subscript(page page: UInt64, field: PageField) -> UInt64 {
    get { PhysicalMemory.load64(base + UInt64(layout.offset(page: Int(page - firstPage), field))) }
    set { store(layout.offset(page: Int(page - firstPage), field), newValue) }
  }

  static subscript(capability c: UInt64, field: CapabilityField) -> UInt64 {
    get { PhysicalMemory.load64(base + UInt64(layout.offset(capability: Int(c), field))) }
    set { store(layout.offset(capability: Int(c), field), newValue) }
  }

  static subscript(binding e: UInt64, slot s: UInt64, field: BindingField) -> UInt64 {
    get {
      PhysicalMemory.load64(base + UInt64(layout.offset(binding: Int(e), slot: Int(s), field)))
    }
    set { store(layout.offset(binding: Int(e), slot: Int(s), field), newValue) }
  }

  /// Stores `value` at byte `offset` of the area and updates `digest`. A
  /// store of the value the word already holds changes neither (the
  /// digest is a function of the words), so it is skipped.
  @inline(__always)
  static func store(_ offset: Int, _ value: UInt64) {
    let address = base + UInt64(offset)
    let old = PhysicalMemory.load64(address)
    if old == value { return }
    digest.replace(index: offset / 8, old: old, new: value)
    PhysicalMemory.store64(address, value)
  }

  /// How many leading entries of `e`'s repossession vector may be
  /// non-zero: every entry from it on is 0. Kernel-private (not exported,
  /// zero at boot); lets ``clearRepossessions(_:)`` touch only what was
  /// written.
  static func repossessionExtent(_ e: UInt64) -> UnsafeMutablePointer<UInt64> {
    arch_env_repossession_extent(e)
  }

  static subscript(revocation e: UInt64, field: RevocationField) -> UInt64 {
    get { PhysicalMemory.load64(base + UInt64(layout.offset(revocation: Int(e), field))) }
    set { store(layout.offset(revocation: Int(e), field), newValue) }
  }

  /// Entry `i` of environment `e`'s repossession vector.
  static subscript(repossession e: UInt64, entry i: UInt64) -> UInt64 {
    get {
      PhysicalMemory.load64(base + UInt64(layout.offset(repossession: Int(e), entry: Int(i))))
    }
    set {
      store(layout.offset(repossession: Int(e), entry: Int(i)), newValue)
      let extent = repossessionExtent(e)
      if newValue != 0 && extent.pointee <= i { extent.pointee = i + 1 }
    }
  }

  static func state(_ e: UInt64) -> EnvironmentState {
    EnvironmentState(rawValue: Info[environment: e, .state]) ?? .free
  }

  static func kind(_ c: UInt64) -> CapabilityKind {
    CapabilityKind(rawValue: Info[capability: c, .kind]) ?? .empty
  }

  static var current: UInt64 {
    get { Info[header: .current] }
    set { Info[header: .current] = newValue }
  }

  /// Writes the initial state of docs/ABI.md into the (zeroed) area.
  static func initialize(base: UInt64, firstPage: UInt64) {
    Info.base = base
    Info.firstPage = firstPage
    let b = bounds
    Info[header: .magic] = InfoHeader.magicValue
    Info[header: .version] = InfoHeader.currentVersion
    Info[header: .environments] = UInt64(b.environments)
    Info[header: .pages] = UInt64(b.pages)
    Info[header: .capabilities] = UInt64(b.capabilities)
    Info[header: .windowSlots] = UInt64(b.windowSlots)
    Info[header: .slices] = UInt64(b.slices)
    Info[header: .maximumDepth] = UInt64(b.maximumDepth)
    Info[header: .maximumRun] = UInt64(b.maximumRun)
    Info[header: .firstPage] = firstPage
    Info[header: .current] = 0
    Info[header: .currentSlice] = 0
    Info[header: .ticks] = 0
    for e in 0..<environmentCount { clearEnvironment(e) }
    Info[environment: 0, .state] = EnvironmentState.runnable.rawValue
    for p in 0..<sliceCount { Info[slice: p] = none }
    Info[slice: 0] = 0
    for i in 0..<pageCount {
      Info[page: firstPage + i, .owner] = none
      Info[page: firstPage + i, .mappings] = 0
      Info[page: firstPage + i, .root] = none
    }
    for c in 0..<capabilityCount { clearCapability(c) }
    for e in 0..<environmentCount {
      for s in 0..<windowSlots { clearBinding(e, s) }
    }
  }

  static func clearEnvironment(_ e: UInt64) {
    Info[environment: e, .state] = EnvironmentState.free.rawValue
    Info[environment: e, .parent] = none
    Info[environment: e, .handler] = 0
    Info[environment: e, .handlerStack] = 0
    Info[environment: e, .upcall] = 0
    Info[environment: e, .callEntry] = 0
    Info[environment: e, .caller] = none
    Info[environment: e, .exitStatus] = 0
    Info[environment: e, .capabilities] = 0
    for field in RevocationField.allCases { Info[revocation: e, field] = 0 }
    clearRepossessions(e)
  }

  /// Every entry of `e`'s repossession vector becomes 0 (those from
  /// `repossessionExtent(e)` on already are).
  static func clearRepossessions(_ e: UInt64) {
    let extent = repossessionExtent(e)
    var i: UInt64 = 0
    while i < extent.pointee {
      Info[repossession: e, entry: i] = 0
      i += 1
    }
    extent.pointee = 0
  }

  static func clearCapability(_ c: UInt64) {
    Info[capability: c, .kind] = CapabilityKind.empty.rawValue
    Info[capability: c, .owner] = none
    Info[capability: c, .parent] = none
    Info[capability: c, .depth] = 0
    Info[capability: c, .rights] = 0
    Info[capability: c, .base] = 0
    Info[capability: c, .count] = 0
    Info[capability: c, .children] = 0
    Info[capability: c, .bindings] = 0
  }

  static func clearBinding(_ e: UInt64, _ s: UInt64) {
    Info[binding: e, slot: s, .page] = none
    Info[binding: e, slot: s, .capability] = none
    Info[binding: e, slot: s, .rights] = 0
  }
}
