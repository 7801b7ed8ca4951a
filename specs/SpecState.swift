import ExoABI

/// The environment table, one column per field (`EnvironmentField`), each
/// of `Bounds.environments` words.
public struct EnvironmentTable<C> {
  public var state, parent, handler, handlerStack, upcall, callEntry, caller, exitStatus,
    capabilities, pages, bindings: C

  public init(
    state: C, parent: C, handler: C, handlerStack: C, upcall: C, callEntry: C, caller: C,
    exitStatus: C, capabilities: C, pages: C, bindings: C
  ) {
    self.state = state
    self.parent = parent
    self.handler = handler
    self.handlerStack = handlerStack
    self.upcall = upcall
    self.callEntry = callEntry
    self.caller = caller
    self.exitStatus = exitStatus
    self.capabilities = capabilities
    self.pages = pages
    self.bindings = bindings
  }

  /// The column of `field`.
  public subscript(field: EnvironmentField) -> C {
    switch field {
    case .state: state
    case .parent: parent
    case .handler: handler
    case .handlerStack: handlerStack
    case .upcall: upcall
    case .callEntry: callEntry
    case .caller: caller
    case .exitStatus: exitStatus
    case .capabilities: capabilities
    case .pages: pages
    case .bindings: bindings
    }
  }
}

/// The page table, one column per field (`PageField`), each of
/// `Bounds.pages` words; index `i` is page number `firstPage + i`.
public struct PageTable<C> {
  public var owner, mappings, root: C

  public init(owner: C, mappings: C, root: C) {
    self.owner = owner
    self.mappings = mappings
    self.root = root
  }
}

/// The capability table, one column per field (`CapabilityField`), each of
/// `Bounds.capabilities` words.
public struct CapabilityTable<C> {
  public var kind, owner, parent, depth, rights, base, count, children, bindings: C

  public init(
    kind: C, owner: C, parent: C, depth: C, rights: C, base: C, count: C, children: C, bindings: C
  ) {
    self.kind = kind
    self.owner = owner
    self.parent = parent
    self.depth = depth
    self.rights = rights
    self.base = base
    self.count = count
    self.children = children
    self.bindings = bindings
  }
}

/// Every environment's window, one column per field (`BindingField`), each
/// of `environments × windowSlots` words, environment-major: window slot
/// `s` of environment `e` is at `e * windowSlots + s`.
public struct BindingTable<C> {
  public var page, capability, rights: C

  public init(page: C, capability: C, rights: C) {
    self.page = page
    self.capability = capability
    self.rights = rights
  }
}

/// Every environment's revocation record, one column per field
/// (`RevocationField`), each of `Bounds.environments` words.
public struct RevocationTable<C> {
  public var phase, requested, deadline, returned, held, repossessed: C

  public init(phase: C, requested: C, deadline: C, returned: C, held: C, repossessed: C) {
    self.phase = phase
    self.requested = requested
    self.deadline = deadline
    self.returned = returned
    self.held = held
    self.repossessed = repossessed
  }
}

/// The packet-filter slots (docs/network.md), one column per field
/// (`FilterField`), each of `Bounds.filters` words.
public struct FilterTable<C> {
  public var state, owner, slot, pending, delivered, dropped: C

  public init(state: C, owner: C, slot: C, pending: C, delivered: C, dropped: C) {
    self.state = state
    self.owner = owner
    self.slot = slot
    self.pending = pending
    self.delivered = delivered
    self.dropped = dropped
  }
}

/// The abstract state of the kernel (docs/ABI.md, "State"): bounded tables
/// whose sizes are `bounds`, holding values of the domain `D`, stored where
/// the domain keeps its columns. The kernel's `InfoLayout` export is
/// exactly this state (`SpecState+Info.swift`); in the kernel it *is* the
/// export.
///
/// `bounds` and `firstPage` are constants of the spec, never symbolic.
public struct SpecState<D: SpecDomain> {
  public typealias B = D.B
  public typealias W = D.W

  /// The domain every value of the state belongs to.
  public let domain: D
  /// The sizes of the tables.
  public let bounds: Bounds
  /// The physical page number of page index 0.
  public let firstPage: UInt64

  /// The kernel's words of the header, in this order: `current`,
  /// `currentSlice`, `ticks`, `unclaimedFrames` (see the properties of
  /// those names).
  public var header: D.Column
  public var environments: EnvironmentTable<D.Column>
  /// The owner of each slice position, or `none`.
  public var slices: D.Column
  public var pages: PageTable<D.Column>
  public var capabilities: CapabilityTable<D.Column>
  public var bindings: BindingTable<D.Column>
  public var revocations: RevocationTable<D.Column>
  /// Every environment's repossession vector, `environments × pages` words,
  /// environment-major: entry `i` of environment `e` is at `e * pages + i`.
  public var repossessions: D.Column
  public var filters: FilterTable<D.Column>
  /// Every filter slot's encoding (``PacketFilter``), `filters ×
  /// PacketFilter.wordCount` words, filter-major: word `i` of filter `f` is
  /// at `f * PacketFilter.wordCount + i`.
  public var filterWords: D.Column

  /// The running environment, or `none` (idle).
  public var current: W {
    @inline(__always) get { header[0] }
    @inline(__always) set { header[0] = newValue }
  }
  /// The slice position whose turn it is.
  public var currentSlice: W {
    @inline(__always) get { header[1] }
    @inline(__always) set { header[1] = newValue }
  }
  /// Slice ends since boot (the header's `ticks`; the name `ticks()` is the
  /// system call's).
  public var tickCount: W {
    @inline(__always) get { header[2] }
    @inline(__always) set { header[2] = newValue }
  }
  /// Frames that arrived and no active filter matched.
  public var unclaimedFrames: W {
    @inline(__always) get { header[3] }
    @inline(__always) set { header[3] = newValue }
  }

  /// The state whose tables are the given columns.
  public init(
    domain: D, bounds: Bounds, firstPage: UInt64, header: D.Column,
    environments: EnvironmentTable<D.Column>, slices: D.Column, pages: PageTable<D.Column>,
    capabilities: CapabilityTable<D.Column>, bindings: BindingTable<D.Column>,
    revocations: RevocationTable<D.Column>, repossessions: D.Column,
    filters: FilterTable<D.Column>, filterWords: D.Column
  ) {
    self.domain = domain
    self.bounds = bounds
    self.firstPage = firstPage
    self.header = header
    self.environments = environments
    self.slices = slices
    self.pages = pages
    self.capabilities = capabilities
    self.bindings = bindings
    self.revocations = revocations
    self.repossessions = repossessions
    self.filters = filters
    self.filterWords = filterWords
  }
}

extension EnvironmentTable: Sendable where C: Sendable {}
extension PageTable: Sendable where C: Sendable {}
extension CapabilityTable: Sendable where C: Sendable {}
extension BindingTable: Sendable where C: Sendable {}
extension RevocationTable: Sendable where C: Sendable {}
extension FilterTable: Sendable where C: Sendable {}
extension SpecState: Sendable where D: Sendable, D.Column: Sendable {}
