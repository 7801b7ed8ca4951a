import Arch
import ExoABI

/// The kernel's tables: the exported area of `InfoLayout`, which is both the
/// kernel's storage for its abstract state and what every environment sees
/// read-only at `UserLayout.infoBase`. Fields are read and written only
/// through these accessors, by the names ExoABI gives them; every store goes
/// through `store`, which in difftest mode keeps `digest` (ExoABI's
/// `InfoDigest` of the whole area) exact.
enum Info {
  /// Physical address of the area (page aligned, `layout.size` bytes).
  nonisolated(unsafe) static var base: UInt64 = 0
  /// Physical page number of page index 0 of the page table.
  nonisolated(unsafe) static var firstPage: UInt64 = 0

  /// `InfoDigest` of the area, updated on every store in difftest mode
  /// (``recomputeDigest()`` when the mode starts).
  nonisolated(unsafe) static var digest = InfoDigest()

  static var bounds: Bounds { .kernel }
  /// Computed once, at its first use in `kmain` (before interrupts are
  /// enabled: a lazy global must not be first touched by a handler).
  static let layout = InfoLayout(bounds: .kernel)
  static var environmentCount: UInt64 { UInt64(bounds.environments) }
  static var capabilityCount: UInt64 { UInt64(bounds.capabilities) }
  static var pageCount: UInt64 { UInt64(bounds.pages) }
  static var windowSlots: UInt64 { UInt64(bounds.windowSlots) }
  static var sliceCount: UInt64 { UInt64(bounds.slices) }

  static subscript(header field: InfoHeader) -> UInt64 {
    @inline(__always) get { PhysicalMemory.load64(base + UInt64(field.rawValue * 8)) }
    set { store(Int(field.rawValue * 8), newValue) }
  }

  static subscript(environment e: UInt64, field: EnvironmentField) -> UInt64 {
    @inline(__always) get {
      PhysicalMemory.load64(base &+ UInt64(truncatingIfNeeded: offset(environment: e, field)))
    }
    set { store(offset(environment: e, field), newValue) }
  }

  static subscript(slice p: UInt64) -> UInt64 {
    @inline(__always) get { PhysicalMemory.load64(base + UInt64(offset(slice: p))) }
    set { store(offset(slice: p), newValue) }
  }

  /// A field of the page with physical page number `page` (must be managed).
  static subscript(page page: UInt64, field: PageField) -> UInt64 {
    @inline(__always) get {
      PhysicalMemory.load64(base &+ UInt64(truncatingIfNeeded: offset(page: page, field)))
    }
    set { store(offset(page: page, field), newValue) }
  }

  static subscript(capability c: UInt64, field: CapabilityField) -> UInt64 {
    @inline(__always) get {
      PhysicalMemory.load64(base &+ UInt64(truncatingIfNeeded: offset(capability: c, field)))
    }
    set { store(offset(capability: c, field), newValue) }
  }

  static subscript(binding e: UInt64, slot s: UInt64, field: BindingField) -> UInt64 {
    @inline(__always) get {
      PhysicalMemory.load64(base &+ UInt64(truncatingIfNeeded: offset(binding: e, slot: s, field)))
    }
    set { store(offset(binding: e, slot: s, field), newValue) }
  }

  // MARK: Offsets

  // Where each section of the area starts and the strides inside it, for
  // `Bounds.kernel`: `InfoLayout`'s values, read once by `initialize`.
  // InfoLayout's arithmetic is not inlined across the module boundary, and
  // recomputing a section offset through it cost about 90 instructions on
  // every access.
  nonisolated(unsafe) static var environmentsAt = 0
  nonisolated(unsafe) static var slicesAt = 0
  nonisolated(unsafe) static var pagesAt = 0
  nonisolated(unsafe) static var capabilitiesAt = 0
  nonisolated(unsafe) static var bindingsAt = 0
  nonisolated(unsafe) static var revocationsAt = 0
  nonisolated(unsafe) static var repossessionsAt = 0
  nonisolated(unsafe) static var environmentWords = 0
  nonisolated(unsafe) static var pageWords = 0
  nonisolated(unsafe) static var capabilityWords = 0
  nonisolated(unsafe) static var bindingWords = 0
  nonisolated(unsafe) static var slotsPerEnvironment = 0
  nonisolated(unsafe) static var revocationWords = 0
  nonisolated(unsafe) static var vectorEntries = 0

