import CCoroutine
import ExoABI
import ExoSpec
import LibOS

/// A whole machine for libOS host tests: the executable spec is the kernel
/// (every system call and kernel event is `ConcreteState.step`), and this
/// adds what the spec does not model:
///
/// - the contents of physical pages (zeroed when allocated), read and
///   written through the spec's bindings;
/// - faults: an access the bindings do not allow becomes the spec's
///   `exception` event, and when the spec delivers it, the environment's
///   installed fault handler runs (nested, on the same stack) and the
///   access is retried;
/// - environments running code: every started environment runs the
///   program (as the kernel runs the boot program in each) on its own
///   coroutine, and only the spec's `current` environment runs; the
///   machine switches stacks whenever a transition changes `current`;
/// - transfer entries: a `call` or `send` runs the target's call handler
///   when it next runs, and its `reply` returns the message to the caller;
/// - slice ends: a `tick` after every `tickEvery` operations (an operation
///   is a memory access, the entry into a system call, or the return from
///   one);
/// - the kernel's revocation events where the kernel raises them: after
///   each `tick` the expired deadlines and up to
///   `RevocationLimits.abortStepsPerTick` abort steps per environment,
///   and memory pressure after a `pageAllocate` that finds a page owned
///   when too few are free; tests may raise pressure themselves
///   (``raisePressure(on:count:)``);
/// - upcalls: a revocation request and a completed abort enter the
///   environment's installed upcall handler when it next runs (nested, on
///   the handler stack, like a fault);
/// - a check that no environment names a page or a capability it lost to
///   revocation (given back or repossessed) in a system call, unless it
///   got it again (``violations``).
///
/// Deterministic: one thread, and what runs is decided by the spec.
public final class Machine {
  /// The kernel's abstract state.
  public private(set) var spec: ConcreteState
  public var bounds: Bounds { spec.bounds }
  /// Everything written to the console.
  public private(set) var console = ""
  /// A `tick` after every this many operations (system calls and memory
  /// accesses) of any environment; 0 for none.
  public var tickEvery: Int
  /// The machine stops (``Ending/stepLimit``) after this many operations.
  public var operationLimit: Int
  /// Every transition applied, for failure reports.
  public private(set) var transitions = 0
  /// How the run ended.
  public private(set) var ending: Ending? = nil
  /// Called after every successful transition with its name (tests check
  /// invariants here).
  public var observer: ((Machine, Transition) -> Void)? = nil
  /// Called after every transition the spec takes for a call or a kernel
  /// event (not the timer interrupt, which is several), with its arguments,
  /// its result and the states before and after it: tests check
  /// exoverify's theorems on each step here (`TheoremAudit`).
  public var stepAudit:
    ((Transition, [UInt64], SyscallResult, ConcreteState, ConcreteState) -> Void)? = nil
  /// Per environment: the pages and the capability slots it lost to
  /// revocation (given back, repossessed, or bindings to them broken) and
  /// has not got back since, each with the number of the loss.
  public private(set) var takenPages: [[UInt64: Int]]
  public private(set) var takenCapabilities: [[UInt64: Int]]
  /// Losses so far, and per environment the count when it last read its
  /// own repossession header (so knew of every loss up to there).
  var losses = 0
  var lastLook: [Int]
  /// Per environment, how many revocation transitions took something from
  /// it.
  public private(set) var lossEvents: [Int]
  /// System calls that named a page or capability the caller had lost
  /// before it last read its repossession header.
  public private(set) var violations: [String] = []
  /// Upcalls delivered, by reason.
  public private(set) var upcallsDelivered: [UpcallReason: Int] = [:]

  /// Why ``run()`` returned.
  public enum Ending: Equatable, Sendable {
    /// No environment can run (the kernel would end the machine).
    case idle
    /// ``operationLimit`` operations ran.
    case stepLimit
  }

  let program: (SimulatedKernel) -> Void
  var memory: [UInt64: [UInt64]] = [:]
  var runtimes: [Runtime?]
  var retiredCoroutines: [OpaquePointer] = []
  var threadContexts: [OpaquePointer] = []
  var mainCoroutine: OpaquePointer? = nil
  var operations = 0

