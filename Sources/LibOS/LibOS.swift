import ExoABI

/// The library OS of one environment: it manages that environment's memory,
/// children, time and transfers on top of the kernel's mechanisms, written
/// once against ``KernelInterface`` and run both in user images and on the
/// executable spec in host tests.
///
/// Window layout (W window slots, from the exported header):
///
///     0 ..< userSlots            the program's memory (map, demand, fork/COW)
///     scratchSlot                a temporary mapping for copies
///     forkRecordSlot             a fork child's start record (then unmapped)
///     handlerStackSlots at top   the exception and transfer stack
public final class LibOS<K: KernelInterface> {
  public let kernel: K
  /// The environment this libOS runs in.
  public let me: UInt64
  /// The kernel's table sizes, read from the exported header.
  public let bounds: Bounds
  /// The physical page number of page index 0.
  public let firstPage: UInt64
  let layout: InfoLayout

  /// How many pages the handler stack takes, at the top of the window.
  public let handlerStackSlots: Int
  /// Slots `0 ..< userSlots` hold the program's memory.
  public let userSlots: Int
  public var scratchSlot: Int { userSlots }
  public var forkRecordSlot: Int { userSlots + 1 }

  /// What the libOS believes each window slot holds (see ``SlotRecord``).
  public internal(set) var slots: [SlotRecord]
  /// Capabilities this libOS no longer uses but could not delete yet (a
  /// fork child still maps the page): deleted by ``collect()``.
  public internal(set) var retired: [UInt64] = []
  /// The children this libOS created and has not reaped.
  public internal(set) var children: [Child] = []
  /// Counts accesses, for least-recently-used choices.
  var clock: UInt64 = 0
  /// Where the next page search starts.
  var pageCursor = 0
  /// With `(colours, colour)`, new pages have `page % colours == colour`.
  public var pageColour: (colours: UInt64, colour: UInt64)? = nil

  /// Called for a fault the libOS's memory manager does not resolve itself
  /// (true: handled, resume).
  public var faultHook: ((Fault) -> Bool)? = nil
  /// The RPC server: called for each transfer with (caller, message).
  public internal(set) var server: ((UInt64, Message) -> Message)? = nil
  /// Faults handled (demand and copy-on-write).
  public internal(set) var faultsHandled = 0
  /// The user-level threads (empty until the first ``spawn(stackPages:_:)``;
  /// then entry 0 is the first thread).
  public internal(set) var threads: [UserThread] = []
  /// The running thread.
  public internal(set) var currentThread = 0
  /// Thread switches made at a slice end.
  public internal(set) var threadSwitches = 0
  /// `ticks` when the running thread was dispatched.
  var quantumStart: UInt64 = 0
  /// Exception and transfer handlers running (no thread switch inside one:
  /// they run on the one handler stack).
  var handlerDepth = 0
  /// A deliberate bug, nil except in the tests that show the property
  /// tests catch it.
  public var plantedBug: PlantedBug? = nil

  // Revocation (LibOS+Revocation.swift).
  /// A revocation-request upcall came and was not answered yet.
  var requestNoted = false
  /// A repossession upcall came and was not reconciled yet.
  var repossessionNoted = false
  /// Entries of this environment's repossession vector reconciled so far.
  var vectorSeen = 0
  /// A digest of the last request record answered.
  var answeredRequest: UInt64 = 0
  /// A revocation point is running (it may allocate: no nesting), or
  /// ``boot()`` has not finished.
  var inRevocation = true
  /// The next this many requests are ignored (the kernel's abort then takes
  /// pages by force): for programs and tests that show the abort protocol.
  public var ignoresRequests = 0
  /// Requests answered, pages given back with `revocationReturn`, pages the
  /// kernel repossessed, and program slots whose written data was lost.
  public internal(set) var revocationsAnswered = 0
  public internal(set) var pagesReturned = 0
  public internal(set) var pagesRepossessed = 0
  public internal(set) var lostSlots = 0
  /// Called with each program slot whose written contents were lost
  /// (given back dirty, or repossessed): it reads as zeros from now on, and
  /// the program may rebuild what it held.
  /// Losses before a hook was set (in a fork child, before the program
  /// runs) are told to it when it is set.
  public var lostHook: ((Int) -> Void)? = nil {
    didSet {
      guard let lostHook else { return }
      let queued = unreportedLosses
      unreportedLosses = []
      for s in queued { lostHook(s) }
    }
  }
  /// Slots lost while no ``lostHook`` was set.
  var unreportedLosses: [Int] = []

  public init(kernel: K) {
    self.kernel = kernel
    func header(_ field: InfoHeader) -> UInt64 { kernel.info(Int(field.rawValue) * 8) }
    bounds = Bounds(
      environments: Int(header(.environments)), pages: Int(header(.pages)),
      capabilities: Int(header(.capabilities)), windowSlots: Int(header(.windowSlots)),
      slices: Int(header(.slices)), maximumDepth: Int(header(.maximumDepth)),
      maximumRun: Int(header(.maximumRun)), filters: Int(header(.filters)))
    firstPage = header(.firstPage)
    me = header(.current)
    layout = InfoLayout(bounds: bounds)
    handlerStackSlots = min(8, bounds.windowSlots / 8)
    userSlots = bounds.windowSlots - handlerStackSlots - 2
    slots = [SlotRecord](repeating: SlotRecord(), count: bounds.windowSlots)
  }

  // MARK: The exported tables