  /// Reads the section offsets of `layout` (before any other access).
  static func cacheOffsets() {
    let l = layout
    environmentsAt = l.environmentsOffset
    slicesAt = l.slicesOffset
    pagesAt = l.pagesOffset
    capabilitiesAt = l.capabilitiesOffset
    bindingsAt = l.bindingsOffset
    revocationsAt = l.revocationsOffset
    repossessionsAt = l.repossessionsOffset
    environmentWords = EnvironmentField.wordCount
    pageWords = PageField.wordCount
    capabilityWords = CapabilityField.wordCount
    bindingWords = BindingField.wordCount
    slotsPerEnvironment = l.bounds.windowSlots
    revocationWords = RevocationField.wordCount
    vectorEntries = l.bounds.pages
  }

  /// Checks at boot that the offsets below are `InfoLayout`'s, the one
  /// definition of the exported layout, for every field of the first and
  /// the last record of each table (a mismatch is a kernel bug: user code
  /// and the differential tester read the tables through `InfoLayout`).
  static func checkOffsets() {
    let l = layout
    let b = l.bounds
    var ok = true
    for f in InfoHeader.allCases { ok = ok && Int(f.rawValue * 8) == l.offset(f) }
    for i in [0, b.environments - 1] {
      let e = UInt64(i)
      for f in EnvironmentField.allCases {
        ok = ok && offset(environment: e, f) == l.offset(environment: i, f)
      }
      for f in RevocationField.allCases {
        ok = ok && offset(revocation: e, f) == l.offset(revocation: i, f)
      }
      for s in [0, b.windowSlots - 1] {
        for f in BindingField.allCases {
          ok = ok && offset(binding: e, slot: UInt64(s), f) == l.offset(binding: i, slot: s, f)
        }
      }
      for j in [0, b.pages - 1] {
        ok = ok && offset(repossession: e, entry: UInt64(j)) == l.offset(repossession: i, entry: j)
      }
    }
    for p in [0, b.slices - 1] { ok = ok && offset(slice: UInt64(p)) == l.offset(slice: p) }
    for i in [0, b.pages - 1] {
      for f in PageField.allCases {
        ok = ok && offset(page: firstPage + UInt64(i), f) == l.offset(page: i, f)
      }
    }
    for i in [0, b.capabilities - 1] {
      for f in CapabilityField.allCases {
        ok = ok && offset(capability: UInt64(i), f) == l.offset(capability: i, f)
      }
    }
    if !ok { panic("Info's table offsets do not match ExoABI's InfoLayout") }
  }

  // The same offsets as `InfoLayout.offset(...)` (``checkOffsets()``).
  // Wrapping arithmetic: every index reaching here is one the spec or the
  // kernel checked against its table's bound, so no product or sum can
  // overflow, and the overflow checks cost a third of a table access.
  @inline(__always)
  static func offset(environment e: UInt64, _ field: EnvironmentField) -> Int {
    environmentsAt &+ (word(e) &* environmentWords &+ Int(field.rawValue)) &* 8
  }
  @inline(__always)
  static func offset(slice p: UInt64) -> Int { slicesAt &+ word(p) &* 8 }
  /// Physical page number `page` (must be managed).
  @inline(__always)
  static func offset(page: UInt64, _ field: PageField) -> Int {
    pagesAt &+ (word(page &- firstPage) &* pageWords &+ Int(field.rawValue)) &* 8
  }
  @inline(__always)
  static func offset(capability c: UInt64, _ field: CapabilityField) -> Int {
    capabilitiesAt &+ (word(c) &* capabilityWords &+ Int(field.rawValue)) &* 8
  }
  @inline(__always)
  static func offset(binding e: UInt64, slot s: UInt64, _ field: BindingField) -> Int {
    bindingsAt
      &+ ((word(e) &* slotsPerEnvironment &+ word(s)) &* bindingWords &+ Int(field.rawValue)) &* 8
  }
  @inline(__always)
  static func offset(revocation e: UInt64, _ field: RevocationField) -> Int {
    revocationsAt &+ (word(e) &* revocationWords &+ Int(field.rawValue)) &* 8
  }
  @inline(__always)
  static func offset(repossession e: UInt64, entry i: UInt64) -> Int {
    repossessionsAt &+ (word(e) &* vectorEntries &+ word(i)) &* 8
  }
  @inline(__always)
  private static func word(_ v: UInt64) -> Int { Int(truncatingIfNeeded: v) }