  /// A machine in the ABI's initial state (environment 0 current) that
  /// runs `program` in each environment it starts.
  public init(
    bounds: Bounds, firstPage: UInt64 = 0x200, tickEvery: Int = 0,
    operationLimit: Int = 2_000_000, program: @escaping (SimulatedKernel) -> Void
  ) {
    // The spec reads user memory (`frameTransmit`) from the machine's pages.
    let contents = PageContents()
    spec = ConcreteState(bounds: bounds, firstPage: firstPage, memory: contents)
    self.tickEvery = tickEvery
    self.operationLimit = operationLimit
    self.program = program
    runtimes = [Runtime?](repeating: nil, count: bounds.environments)
    takenPages = [[UInt64: Int]](repeating: [:], count: bounds.environments)
    takenCapabilities = [[UInt64: Int]](repeating: [:], count: bounds.environments)
    lastLook = [Int](repeating: 0, count: bounds.environments)
    lossEvents = [Int](repeating: 0, count: bounds.environments)
    contents.byte = { [unowned self] page, offset in
      guard offset < pageSize, let words = self.memory[page] else { return 0 }
      return (words[Int(offset / 8)] >> (8 * (offset % 8))) & 0xff
    }
  }

  deinit {
    for case let runtime? in runtimes {
      retiredCoroutines.append(contentsOf: runtime.coroutineList)
    }
    for c in retiredCoroutines + threadContexts { exo_coroutine_destroy(c) }
    if let mainCoroutine { exo_coroutine_destroy(mainCoroutine) }
  }

  /// Runs environment 0's program, and whatever it starts, until nothing
  /// can run or the operation limit is reached.
  @discardableResult
  public func run() -> Ending {
    precondition(mainCoroutine == nil, "a machine runs once")
    mainCoroutine = exo_coroutine_current()
    runtimes[0] = Runtime(environment: 0)
    if let next = coroutine(for: 0) { exo_coroutine_switch(mainCoroutine, next) }
    return ending ?? .idle
  }

  // MARK: Running environments

  /// Per started environment: its stack, its installed handlers, the
  /// transfers waiting to enter it.
  final class Runtime {
    let environment: UInt64
    var coroutine: OpaquePointer? = nil
    var coroutineList: [OpaquePointer] { coroutine.map { [$0] } ?? [] }
    var faultHandler: ((Fault) -> Bool)? = nil
    var callHandler: ((UInt64, Message, Bool) -> Message)? = nil
    var upcallHandler: ((UpcallReason, UInt64, UInt64) -> Void)? = nil
    /// Upcalls raised and not delivered yet.
    var upcalls: [(reason: UpcallReason, a: UInt64, b: UInt64)] = []
    /// Nested deliveries (exceptions, transfers) on the handler stack.
    var depth = 0
    var entries: [(caller: UInt64, message: Message, asynchronous: Bool)] = []
    /// The reply to this environment's own `call`, when one came.
    var reply: Message? = nil
    init(environment: UInt64) { self.environment = environment }
  }

  func coroutine(for e: UInt64) -> OpaquePointer? {
    guard let runtime = runtimes[Int(e)] else { return nil }
    if let c = runtime.coroutine { return c }
    let box = Unmanaged.passRetained(StartBox(machine: self, environment: e))
    guard
      let c = exo_coroutine_create(
        { context in
          let box = Unmanaged<StartBox>.fromOpaque(context!).takeRetainedValue()
          box.machine.start(box.environment)
        }, box.toOpaque(), 1 << 20)
    else { fatalError("no memory for a coroutine") }
    runtime.coroutine = c
    return c
  }

  final class StartBox {
    unowned let machine: Machine
    let environment: UInt64
    init(machine: Machine, environment: UInt64) {
      (self.machine, self.environment) = (machine, environment)
    }
  }

  /// The body of environment `e`'s coroutine: the program, then exit(0) as
  /// the user runtime does when `main` returns.
  func start(_ e: UInt64) {
    program(SimulatedKernel(machine: self, environment: e))
    if spec.current == e { _ = apply(e, ExitArguments(status: 0)) }
    schedule(e)
    fatalError("environment \(e) resumed after its end")
  }

