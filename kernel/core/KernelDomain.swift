import Arch
import ExoABI

/// One column of the exported tables: `count` words, `stride` bytes apart,
/// the first at physical address `address` of the info area. Reads load
/// the word in place; writes go through `Info.store` (which, in difftest
/// mode, keeps the digest). The only place outside `Info` where the spec's
/// tables are written.
struct InfoColumn: SpecColumn {
  var address: UInt64
  var stride: UInt64
  var count: Int

  subscript(_ position: Int) -> UInt64 {
    @inline(__always) get {
      PhysicalMemory.load64(address &+ UInt64(truncatingIfNeeded: position) &* stride)
    }
    @inline(__always) nonmutating set {
      Info.store(
        Int(
          truncatingIfNeeded: address &- Info.base &+ UInt64(truncatingIfNeeded: position) &* stride
        ),
        newValue)
    }
  }
}

/// The spec's domain in the kernel: plain values, tables in place in the
/// exported area, and the hooks that make the hardware follow each change
/// (page tables and the TLB, page contents, register frames, upcalls).
/// Every system call and kernel event is the spec's own transition over
/// this domain (`Spec.state`); nothing else in the kernel writes the tables.
struct KernelDomain: PlainDomain {
  typealias Column = InfoColumn

  @inline(__always)
  func read(_ table: InfoColumn, _ index: UInt64, default fallback: UInt64) -> UInt64 {
    index < UInt64(truncatingIfNeeded: table.count)
      ? table[Int(truncatingIfNeeded: index)] : fallback
  }

  @inline(__always)
  func write(_ table: inout InfoColumn, _ index: UInt64, _ value: UInt64) {
    if index < UInt64(truncatingIfNeeded: table.count) {
      table[Int(truncatingIfNeeded: index)] = value
    }
  }

  /// Scratch memory for counting (`Spec.scratch`: only the
  /// invariant-checking kernel counts, and sets it up at boot).
  func withScratch<R>(_ words: Int, _ body: (UnsafeMutablePointer<UInt64>) -> R) -> R {
    if words > Spec.scratchWords { panic("scratch memory too small for a count") }
    let start = arch_pointer(Spec.scratch).assumingMemoryBound(to: UInt64.self)
    start.initialize(repeating: 0, count: words)
    return body(start)
  }

  /// Byte `offset` of physical page `page`, through the identity map
  /// (zero outside it).
  @inline(__always) func pageByte(_ page: UInt64, _ offset: UInt64) -> UInt64 {
    guard page < PhysicalMemory.identityMapEnd / pageSize, offset < pageSize else { return 0 }
    return UInt64(PhysicalMemory.bytes(page &* pageSize &+ offset).pointee)
  }

  // MARK: Hooks (SpecHooks)

  func bindingChanged(_ b: UInt64) {
    let slots = Info.windowSlots
    AddressSpaces.syncWindow(b / slots, slot: b % slots)
  }

  func pageAllocated(_ page: UInt64) { PhysicalMemory.zeroPage(page * pageSize) }

  func environmentCreated(_ e: UInt64) {
    AddressSpaces.build(e)
    Scheduler.reset(e, rip: ProgramImage.entry, rsp: UserLayout.stackTop)
    Scheduler.resetFPU(e)
  }

  func environmentStarted(_ e: UInt64, rip: UInt64, rsp: UInt64) {
    Scheduler.reset(e, rip: rip, rsp: rsp)
    Scheduler.resetFPU(e)
  }

  func environmentExiting(_ e: UInt64, status: UInt64) {
    guard e == 0 else { return }
    Log("exo: environment 0 exited with status ").decimal(status).end()
    exitMachine(status == 0 ? .success : .userFailure)
  }

  func callAbandoned(_ waiter: UInt64) {
    let f = Scheduler.frame(waiter)
    f.pointee.rax = ExoError.wrongState.rawValue
    f.pointee.rdx = 0
  }

  func transferred(from caller: UInt64, to callee: UInt64, asynchronous: Bool) {
    Transfer.enter(callee, from: caller, asynchronous: asynchronous)
  }

  func replied(_ replier: UInt64, to waiter: UInt64, woke: Bool) {
    Transfer.reply(replier, to: waiter, woke: woke)
  }

  func upcall(_ e: UInt64, _ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
    Upcall.raise(e, reason, a, b)
  }

  func exceptionTaken(_ e: UInt64, delivered: Bool) {
    Exceptions.taken(e, delivered: delivered)
  }

  func frameDelivered(_ f: UInt64, owner: UInt64, binding: UInt64, dropped: UInt64) {
    Frames.deliver(toBinding: binding, dropped: dropped)
  }

  func frameTransmitted(page: UInt64, length: UInt64) {
    Frames.transmit(page: page, length: length)
  }
}