  public func header(_ field: InfoHeader) -> UInt64 { kernel.info(layout.offset(field)) }
  public func environment(_ e: UInt64, _ field: EnvironmentField) -> UInt64 {
    kernel.info(layout.offset(environment: Int(e), field))
  }
  public func state(_ e: UInt64) -> EnvironmentState {
    EnvironmentState(rawValue: environment(e, .state)) ?? .free
  }
  /// A field of physical page number `page`.
  public func page(_ page: UInt64, _ field: PageField) -> UInt64 {
    kernel.info(layout.offset(page: Int(page - firstPage), field))
  }
  public func capability(_ c: UInt64, _ field: CapabilityField) -> UInt64 {
    kernel.info(layout.offset(capability: Int(c), field))
  }
  public func binding(_ e: UInt64, _ slot: Int, _ field: BindingField) -> UInt64 {
    kernel.info(layout.offset(binding: Int(e), slot: slot, field))
  }
  public func sliceOwner(_ position: Int) -> UInt64 { kernel.info(layout.offset(slice: position)) }
  /// A field of packet-filter slot `f`.
  public func filter(_ f: Int, _ field: FilterField) -> UInt64 {
    kernel.info(layout.offset(filter: f, field))
  }

  /// The virtual address of window slot `slot`.
  public func address(slot: Int) -> UInt64 { UserLayout.windowBase + UInt64(slot) * pageSize }
  /// The window slot of `address`, if it is in the window.
  public func slot(of address: UInt64) -> Int? {
    UserLayout.windowSlot(of: VirtualAddress(rawValue: address), slots: bounds.windowSlots)
  }
  /// The top of the handler stack.
  public var handlerStackTop: UInt64 { address(slot: bounds.windowSlots) }

  // MARK: Start

  /// Sets this environment up: reads a fork record if this environment was
  /// forked (its memory as the parent left it), maps the handler stack and
  /// registers the entries. Returns the fork record's function and
  /// argument, or nil in the first environment.
  @discardableResult
  public func boot() throws(ExoError) -> ForkStart? {
    let start = try adoptForkRecord()
    for i in 0..<handlerStackSlots {
      try allocate(slot: bounds.windowSlots - 1 - i, rights: [.read, .write], private: true)
    }
    kernel.install(
      fault: { fault in
        self.handlerDepth += 1
        defer { self.handlerDepth -= 1 }
        return self.handle(fault)
      },
      call: { caller, message, _ in
        self.handlerDepth += 1
        defer { self.handlerDepth -= 1 }
        return self.server?(caller, message) ?? Message()
      })
    kernel.install(upcall: { reason, a, b in self.noteUpcall(reason, a, b) })
    try registerEntries(call: false)
    inRevocation = false
    return start
  }

  /// Registers the exception and upcall entries and the handler stack, and
  /// the transfer entry once there is a server (until then a `call` finds
  /// no entry and the client tries again, rather than getting an empty
  /// reply).
  func registerEntries(call: Bool) throws(ExoError) {
    let entries = kernel.entryPoints
    try check(
      kernel.sys(
        EnvironmentSetEntriesArguments(
          target: me, envCap: none, handler: entries.exception, handlerStack: handlerStackTop,
          upcall: entries.upcall, callEntry: call ? entries.call : 0)))
  }

  /// Writes a line to the console.
  public func print(_ text: String) { kernel.write(text + "\n") }

  /// Ends this environment.
  public func exit(_ status: UInt64) { kernel.exit(status) }

  /// Gives up the rest of this environment's turn (all its threads').
  public func yield() {
    _ = kernel.sys(YieldArguments())
    preemptionPoint()
    revocationPoint()
  }
}

/// Bugs a test can plant in one libOS to show that the property tests
/// catch them.
public enum PlantedBug: CaseIterable, Sendable {
  /// fork shares a page but leaves the parent's binding writable.
  case forkLeavesParentWritable
  /// A copy-on-write fault makes the shared page writable instead of
  /// copying it.
  case copyOnWriteSkipsCopy
  /// unmap never gives the page back.
  case unmapKeepsPage
  /// protect changes the binding but not the libOS's record.
  case protectForgetsRecord
  /// The libOS never reconciles its tables with what the kernel took (the
  /// repossession vector, the bindings).
  case reconcileSkipped
}

/// The start of a forked environment: which function to run, with what.
public struct ForkStart: Equatable, Sendable {
  public var function: UInt64
  public var argument: UInt64
  public var parent: UInt64
}

/// What the libOS believes a window slot holds.
public struct SlotRecord: Equatable, Sendable {
  /// The physical page mapped, or `none`.
  public var page: UInt64 = none
  /// The capability backing the binding.
  public var capability: UInt64 = none
  /// The rights the program asked for (the binding may have fewer while
  /// the page is shared copy-on-write).
  public var rights: Rights = []
  /// Shared read-only with a fork relative; a write copies it.
  public var copyOnWrite = false
  /// Unmapped until first touched: a fault allocates a zero page.
  public var demand = false
  /// The libOS's own (the handler stack): never shared, never given back.
  public var isPrivate = false
  /// ``LibOS/clock`` at the last access through the libOS.
  public var lastUse: UInt64 = 0
  /// Written since it was mapped (a clean page is all zeros, or a read-only
  /// share: giving it back loses nothing).
  public var dirty = false

  public init() {}

  /// The rights the binding has: without write while copy-on-write.
  public var boundRights: Rights {
    copyOnWrite ? rights.subtracting(.write) : rights
  }
}

/// Status words to typed errors.
@inline(__always)
func check(_ result: SyscallResult) throws(ExoError) {
  if let error = result.error { throw error }
}

@inline(__always)
func value(_ result: SyscallResult) throws(ExoError) -> UInt64 {
  if let error = result.error { throw error }
  return result.value
}