  /// Returns when environment `e` is current (running its pending transfer
  /// entries first); otherwise switches to whatever is current, or ends the
  /// run when nothing is.
  func schedule(_ e: UInt64) {
    while true {
      if ending != nil || spec.current == none {
        if ending == nil { ending = .idle }
        switchTo(nil, from: e)
        continue
      }
      let current = spec.current
      if current == e, let runtime = runtimes[Int(e)] {
        if !runtime.upcalls.isEmpty {
          deliverUpcall(e, runtime)
          continue
        }
        if runtime.entries.isEmpty { return }
        let entry = runtime.entries.removeFirst()
        runtime.depth += 1
        let reply =
          runtime.callHandler?(entry.caller, entry.message, entry.asynchronous) ?? Message()
        runtime.depth -= 1
        if spec.current == e { performReply(e, reply) }
        continue
      }
      switchTo(current, from: e)
    }
  }

  func switchTo(_ target: UInt64?, from e: UInt64) {
    guard let from = runtimes[Int(e)]?.coroutine
    else { fatalError("environment \(e) has no stack") }
    if let target {
      if runtimes[Int(target)] == nil { runtimes[Int(target)] = Runtime(environment: target) }
      guard let to = coroutine(for: target) else { fatalError("no stack for \(target)") }
      if to != from { exo_coroutine_switch(from, to) }
    } else {
      exo_coroutine_switch(from, mainCoroutine)
    }
  }

  // MARK: Transitions

  /// Applies `transition` for environment `e` (which must be current), with
  /// the machine's additions around it.
  func apply(_ e: UInt64, _ transition: Transition, _ arguments: [UInt64]) -> SyscallResult {
    precondition(spec.current == e, "environment \(e) ran while \(spec.current) was current")
    if case .call(let call) = transition { checkNotTaken(e, call, arguments) }
    var waiter: UInt64 = none
    if transition == .call(.reply) { waiter = spec.environments.caller[Int(e)] }
    if transition == .event(.tick) {
      timerInterrupt()
      observer?(self, transition)
      return .success(0)
    }
    let before = transition == .call(.revocationReturn) ? spec : nil
    let audited = stepAudit.map { _ in spec }
    let result = spec.step(transition, arguments)
    transitions += 1
    if let audited { stepAudit?(transition, arguments, result, audited, spec) }
    if transition == .call(.pageAllocate), result.error == .slotInUse {
      // The kernel's memory pressure (the spec's policy decides whom to ask).
      _ = kernelEvent(.allocationPressure, arguments)
    }
    guard result.status == 0 else { return result }
    if let before { recordTaken(before) }
    switch transition {
    case .call(.pageAllocate):
      let a = PageAllocateArguments(arguments: arguments)
      for i in 0..<a.count { memory[a.page + i] = nil }
      for i in 0..<a.count { takenPages[Int(e)][a.page + i] = nil }
      takenCapabilities[Int(e)][a.slot] = nil
    case .call(.capabilityDerive):
      takenCapabilities[Int(e)][CapabilityDeriveArguments(arguments: arguments).child] = nil
    case .call(.capabilityGrant):
      let a = CapabilityGrantArguments(arguments: arguments)
      let (c, t) = (Int(a.capability), Int(a.target))
      takenCapabilities[t][a.capability] = nil
      let base = spec.capabilities.base[c]
      for i in 0..<spec.capabilities.count[c] { takenPages[t][base + i] = nil }
    case .call(.environmentCreate):
      let a = EnvironmentCreateArguments(arguments: arguments)
      takenPages[Int(a.environment)] = [:]
      takenCapabilities[Int(a.environment)] = [:]
      takenCapabilities[Int(e)][a.slot] = nil
    case .call(.revocationRequest):
      let a = RevocationRequestArguments(arguments: arguments)
      raise(a.target, .revocationRequest, a.count, spec.revocations.deadline[Int(a.target)])
    case .call(.environmentStart):
      let t = EnvironmentStartArguments(arguments: arguments).target
      if let old = runtimes[Int(t)] { retiredCoroutines.append(contentsOf: old.coroutineList) }
      runtimes[Int(t)] = Runtime(environment: t)
    case .call(.call):
      let a = CallArguments(arguments: arguments)
      enterTransfer(from: e, a.capability, a.message, asynchronous: false)
    case .call(.send):
      let a = SendArguments(arguments: arguments)
      enterTransfer(from: e, a.capability, a.message, asynchronous: true)
    case .call(.reply):
      if waiter < UInt64(bounds.environments) {
        runtimes[Int(waiter)]?.reply = ReplyArguments(arguments: arguments).message
      }
    default: break
    }
    observer?(self, transition)
    return result
  }