/// The kernel's abstract state: the spec's state over ``KernelDomain``,
/// whose columns are the exported tables (set up by `Info.initialize`).
enum Spec {
  /// Until `Info.initialize`, every column is empty.
  nonisolated(unsafe) static var state = SpecState(
    domain: KernelDomain(),
    bounds: Bounds(
      environments: 0, pages: 0, capabilities: 0, windowSlots: 0, slices: 0, maximumDepth: 0,
      maximumRun: 0),
    firstPage: 0, header: InfoColumn(address: 0, stride: 0, count: 0),
    environments: EnvironmentTable(
      state: empty, parent: empty, handler: empty, handlerStack: empty, upcall: empty,
      callEntry: empty, caller: empty, exitStatus: empty, capabilities: empty, pages: empty,
      bindings: empty),
    slices: empty, pages: PageTable(owner: empty, mappings: empty, root: empty),
    capabilities: CapabilityTable(
      kind: empty, owner: empty, parent: empty, depth: empty, rights: empty, base: empty,
      count: empty, children: empty, bindings: empty),
    bindings: BindingTable(page: empty, capability: empty, rights: empty),
    revocations: RevocationTable(
      phase: empty, requested: empty, deadline: empty, returned: empty, held: empty,
      repossessed: empty),
    repossessions: empty,
    filters: FilterTable(
      state: empty, owner: empty, slot: empty, pending: empty, delivered: empty, dropped: empty),
    filterWords: empty)

  /// Scratch memory for the plain domain's counts: its physical address
  /// and size in words (0 outside the invariant-checking kernel).
  nonisolated(unsafe) static var scratch: UInt64 = 0
  nonisolated(unsafe) static var scratchWords = 0

  private static var empty: InfoColumn { InfoColumn(address: 0, stride: 0, count: 0) }

  /// Points every column at the exported area at `Info.base` (after
  /// `Info.cacheOffsets`): the `InfoLayout` offsets of `Bounds.kernel`.
  static func attach() {
    let b = Info.bounds
    let base = Info.base
    func column(_ offset: Int, words: Int, count: Int) -> InfoColumn {
      InfoColumn(address: base + UInt64(offset), stride: UInt64(words * 8), count: count)
    }
    func environment(_ f: EnvironmentField) -> InfoColumn {
      column(
        Info.offset(environment: 0, f), words: EnvironmentField.wordCount, count: b.environments)
    }
    func page(_ f: PageField) -> InfoColumn {
      column(Info.offset(page: Info.firstPage, f), words: PageField.wordCount, count: b.pages)
    }
    func capability(_ f: CapabilityField) -> InfoColumn {
      column(
        Info.offset(capability: 0, f), words: CapabilityField.wordCount, count: b.capabilities)
    }
    func binding(_ f: BindingField) -> InfoColumn {
      column(
        Info.offset(binding: 0, slot: 0, f), words: BindingField.wordCount,
        count: b.environments * b.windowSlots)
    }
    func filter(_ f: FilterField) -> InfoColumn {
      column(Info.layout.offset(filter: 0, f), words: FilterField.wordCount, count: b.filters)
    }
    func revocation(_ f: RevocationField) -> InfoColumn {
      column(Info.offset(revocation: 0, f), words: RevocationField.wordCount, count: b.environments)
    }
    state = SpecState(
      domain: KernelDomain(), bounds: b, firstPage: Info.firstPage,
      header: column(Int(InfoHeader.current.rawValue) * 8, words: 1, count: 4),
      environments: EnvironmentTable(
        state: environment(.state), parent: environment(.parent), handler: environment(.handler),
        handlerStack: environment(.handlerStack), upcall: environment(.upcall),
        callEntry: environment(.callEntry), caller: environment(.caller),
        exitStatus: environment(.exitStatus), capabilities: environment(.capabilities),
        pages: environment(.pages), bindings: environment(.bindings)),
      slices: column(Info.offset(slice: 0), words: 1, count: b.slices),
      pages: PageTable(owner: page(.owner), mappings: page(.mappings), root: page(.root)),
      capabilities: CapabilityTable(
        kind: capability(.kind), owner: capability(.owner), parent: capability(.parent),
        depth: capability(.depth), rights: capability(.rights), base: capability(.base),
        count: capability(.count), children: capability(.children),
        bindings: capability(.bindings)),
      bindings: BindingTable(
        page: binding(.page), capability: binding(.capability), rights: binding(.rights)),
      revocations: RevocationTable(
        phase: revocation(.phase), requested: revocation(.requested),
        deadline: revocation(.deadline), returned: revocation(.returned), held: revocation(.held),
        repossessed: revocation(.repossessed)),
      repossessions: column(
        Info.offset(repossession: 0, entry: 0), words: 1, count: b.environments * b.pages),
      filters: FilterTable(
        state: filter(.state), owner: filter(.owner), slot: filter(.slot),
        pending: filter(.pending), delivered: filter(.delivered), dropped: filter(.dropped)),
      filterWords: column(
        Info.layout.offset(filter: 0, word: 0), words: 1,
        count: b.filters * PacketFilter.wordCount))
  }
}