  /// Calls `body(slot, page, capability)` for each bound window slot of `e`
  /// in slot order, walking the binding table in place (a scan of the
  /// table costs a load and a compare per unbound slot). `body` may change
  /// the binding of the slot it is given; it returns false to stop the
  /// walk.
  @inline(__always)
  static func forEachBinding(of e: UInt64, _ body: (UInt64, UInt64, UInt64) -> Bool) {
    let stride = UInt64(bindingWords * 8)
    let toCapability = (BindingField.capability.rawValue &- BindingField.page.rawValue) &* 8
    var address = base + UInt64(offset(binding: e, slot: 0, .page))
    let slots = UInt64(slotsPerEnvironment)
    var s: UInt64 = 0
    while s < slots {
      let page = PhysicalMemory.load64(address)
      if page != none && !body(s, page, PhysicalMemory.load64(address &+ toCapability)) { return }
      address &+= stride
      s += 1
    }
  }

  /// Stores `value` at byte `offset` of the area and updates `digest`. A
  /// store of the value the word already holds changes neither (the
  /// digest is a function of the words), so it is skipped.
  @inline(__always)
  static func store(_ offset: Int, _ value: UInt64) {
    let address = base &+ UInt64(truncatingIfNeeded: offset)
    let old = PhysicalMemory.load64(address)
    if old == value { return }
    if DiffMode.enabled { digest.replace(index: offset >> 3, old: old, new: value) }
    PhysicalMemory.store64(address, value)
  }

  /// Computes `digest` from the whole area (the difftest mode keeps it
  /// from then on; outside that mode nothing reads it).
  static func recomputeDigest() {
    var d = InfoDigest()
    var i = 0
    while i < layout.size / 8 {
      d.add(index: i, value: PhysicalMemory.load64(base &+ UInt64(i) &* 8))
      i += 1
    }
    digest = d
  }

  static subscript(revocation e: UInt64, field: RevocationField) -> UInt64 {
    @inline(__always) get { PhysicalMemory.load64(base + UInt64(offset(revocation: e, field))) }
    set { store(offset(revocation: e, field), newValue) }
  }

  /// Entry `i` of environment `e`'s repossession vector.
  static subscript(repossession e: UInt64, entry i: UInt64) -> UInt64 {
    @inline(__always) get {
      PhysicalMemory.load64(base + UInt64(offset(repossession: e, entry: i)))
    }
    set { store(offset(repossession: e, entry: i), newValue) }
  }

  static func state(_ e: UInt64) -> EnvironmentState {
    EnvironmentState(rawValue: Info[environment: e, .state]) ?? .free
  }

  static func kind(_ c: UInt64) -> CapabilityKind {
    CapabilityKind(rawValue: Info[capability: c, .kind]) ?? .empty
  }

  /// Word `i` of filter slot `f`'s encoding (`f` a filter slot).
  static func filterWord(_ f: UInt64, _ i: Int) -> UInt64 {
    PhysicalMemory.load64(base + UInt64(layout.offset(filter: Int(f), word: i)))
  }

  static var current: UInt64 {
    get { Info[header: .current] }
    set { Info[header: .current] = newValue }
  }

  /// Writes the initial state of docs/ABI.md into the (zeroed) area (the
  /// repossession vectors stay zero), and points the spec's columns at it.
  static func initialize(base: UInt64, firstPage: UInt64) {
    Info.base = base
    Info.firstPage = firstPage
    cacheOffsets()
    checkOffsets()
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
    Info[header: .filters] = UInt64(b.filters)
    Info[header: .firstPage] = firstPage
    // The tables: the spec's initial state, written through its columns
    // (the area is zero, so are the repossession vectors).
    Spec.attach()
    Spec.state.writeInitialState()
  }
}