  /// A transfer from `e` through environment capability `capability` went
  /// in: the callee runs its handler when it is next current.
  func enterTransfer(from e: UInt64, _ capability: UInt64, _ message: Message, asynchronous: Bool) {
    let t = spec.capabilities.base[Int(capability)]
    runtimes[Int(t)]?.entries.append((e, message, asynchronous))
    runtimes[Int(e)]?.reply = nil
  }

  /// Applies the system call `arguments` are for, for environment `e`.
  func apply<Arguments: SyscallArguments>(_ e: UInt64, _ arguments: Arguments) -> SyscallResult
  where Arguments.Word == UInt64 {
    apply(e, .call(Arguments.call), arguments.arguments)
  }

  // MARK: Revocation

  /// A kernel event of revocation (not an environment's step): applied
  /// whoever is current.
  func kernelEvent(_ event: KernelEvent, _ arguments: [UInt64]) -> SyscallResult {
    let before = spec
    let result = spec.step(.event(event), arguments)
    transitions += 1
    stepAudit?(.event(event), arguments, result, before, spec)
    guard result.status == 0 else { return result }
    revocationUpcalls(since: before)
    observer?(self, .event(event))
    return result
  }

  /// The timer interrupt as the spec's policy composes it (a slice ends,
  /// then each environment's revocation steps), with what the machine
  /// adds: the losses noted and the upcalls raised.
  func timerInterrupt() {
    let before = spec
    spec.timerInterrupt()
    transitions += 1
    revocationUpcalls(since: before)
  }

  /// Notes what the kernel's own steps took since `before` and raises the
  /// upcalls the kernel raises: `revocationRequest` for each request that
  /// started, `repossession` for each that ended (by force: a kernel step
  /// ends a request only by the abort protocol).
  func revocationUpcalls(since before: ConcreteState) {
    let none = RevocationPhase.none.rawValue
    if before.pages.owner != spec.pages.owner || before.bindings.page != spec.bindings.page {
      recordTaken(before)
    }
    for e in 0..<bounds.environments {
      let (was, now) = (before.revocations.phase[e], spec.revocations.phase[e])
      if was == none && now != none {
        raise(
          UInt64(e), .revocationRequest, spec.revocations.requested[e],
          spec.revocations.deadline[e])
      }
      // A kernel step never ends a request but by force.
      if was != none && now == none {
        raise(
          UInt64(e), .repossession, spec.revocations.repossessed[e],
          spec.revocations.requested[e])
      }
    }
  }

  /// The kernel asks `target` for `count` pages with the pressure deadline
  /// (as under memory pressure). Its errors are ignored, as the kernel's.
  @discardableResult
  public func raisePressure(on target: UInt64, count: UInt64) -> SyscallResult {
    kernelEvent(.revocationPressure, [target, count])
  }

  /// Raises upcall `reason` in `t` when it can take one (docs/ABI.md
  /// "Upcalls"); the frame-slot check is made at delivery.
  func raise(_ t: UInt64, _ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
    guard t < UInt64(bounds.environments), let runtime = runtimes[Int(t)] else { return }
    let state = spec.environments.state[Int(t)]
    guard spec.environments.upcall[Int(t)] != 0, spec.environments.handlerStack[Int(t)] != 0,
      state == EnvironmentState.runnable.rawValue || state == EnvironmentState.stopped.rawValue
    else { return }
    runtime.upcalls.append((reason, a, b))
  }

  /// Runs `e`'s first pending upcall on its handler stack, if the frame's
  /// slot is writable (otherwise the kernel drops it).
  func deliverUpcall(_ e: UInt64, _ runtime: Runtime) {
    let upcall = runtime.upcalls.removeFirst()
    let slot = frameSlot(e, depth: runtime.depth)
    let i = Int(e) * bounds.windowSlots + Int(slot)
    guard i < spec.bindings.page.count, spec.bindings.page[i] != none,
      Rights(rawValue: spec.bindings.rights[i]).contains(.write),
      let handler = runtime.upcallHandler
    else { return }
    upcallsDelivered[upcall.reason, default: 0] += 1
    runtime.depth += 1
    handler(upcall.reason, upcall.a, upcall.b)
    runtime.depth -= 1
  }

  /// Notes what a revocation transition took, comparing with the state
  /// `before` it: every capability deleted (from its holder), every page
  /// freed (from its owner) and every binding removed (from the
  /// environment that had it).
  func recordTaken(_ before: ConcreteState) {
    let empty = CapabilityKind.empty.rawValue
    let environments = UInt64(bounds.environments)
    losses += 1
    for j in 0..<bounds.capabilities
    where before.capabilities.kind[j] != empty && spec.capabilities.kind[j] == empty {
      let owner = before.capabilities.owner[j]
      if owner < environments { takenCapabilities[Int(owner)][UInt64(j)] = losses }
    }
    for i in 0..<bounds.pages where before.pages.owner[i] != none && spec.pages.owner[i] == none {
      let owner = before.pages.owner[i]
      if owner < environments { takenPages[Int(owner)][spec.firstPage + UInt64(i)] = losses }
    }
    for b in 0..<spec.bindings.page.count
    where before.bindings.page[b] != none && spec.bindings.page[b] == none {
      let e = b / bounds.windowSlots
      takenPages[e][before.bindings.page[b]] = losses
      takenCapabilities[e][before.bindings.capability[b]] = losses
    }
    for e in 0..<bounds.environments {
      let owned = { (state: ConcreteState) in
        state.capabilities.owner.indices.filter {
          state.capabilities.owner[$0] == UInt64(e) && state.capabilities.kind[$0] != empty
        }.count
      }
      if owned(before) != owned(spec) { lossEvents[e] += 1 }
    }
  }

  /// Environment `e` read its own repossession header: from now on it
  /// knows of every loss so far.
  func noteLook(_ e: UInt64) {
    if e < UInt64(bounds.environments) { lastLook[Int(e)] = losses }
  }

  /// Flags a system call by `e` that names a page or a memory capability
  /// `e` lost to revocation before it last read its repossession header
  /// (a loss in the middle of the call, or after the look, is a race the
  /// libOS cannot avoid: the kernel refuses such a call).
  func checkNotTaken(_ e: UInt64, _ call: Syscall, _ a: [UInt64]) {
    var capabilities: [UInt64] = []
    var pages: [UInt64] = []
    switch call {
    case .pageMap:
      let map = PageMapArguments(arguments: a)
      capabilities = [map.memoryCap]
      pages = [map.page]
    case .capabilityDerive:
      let derive = CapabilityDeriveArguments(arguments: a)
      capabilities = [derive.capability]
      pages = [derive.base]
    case .capabilityGrant: capabilities = [CapabilityGrantArguments(arguments: a).capability]
    case .capabilityDelete: capabilities = [CapabilityDeleteArguments(arguments: a).capability]
    case .capabilityRevoke: capabilities = [CapabilityRevokeArguments(arguments: a).capability]
    case .revocationReturn: capabilities = [RevocationReturnArguments(arguments: a).capability]
    default: return
    }
    let known = lastLook[Int(e)]
    for c in capabilities {
      if let loss = takenCapabilities[Int(e)][c], loss <= known {
        violations.append(
          "environment \(e): \(call.name) names capability \(c), lost to revocation")
      }
    }
    for p in pages {
      if let loss = takenPages[Int(e)][p], loss <= known {
        violations.append("environment \(e): \(call.name) names page \(p), lost to revocation")
      }
    }
  }

  func performReply(_ e: UInt64, _ message: Message) {
    _ = apply(e, ReplyArguments(message: message))
  }

  /// Counts an operation of `e`; a slice may end here.
  func operation(_ e: UInt64) {
    operations += 1
    if operations >= operationLimit, ending == nil { ending = .stepLimit }
    if tickEvery > 0, operations % tickEvery == 0 { _ = apply(e, .event(.tick), []) }
    schedule(e)
  }

  // MARK: Memory

  /// The page and rights environment `e` has at `address`, if it is in the
  /// window and bound.
  func binding(_ e: UInt64, _ address: UInt64) -> (page: UInt64, rights: Rights)? {
    guard
      let s = UserLayout.windowSlot(
        of: VirtualAddress(rawValue: address), slots: bounds.windowSlots)
    else { return nil }
    let i = Int(e) * bounds.windowSlots + s
    let page = spec.bindings.page[i]
    guard page != none else { return nil }
    return (page, Rights(rawValue: spec.bindings.rights[i]))
  }

  /// An access by `e` at `address`: faults until the bindings allow it.
  func access(_ e: UInt64, _ address: UInt64, write: Bool) -> (page: UInt64, word: Int)? {
    precondition(address % 8 == 0, "unaligned access at \(address)")
    while true {
      operation(e)
      if let b = binding(e, address), b.rights.contains(write ? .write : .read) {
        return (b.page, Int(address % pageSize / 8))
      }
      guard fault(e, address: address, write: write) else { return nil }
    }
  }

  /// Raises a page fault in `e`: delivered to its handler when the spec
  /// says so (true: retry the access); otherwise the environment is
  /// stopped or has ended and this never returns.
  func fault(_ e: UInt64, address: UInt64, write: Bool) -> Bool {
    let present: UInt64 = binding(e, address) == nil ? 0 : 1
    let error = present | (write ? 2 : 0) | 4
    let runtime = runtimes[Int(e)]
    let frameSlot = frameSlot(e, depth: runtime?.depth ?? 0)
    _ = apply(e, .event(.exception), [14, error, address, frameSlot])
    guard spec.current == e, spec.environments.state[Int(e)] == EnvironmentState.runnable.rawValue,
      let runtime, let handler = runtime.faultHandler
    else {
      console += "exo: environment \(e) stopped: page fault at 0x\(hex(address))\n"
      schedule(e)
      fatalError("a stopped environment resumed without a restart")
    }
    runtime.depth += 1
    let handled = handler(Fault(vector: 14, error: error, address: address))
    runtime.depth -= 1
    if !handled {
      _ = apply(e, ExitArguments(status: 72))
      schedule(e)
      fatalError("environment \(e) resumed after its end")
    }
    return true
  }

  /// The window slot the kernel writes an exception frame into, for a
  /// handler stack holding `depth` deliveries already (each taken as 1 KiB).
  func frameSlot(_ e: UInt64, depth: Int) -> UInt64 {
    let top = spec.environments.handlerStack[Int(e)]
    guard top > UserLayout.windowBase else { return 0 }
    var frame = (top - UInt64(depth) * 1024 - ExceptionFrame.size) & ~15
    let upper = (frame + ExceptionFrame.size - 1) & ~(pageSize - 1)
    if upper > frame { frame = upper - ExceptionFrame.size }
    return (frame - UserLayout.windowBase) / pageSize
  }

  func load(_ e: UInt64, _ address: UInt64) -> UInt64 {
    guard let (page, word) = access(e, address, write: false) else { return 0 }
    return memory[page]?[word] ?? 0
  }

  func store(_ e: UInt64, _ address: UInt64, _ value: UInt64) {
    guard let (page, word) = access(e, address, write: true) else { return }
    if memory[page] == nil { memory[page] = [UInt64](repeating: 0, count: 512) }
    memory[page]?[word] = value
  }

  // MARK: Exported tables

  /// The word at byte `offset` of the exported tables, from the spec state.
  func info(_ offset: Int) -> UInt64 {
    let layout = InfoLayout(bounds: bounds)
    let w = offset / 8
    if offset < layout.environmentsOffset {
      switch InfoHeader(rawValue: UInt64(w)) {
      case .magic: return InfoHeader.magicValue
      case .version: return InfoHeader.currentVersion
      case .environments: return UInt64(bounds.environments)
      case .pages: return UInt64(bounds.pages)
      case .capabilities: return UInt64(bounds.capabilities)
      case .windowSlots: return UInt64(bounds.windowSlots)
      case .slices: return UInt64(bounds.slices)
      case .maximumDepth: return UInt64(bounds.maximumDepth)
      case .maximumRun: return UInt64(bounds.maximumRun)
      case .firstPage: return spec.firstPage
      case .current: return spec.current
      case .currentSlice: return spec.currentSlice
      case .ticks: return spec.tickCount
      case .unclaimedFrames: return spec.unclaimedFrames
      case .filters: return UInt64(bounds.filters)
      case nil: return 0
      }
    }
    // Each table's words through the spec's one field map (its `…Columns`,
    // also what the digest and the kernel comparison read).
    func word<F: RawRepresentable>(
      _ columns: [(F, [UInt64])], _ i: Int, fields: Int, records: Int
    ) -> UInt64 where F.RawValue == UInt64 {
      let (index, field) = (i / fields, i % fields)
      guard index < records, let c = columns.first(where: { $0.0.rawValue == UInt64(field) })
      else { return 0 }
      return c.1[index]
    }
    if offset < layout.slicesOffset {
      return word(
        spec.environmentColumns, (offset - layout.environmentsOffset) / 8,
        fields: EnvironmentField.wordCount, records: bounds.environments)
    }
    if offset < layout.pagesOffset {
      let i = (offset - layout.slicesOffset) / 8
      return i < bounds.slices ? spec.slices[i] : 0
    }
    if offset < layout.capabilitiesOffset {
      return word(
        spec.pageColumns, (offset - layout.pagesOffset) / 8, fields: PageField.wordCount,
        records: bounds.pages)
    }
    if offset < layout.bindingsOffset {
      return word(
        spec.capabilityColumns, (offset - layout.capabilitiesOffset) / 8,
        fields: CapabilityField.wordCount, records: bounds.capabilities)
    }
    if offset >= layout.filterWordsOffset {
      let i = (offset - layout.filterWordsOffset) / 8
      return i < spec.filterWords.count ? spec.filterWords[i] : 0
    }
    if offset >= layout.filtersOffset {
      return word(
        spec.filterColumns, (offset - layout.filtersOffset) / 8, fields: FilterField.wordCount,
        records: bounds.filters)
    }
    if offset >= layout.repossessionsOffset {
      let i = (offset - layout.repossessionsOffset) / 8
      return i < spec.repossessions.count ? spec.repossessions[i] : 0
    }
    if offset >= layout.revocationsOffset {
      return word(
        spec.revocationColumns, (offset - layout.revocationsOffset) / 8,
        fields: RevocationField.wordCount, records: bounds.environments)
    }
    return word(
      spec.bindingColumns, (offset - layout.bindingsOffset) / 8, fields: BindingField.wordCount,
      records: bounds.environments * bounds.windowSlots)
  }

  func write(_ text: String) { console += text }

  // MARK: User-level thread contexts

  /// A context for a libOS thread: a coroutine that runs `body` (nil: one
  /// to save the running execution into). Switching among an
  /// environment's threads happens while it is current; the machine's own
  /// switches save whatever thread is running in the environment's
  /// coroutine.
  func addContext(_ body: (() -> Void)?) -> UInt64 {
    let c: OpaquePointer?
    if let body {
      let box = Unmanaged.passRetained(BodyBox(body))
      c = exo_coroutine_create(
        { context in
          let body = Unmanaged<BodyBox>.fromOpaque(context!).takeRetainedValue().body
          body()
          fatalError("a thread body returned")
        }, box.toOpaque(), 1 << 20)
    } else {
      c = exo_coroutine_current()
    }
    guard let c else { fatalError("no memory for a thread context") }
    threadContexts.append(c)
    return UInt64(threadContexts.count - 1)
  }

  func switchContext(from: UInt64, to: UInt64) {
    exo_coroutine_switch(threadContexts[Int(from)], threadContexts[Int(to)])
  }

  final class BodyBox {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
  }

  /// Page contents, for tests: the word `word` of physical page `page`.
  public func contents(page: UInt64, word: Int) -> UInt64 { memory[page]?[word] ?? 0 }
}
