import ExoABI
import ExoSpec

/// Generates call sequences from a seed, reading the spec's state before
/// each call to pick arguments that usually succeed and build deep states
/// (free slots, held capabilities, owned pages, bound window slots, live and
/// dying environments), with a fraction of hostile arguments mixed in
/// (stale and forged capability slots, slots and environments of others,
/// pages outside the managed range, kernel and non-canonical addresses,
/// `none`, huge values).
///
/// Every call is one the current environment can make; the `exception`
/// event is a page fault the agent makes (a load or store it cannot make),
/// unless `includeExceptions` is off. Steps are followed by memory probes
/// (``probes(after:)``) unless `probes` is off; now and then the probes
/// store a frame that the next step sends (``frameStore(after:)``). The spec's
/// reads of user memory (`frameTransmit`) see what the probes stored
/// (``ShadowMemory``). The generator never makes:
/// - `exit` of environment 0, nor any step after which environment 0 is
///   stopped or dying, nor any step that leaves no environment running
///   (`current == none`): environment 0 is the agent that drives the kernel,
///   and an idle kernel ends the machine (`protectEnvironmentZero`);
/// - a step that reads a byte of user memory the tester does not know
///   (where a frame of the kernel's may have gone).
/// A candidate that would do so is drawn again (at most 16 times, then
/// `ticks()`, which changes nothing).
public struct Generator {
  public struct Configuration: Sendable {
    public var bounds: Bounds
    public var firstPage: UInt64
    /// The fraction of calls (0...1) with hostile arguments.
    public var hostileFraction: Double
    /// Generate the `exception` event too.
    public var includeExceptions: Bool
    /// Keep environment 0 alive and something running (see the type's doc).
    public var protectEnvironmentZero: Bool
    /// Follow steps with memory probes (``Generator/probes(after:)``).
    public var probes: Bool

    public init(
      bounds: Bounds, firstPage: UInt64, hostileFraction: Double = 0.15,
      includeExceptions: Bool = true, protectEnvironmentZero: Bool = true, probes: Bool = true
    ) {
      self.probes = probes
      self.bounds = bounds
      self.firstPage = firstPage
      self.hostileFraction = hostileFraction
      self.includeExceptions = includeExceptions
      self.protectEnvironmentZero = protectEnvironmentZero
    }
  }

  /// What a generated sequence did on the spec.
  public struct Statistics: Equatable, Sendable {
    /// Successful results per transition name.
    public var successes: [String: Int] = [:]
    /// Failed results per transition name.
    public var failures: [String: Int] = [:]
    /// `capabilityRevoke` and `environmentReclaim` results that took a step (value 1).
    public var revokeSteps = 0
    public var reclaimSteps = 0
    /// Environments reclaimed to free (reclaim value 0 after steps).
    public var environmentsFreed = 0
    /// The deepest capability seen and the most bindings at once.
    public var maximumDepth = 0
    public var maximumBindings = 0
    /// Calls made by an environment other than 0.
    public var callsByOthers = 0
    /// Calls generated with hostile arguments.
    public var hostileCalls = 0
    /// How often each transition gave each outcome on the spec: `ok` or an
    /// error's name (the coverage table of `exo difftest`).
    public var outcomes: [String: [String: Int]] = [:]

    public init() {}

    public func successes(_ call: Syscall) -> Int { successes[call.name] ?? 0 }

    /// Adds `other`'s counts to these.
    public mutating func merge(_ other: Statistics) {
      for (k, v) in other.successes { successes[k, default: 0] += v }
      for (k, v) in other.failures { failures[k, default: 0] += v }
      for (t, row) in other.outcomes {
        for (o, n) in row { outcomes[t, default: [:]][o, default: 0] += n }
      }
      revokeSteps += other.revokeSteps
      reclaimSteps += other.reclaimSteps
      environmentsFreed += other.environmentsFreed
      maximumDepth = max(maximumDepth, other.maximumDepth)
      maximumBindings = max(maximumBindings, other.maximumBindings)
      callsByOthers += other.callsByOthers
      hostileCalls += other.hostileCalls
    }

    /// The coverage table: per transition (every call and kernel event the
    /// generator can make, in ABI order), how often each outcome was hit.
    /// Then a row per probe kind: what the probes showed on the spec.
    public func coverageTable(transitions: [Transition]) -> String {
      let width = transitions.map(\.name.count).max() ?? 0
      var lines: [String] = []
      for t in transitions {
        let row = outcomes[t.name] ?? [:]
        let name = t.name.padding(toLength: width, withPad: " ", startingAt: 0)
        if row.isEmpty {
          lines.append("  \(name)  (not reached)")
          continue
        }
        let ok = row["ok"].map { ["ok \($0)"] } ?? ["ok 0"]
        let errors = row.filter { $0.key != "ok" }.sorted { $0.key < $1.key }
          .map { "\($0.key) \($0.value)" }
        lines.append("  \(name)  " + (ok + errors).joined(separator: ", "))
      }
      for kind in DiffProbeKind.allCases {
        guard let row = outcomes["probe \(kind)"] else { continue }
        let name = "probe \(kind)".padding(toLength: width, withPad: " ", startingAt: 0)
        lines.append(
          "  \(name)  "
            + row.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
              separator: ", "))
      }
      return lines.joined(separator: "\n")
    }
    /// The outcomes a run should reach and did not, as `transition outcome`
    /// (e.g. `environmentStop wrongState`): for each call, `ok` and every
    /// error its checks can give (``Transition/errors()``,
    /// read off the spec); for each event, `ok` (the kernel raises an event
    /// only when its checks pass, and the agent makes only exceptions it
    /// can take).
    public func unreached(transitions: [Transition]) throws -> [String] {
      var missing: [String] = []
      for t in transitions {
        var wanted = ["ok"]
        if case .call = t {
          wanted += try t.errors().map { "\($0.name)" }
        }
        let row = outcomes[t.name] ?? [:]
        missing += wanted.filter { (row[$0] ?? 0) == 0 }.map { "\(t.name) \($0)" }
      }
      return missing
    }

    public var totalSuccesses: Int { successes.values.reduce(0, +) }
    public var totalFailures: Int { failures.values.reduce(0, +) }
  }

  public let configuration: Configuration
  var random: SplitMix64
  /// The spec's state after the steps generated so far.
  public private(set) var state: ConcreteState
  public private(set) var statistics = Statistics()
  /// What the probes will show, for the coverage table's probe rows, and
  /// the page contents the spec's memory reads see (``ShadowMemory``):
  /// ``state`` reads them.
  let memory = ShadowMemory()
  var shadow: Shadow { memory.shadow }
  /// A frame the probes of the last step stored for `frameTransmit`
  /// (``frameStore(after:)``): by `environment`, at the start of the page
  /// bound at its window slot `slot`, `length` bytes to send.
  var storedFrame: (environment: UInt64, slot: UInt64, page: UInt64, length: UInt64)?
  /// Capability slots that were emptied (stale slots for hostile calls).
  var staleSlots: [UInt64] = []
  /// Whether this sequence allocates memory until it runs out (about one
  /// in eight): then the kernel's memory pressure is reached.
  public let hog: Bool
  /// Whether this sequence starts by setting up a child whose upcall
  /// frames land in a page environment 0 can see (about one in four; see
  /// ``framedStep()``).
  public let framed: Bool
  /// The child of a framed sequence, once created.
  var framedChild: UInt64?

  public init(seed: UInt64, configuration: Configuration) {
    self.configuration = configuration
    random = SplitMix64(seed: seed)
    hog = SplitMix64.derive(seed, 1) % 8 == 0
    framed = !hog && SplitMix64.derive(seed, 2) % 4 == 0
    state = ConcreteState(
      bounds: configuration.bounds, firstPage: configuration.firstPage, memory: memory.contents)
  }

  /// A whole sequence of `length` steps from the initial state.
  public static func sequence(
    seed: UInt64, length: Int, configuration: Configuration
  ) -> (steps: [DiffStep], statistics: Statistics) {
    var generator = Generator(seed: seed, configuration: configuration)
    let steps = (0..<length).map { _ in generator.next() }
    return (steps, generator.statistics)
  }

  /// The next step, applied to ``state``.
  public mutating func next() -> DiffStep {
    var chosen = DiffStep(.call(.ticks))
    var hostile = false
    var scripted = framed ? framedStep().flatMap { acceptable($0) ? $0 : nil } : nil
    if scripted == nil, let stored = storedFrame {
      scripted = transmit(stored)
    }
    storedFrame = nil
    for _ in 0..<(scripted == nil ? 16 : 0) {
      hostile = chance(configuration.hostileFraction)
      let candidate = propose(hostile: hostile)
      if acceptable(candidate) {
        chosen = candidate
        break
      }
      hostile = false
    }
    if let scripted { chosen = scripted }
    let before = state
    let result = state.kernelStep(chosen.transition, chosen.arguments)
    record(chosen, result, before: before, hostile: hostile)
    memory.shadow.follow(from: before, to: state)
    if configuration.probes {
      chosen.probes = frameStore(after: before) ?? probes(after: before)
      for (probe, outcome) in zip(chosen.probes, memory.shadow.run(chosen.probes, in: state)) {
        statistics.outcomes["probe \(probe.kind)", default: [:]][
          outcome.coverageName, default: 0] +=
          1
      }
    }
    return chosen
  }

  // MARK: Framed sequences

  /// The next step of a framed sequence's set-up, made by environment 0,
  /// or nil once it is done (or cannot go on): a child T holding a
  /// capability for one page of environment 0's, bound in T's window
  /// (with or without write) under T's handler stack, with an upcall
  /// entry, and bound in environment 0's window too; T started. Then an
  /// upcall for T (a revocation request, a capability or slice lost)
  /// writes a frame that environment 0's probes see, where it may go and
  /// where it may not, and T checks the frame when it is entered.
  mutating func framedStep() -> DiffStep? {
    guard me == 0 else { return nil }
    let caps = state.capabilities
    guard let t = framedChild else {
      guard let e = environments(in: [.free]).first, let slot = emptySlots.first else {
        return nil
      }
      framedChild = e
      return DiffStep(
        .call(.environmentCreate), EnvironmentCreateArguments(environment: e, slot: slot).arguments)
    }
    guard
      let c = held(by: me, kind: .environment, rights: .control).first(where: {
        caps.base[Int($0)] == t
      }),
      live.contains(t)
    else { return nil }
    let w = bounds.windowSlots
    // The page: one of environment 0's root runs.
    let roots = held(by: me, kind: .memory).filter {
      caps.parent[Int($0)] == ExoABI.none && caps.rights[Int($0)] & Rights.grant.rawValue != 0
    }
    guard let m = roots.first else {
      guard let free = (0..<bounds.pages).first(where: { state.pages.owner[$0] == ExoABI.none }),
        let slot = emptySlots.first
      else { return nil }
      return DiffStep(
        .call(.pageAllocate),
        PageAllocateArguments(page: firstPage + UInt64(free), count: 1, slot: slot).arguments)
    }
    let page = caps.base[Int(m)]
    // T holds a capability for it.
    let theirs = held(by: t, kind: .memory).filter { caps.base[Int($0)] == page }
    guard let tm = theirs.first else {
      let mine = held(by: me, kind: .memory).filter {
        caps.parent[Int($0)] == m && caps.bindings[Int($0)] == 0
      }
      if let d = mine.first {
        return DiffStep(
          .call(.capabilityGrant), CapabilityGrantArguments(capability: d, target: t).arguments)
      }
      guard let child = emptySlots.first else { return nil }
      let rights = Rights([.read, .write, .execute, .grant]).rawValue
      return DiffStep(
        .call(.capabilityDerive),
        CapabilityDeriveArguments(capability: m, child: child, rights: rights, base: page, count: 1)
          .arguments)
    }
    // Bound in T's window, and in environment 0's.
    let tSlots = (0..<w).filter { state.bindings.page[Int(t) * w + $0] == page }
    guard let s = tSlots.first else {
      guard let slot = pick(emptyWindowSlots(of: t)) else { return nil }
      let rights = chance(0.5) ? Rights.read : [.read, .write]
      return DiffStep(
        .call(.pageMap),
        PageMapArguments(
          target: t, envCap: c, memoryCap: tm, page: page, slot: slot, rights: rights.rawValue
        ).arguments)
    }
    if !(0..<w).contains(where: { state.bindings.page[$0] == page }) {
      guard let slot = pick(emptyWindowSlots(of: me)) else { return nil }
      return DiffStep(
        .call(.pageMap),
        PageMapArguments(
          target: me, envCap: 0, memoryCap: m, page: page, slot: slot, rights: Rights.read.rawValue
        ).arguments)
    }
    // T's handler stack on top of that page, with an upcall entry.
    let top = UserLayout.windowBase + (UInt64(s) + 1) * pageSize
    let entries = state.environments
    if entries.handlerStack[Int(t)] != top || entries.upcall[Int(t)] == 0 {
      let e = DiffProtocol.callEntry
      return DiffStep(
        .call(.environmentSetEntries),
        EnvironmentSetEntriesArguments(
          target: t, envCap: c, handler: e, handlerStack: top, upcall: e, callEntry: e
        ).arguments)
    }
    if entries.state[Int(t)] == EnvironmentState.stopped.rawValue {
      return DiffStep(
        .call(.environmentStart),
        EnvironmentStartArguments(
          target: t, envCap: c, rip: UserLayout.imageBase + 0x40, rsp: UserLayout.stackTop
        ).arguments)
    }
    return nil
  }

  // MARK: Probes

  /// Whether `e` has window slot `s` bound.
  func bound(_ e: UInt64, _ s: Int) -> Bool {
    state.bindings.page[bindingIndex(e, s)] != ExoABI.none
  }

  /// The window slot of the page just below `e`'s handler stack.
  func frameSlot(of e: UInt64) -> Int? {
    let top = state.environments.handlerStack[Int(e)]
    guard top > UserLayout.windowBase else { return nil }
    let slot = Int((top - 1 - UserLayout.windowBase) >> 12)
    return slot < bounds.windowSlots ? slot : nil
  }

  /// `e`'s bound slots whose page is under another environment's handler
  /// stack (where that one's frames go, or must not go).
  func sharedFrameSlots(of e: UInt64) -> [Int] {
    let w = bounds.windowSlots
    var pages = Set<UInt64>()
    for t in 0..<UInt64(bounds.environments) where t != e {
      if let s = frameSlot(of: t) { pages.insert(state.bindings.page[Int(t) * w + s]) }
    }
    pages.remove(ExoABI.none)
    guard !pages.isEmpty else { return [] }
    return (0..<w).filter { pages.contains(state.bindings.page[Int(e) * w + $0]) }
  }

  /// The window slots of `e` whose binding changed since `before`.
  func changedSlots(of e: UInt64, since before: ConcreteState) -> [Int] {
    let w = bounds.windowSlots
    return (0..<w).filter { s in
      let b = Int(e) * w + s
      return before.bindings.page[b] != state.bindings.page[b]
        || before.bindings.rights[b] != state.bindings.rights[b]
    }
  }

  /// Memory probes by the environment that runs after the step from
  /// `before`: most often none; after a step that changed its window, at
  /// the slots that changed (a stale translation shows); else at bound
  /// slots, now and then at an empty slot or just outside the window. Both
  /// ends of a page, and a few fixed offsets, so that stores and loads of
  /// different steps meet.
  mutating func probes(after before: ConcreteState) -> [DiffProbe] {
    let e = state.current
    guard e < UInt64(bounds.environments) else { return [] }
    let w = bounds.windowSlots
    let changed = changedSlots(of: e, since: before)
    guard !changed.isEmpty || chance(0.3) else { return [] }
    let bound = boundSlots(of: e).map(Int.init)
    var out: [DiffProbe] = []
    for _ in 0..<(1 + below(4)) {
      var slot: Int
      let roll = below(20)
      if roll < 8, let s = pick(changed) {
        slot = s
      } else if roll < 11, let s = frameSlot(of: e), bound.contains(s) {
        slot = s  // where this environment's frames go
      } else if roll < 13, let s = pick(sharedFrameSlots(of: e)) {
        slot = s  // where another environment's frames go
      } else if roll < 17, let s = pick(bound) {
        slot = s
      } else if roll < 19 {
        slot = below(w)
      } else {
        slot = chance(0.5) ? w : -1  // one past either end of the window
      }
      // Fixed offsets, any word, and the words a frame below a page-aligned
      // handler stack would take.
      let frameWord = 4096 - ExceptionFrame.size + UInt64(below(Int(ExceptionFrame.size / 8))) * 8
      let offsets: [UInt64] = [0, 8, 2048, 4088, UInt64(below(512)) * 8, frameWord, frameWord]
      let offset = pick(offsets, or: 0)
      let address = UInt64(bitPattern: Int64(slot) * 4096) &+ UserLayout.windowBase &+ offset
      let kind = below(10)
      if kind < 5 {
        out.append(DiffProbe(.read, address))
      } else if kind < 7 {
        out.append(DiffProbe(.execute, address))
      } else if memory.shadow.mayHoldFrame(address, of: e, in: state) {
        // A store there could overwrite a frame not yet taken, which its
        // environment checks when it is entered: load instead.
        out.append(DiffProbe(.read, address))
      } else {
        out.append(DiffProbe(.write, address, value: random.next() | 1))
      }
    }
    return out
  }

  // MARK: Choosing

  var bounds: Bounds { configuration.bounds }
  var firstPage: UInt64 { configuration.firstPage }
  var me: UInt64 { state.current }

  mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(random.next() % UInt64(n)) }
  mutating func chance(_ p: Double) -> Bool {
    Double(random.next() >> 11) / Double(1 << 53) < p
  }
  mutating func pick<T>(_ values: [T]) -> T? { values.isEmpty ? nil : values[below(values.count)] }
  mutating func pick(_ values: [UInt64], or fallback: UInt64) -> UInt64 {
    pick(values) ?? fallback
  }

  func acceptable(_ step: DiffStep) -> Bool {
    var after = state
    return Self.admits(step, in: &after, configuration, memory: memory)
  }

  /// Runs `step` on `state` (which reads user memory from `memory`) and
  /// tells whether the generator could have made it there: it reads no
  /// byte of user memory the tester does not know, and (see the type's
  /// doc) environment 0 stays alive and something keeps running, when
  /// `protectEnvironmentZero`.
  static func admits(
    _ step: DiffStep, in state: inout ConcreteState, _ configuration: Configuration,
    memory: ShadowMemory
  )
    -> Bool
  {
    let me = state.current
    let before = state
    let (_, known) = memory.readingKnownBytes {
      state.kernelStep(step.transition, step.arguments)
    }
    guard known else { return false }
    guard configuration.protectEnvironmentZero else { return true }
    if step.transition == .call(.exit) && me == 0 { return false }
    if step.transition == .event(.exception) {
      guard configuration.includeExceptions, makeable(exception: step.arguments, in: before)
      else { return false }
    }
    if state.current == ExoABI.none { return false }
    let zero = state.environments.state[0]
    return zero != EnvironmentState.stopped.rawValue && zero != EnvironmentState.dying.rawValue
  }

  /// Whether the agent can make exception `a` (vector, error, address,
  /// frame slot) in `state`: a page fault of a user load or store at a
  /// window address that faults (an empty slot, or a store at a slot bound
  /// without write), with the frame slot the kernel computes.
  static func makeable(exception a: [UInt64], in state: ConcreteState) -> Bool {
    let me = state.current
    let w = state.bounds.windowSlots
    guard a.count == 4, a[0] == 14, [4, 6, 7].contains(a[1]), a[2] % 8 == 0,
      me < UInt64(state.bounds.environments),
      let slot = UserLayout.windowSlot(of: VirtualAddress(rawValue: a[2]), slots: w)
    else { return false }
    let b = Int(me) * w + slot
    let bound = state.bindings.page[b] != ExoABI.none
    let writable = state.bindings.rights[b] & Rights.write.rawValue != 0
    guard a[1] == 7 ? bound && !writable : !bound else { return false }
    let frame = ExceptionFrame.placement(below: state.environments.handlerStack[Int(me)])
    let frameSlot =
      UserLayout.windowSlot(of: VirtualAddress(rawValue: frame), slots: w).map(UInt64.init)
      ?? ExoABI.none
    return a[3] == frameSlot
  }

  /// Whether every step of `steps`, from the initial state, is one the
  /// generator could make: the shrinker keeps only such candidates.
  public static func admits(_ steps: [DiffStep], _ configuration: Configuration) -> Bool {
    let memory = ShadowMemory()
    var state = ConcreteState(
      bounds: configuration.bounds, firstPage: configuration.firstPage, memory: memory.contents)
    // Page contents are read only by frameTransmit: followed up to the last.
    let last = steps.lastIndex { $0.transition == .call(.frameTransmit) } ?? -1
    for (i, step) in steps.enumerated() {
      let before = state
      guard admits(step, in: &state, configuration, memory: memory) else { return false }
      if i < last {
        memory.shadow.follow(from: before, to: state)
        _ = memory.shadow.run(step.probes, in: state)
      }
    }
    return true
  }

  /// Every call and event the generator makes, in ABI order.
  public static let transitions: [Transition] = Transition.all.filter { t in
    // The kernel's are allocationPressure and frameInjected.
    t != .event(.revocationPressure) && t != .event(.frameArrival)
  }

  /// Weighted choice of the next transition, then its arguments.
  mutating func propose(hostile: Bool) -> DiffStep {
    guard me < UInt64(bounds.environments) else { return DiffStep(.event(.tick)) }
    let dying = environments(in: [.dying])
    let hasCaller = state.environments.caller[Int(me)] != ExoABI.none
    let transfer = transferWeight
    var table: [(Transition, Int)] = [
      (.call(.pageAllocate), hog ? 120 : 8), (.call(.pageMap), 10), (.call(.capabilityDerive), 10),
      (.call(.pageUnmap), 4), (.call(.pageProtect), 4), (.call(.capabilityGrant), hog ? 30 : 3),
      (.call(.capabilityDelete), 4), (.call(.capabilityRevoke), 6),
      (.call(.environmentReclaim), dying.isEmpty ? 1 : 12),
      (.call(.environmentCreate), 4), (.call(.environmentSetEntries), 3),
      (.call(.environmentStart), 3), (.call(.environmentStop), 2),
      (.call(.environmentDestroy), 3), (.call(.sliceAllocate), 3), (.call(.sliceFree), 2),
      (.call(.yield), 2), (.call(.yieldTo), 2), (.call(.call), transfer), (.call(.send), transfer),
      (.call(.reply), hasCaller ? 8 : 1), (.event(.tick), 3), (.call(.consoleWrite), 2),
      (.call(.consoleRead), 2),
      (.call(.ticks), 1), (.call(.exit), me == 0 ? 0 : 1),
      (.call(.revocationRequest), 4), (.call(.revocationReturn), pending(me) ? 10 : 1),
      (.call(.filterTest), 6), (.call(.filterInstall), 4), (.call(.filterRelease), 1),
      (.call(.filterRemove), 2), (.event(.frameInjected), 4),
      (.call(.frameTransmit), ownFilters(.active).isEmpty ? 1 : 3),
    ]
    if configuration.includeExceptions { table.append((.event(.exception), 4)) }
    let total = table.reduce(0) { $0 + $1.1 }
    var roll = below(total)
    var transition = Transition.call(.ticks)
    for (t, weight) in table {
      if roll < weight {
        transition = t
        break
      }
      roll -= weight
    }
    var arguments =
      plausible(transition)
      ?? (0..<transition.parameters.count).map { _ in
        anyWord()
      }
    // Now and then a capability for another environment that lacks
    // `control` (authority refuses it: insufficientRights).
    if let t = transition.parameters.firstIndex(of: "target"),
      let c = transition.parameters.firstIndex(of: "envCap"), chance(0.04),
      let (target, cap) = pick(weakAuthority())
    {
      arguments[t] = target
      arguments[c] = cap
    }
    // Events are the kernel's (an exception is what the agent's access
    // causes): only calls get hostile arguments.
    if hostile, !arguments.isEmpty, case .call = transition {
      let positions = chance(0.3) ? 2 : 1
      for _ in 0..<positions {
        let i = below(arguments.count)
        arguments[i] = hostileValue(transition, parameter: transition.parameters[i])
      }
    }
    return DiffStep(transition, arguments)
  }

  // MARK: Reading the state

  func environments(in states: [EnvironmentState]) -> [UInt64] {
    let raw = states.map(\.rawValue)
    return (0..<bounds.environments).filter { raw.contains(state.environments.state[$0]) }
      .map(UInt64.init)
  }
  var live: [UInt64] { environments(in: [.runnable, .stopped, .waiting]) }

  /// Whether a revocation request for `e` is pending.
  func pending(_ e: UInt64) -> Bool {
    e < UInt64(bounds.environments)
      && state.revocations.phase[Int(e)] != RevocationPhase.none.rawValue
  }

  func capabilities(where predicate: (Int) -> Bool) -> [UInt64] {
    (0..<bounds.capabilities).filter(predicate).map(UInt64.init)
  }
  func held(by e: UInt64, kind: CapabilityKind? = nil, rights: Rights = []) -> [UInt64] {
    let c = state.capabilities
    return capabilities { i in
      c.kind[i] != CapabilityKind.empty.rawValue && c.owner[i] == e
        && (kind.map { c.kind[i] == $0.rawValue } ?? true)
        && c.rights[i] & rights.rawValue == rights.rawValue
    }
  }
  var emptySlots: [UInt64] {
    capabilities { state.capabilities.kind[$0] == CapabilityKind.empty.rawValue }
  }

  /// Environments the caller has authority over, each with the capability
  /// to present (any word for itself).
  mutating func controllable(_ right: Rights = .control) -> [(UInt64, UInt64)] {
    var out: [(UInt64, UInt64)] = [(me, UInt64(below(4)))]
    for c in held(by: me, kind: .environment, rights: right) {
      out.append((state.capabilities.base[Int(c)], c))
    }
    return out
  }
  /// A live environment the caller controls; now and then a dying one it
  /// still holds a capability for (refused: `wrongState`).
  mutating func liveControllable() -> (UInt64, UInt64)? {
    let l = live
    if chance(0.15), let t = dyingControllable() { return t }
    return pick(controllable().filter { l.contains($0.0) })
  }
  /// The weight of `call` and of `send`: higher while the caller holds a
  /// capability with `call` for itself or for a runnable environment
  /// already serving a caller (rare refusals), or for one that can take a
  /// transfer (successful transfers are otherwise rare).
  var transferWeight: Int {
    let caps = state.capabilities
    let e = state.environments
    var weight = 2
    let environment = CapabilityKind.environment.rawValue
    let call = Rights.call.rawValue
    for c in 0..<bounds.capabilities
    where caps.kind[c] == environment && caps.owner[c] == me && caps.rights[c] & call != 0 {
      let t = Int(caps.base[c])
      guard t != Int(me) else { return 6 }
      guard e.state[t] == EnvironmentState.runnable.rawValue else { continue }
      if e.caller[t] != ExoABI.none { return 6 }
      if e.callEntry[t] != 0 && e.handlerStack[t] != 0 { weight = 5 }
    }
    return weight
  }

  /// Other environments the caller holds a capability for that lacks
  /// `control`, each with that capability.
  func weakAuthority() -> [(UInt64, UInt64)] {
    held(by: me, kind: .environment).filter {
      state.capabilities.rights[Int($0)] & Rights.control.rawValue == 0
        && state.capabilities.base[Int($0)] != me
    }.map { (state.capabilities.base[Int($0)], $0) }
  }
  mutating func dyingControllable() -> (UInt64, UInt64)? {
    let dying = environments(in: [.dying])
    return pick(controllable().filter { dying.contains($0.0) })
  }

  func bindingIndex(_ e: UInt64, _ s: Int) -> Int { Int(e) * bounds.windowSlots + s }
  func boundSlots(of e: UInt64) -> [UInt64] {
    (0..<bounds.windowSlots).filter { state.bindings.page[bindingIndex(e, $0)] != ExoABI.none }
      .map(UInt64.init)
  }
  func emptyWindowSlots(of e: UInt64) -> [UInt64] {
    (0..<bounds.windowSlots).filter { state.bindings.page[bindingIndex(e, $0)] == ExoABI.none }
      .map(UInt64.init)
  }

  /// The rights to ask a binding for: mostly within the capability's
  /// `rights`, now and then any memory rights (refused with
  /// `insufficientRights` where the capability lacks one).
  mutating func rightsToAsk(_ rights: UInt64) -> UInt64 {
    chance(0.2) ? Rights([.read, .write, .execute]).rawValue : rights
  }

  /// A random non-empty subset of `rights` that includes read (binding rights).
  mutating func bindingRights(within rights: UInt64) -> UInt64 {
    let memory = rights & (Rights.read.rawValue | Rights.write.rawValue | Rights.execute.rawValue)
    return (memory & random.next()) | Rights.read.rawValue
  }
  mutating func subset(of rights: UInt64) -> UInt64 {
    chance(0.5) ? rights : rights & random.next()
  }
  mutating func userAddress() -> UInt64 {
    pick(
      [
        UserLayout.imageBase, UserLayout.imageBase + 0x1000,
        UserLayout.windowBase + UInt64(below(bounds.windowSlots)) * pageSize,
        UserLayout.stackTop - 16,
      ], or: UserLayout.imageBase)
  }
  /// An entry point (handler, upcall, call entry): the agent's call entry
  /// (`DiffProtocol.callEntry`, where every copy of the kernel target's
  /// agent can be entered), or now and then none.
  mutating func entryAddress() -> UInt64 { chance(0.9) ? DiffProtocol.callEntry : 0 }
  mutating func smallWord() -> UInt64 { UInt64(below(8)) }
  mutating func anyWord() -> UInt64 {
    chance(0.7) ? UInt64(below(max(bounds.capabilities, bounds.windowSlots) + 2)) : random.next()
  }

  // MARK: Plausible arguments

  /// Arguments that pass every check given the state, where such exist.
  mutating func plausible(_ transition: Transition) -> [UInt64]? {
    let caps = state.capabilities
    switch transition {
    case .event(.tick): return []
    case .event(.revocationDeadline), .event(.revocationAbort), .event(.revocationPressure),
      .event(.allocationPressure), .event(.frameArrival):
      return nil  // not generated yet
    case .event(.frameInjected): return plausibleFrame()
    case .event(.exception):
      // A page fault the agent can make: a load or store at an empty
      // window slot, or a store at a slot bound without write. The error
      // code is the CPU's (user 4, write 2, present 1); the frame's slot
      // is where the kernel would put it (docs/ABI.md "exception").
      let readOnly = boundSlots(of: me).filter {
        state.bindings.rights[bindingIndex(me, Int($0))] & Rights.write.rawValue == 0
      }
      var error: UInt64 = 4
      let slot: UInt64
      if chance(0.4), let s = pick(readOnly) {
        slot = s
        error = 7
      } else {
        guard let s = pick(emptyWindowSlots(of: me)) else { return nil }
        slot = s
        if chance(0.5) { error = 6 }
      }
      let address = UserLayout.windowBase + slot * pageSize + UInt64(below(512)) * 8
      let top = state.environments.handlerStack[Int(me)]
      let frame = ExceptionFrame.placement(below: top)
      let frameSlot =
        UserLayout.windowSlot(of: VirtualAddress(rawValue: frame), slots: bounds.windowSlots)
        .map(UInt64.init) ?? ExoABI.none
      return [14, error, address, frameSlot]
    case .call(let call):
      switch call {
      case .ticks, .yield: return []
      case .revocationRequest:
        // A live environment the caller controls, other than itself, that
        // owns pages; a short deadline (in ticks) now and then, so that
        // aborts happen.
        let owners = Set(state.pages.owner.filter { $0 != ExoABI.none })
        let l = live
        // Now and then a dying target (refused: wrongState).
        if chance(0.08), let (t, c) = dyingControllable() {
          return RevocationRequestArguments(target: t, envCap: c, count: 1, ticks: 1).arguments
        }
        let options = controllable().filter { t, _ in t != me && l.contains(t) }
        // Half the time a target that can take the upcall into a bound
        // slot (so that its frame lands in a page).
        let framed = options.filter { t, _ in
          state.environments.upcall[Int(t)] != 0 && frameSlot(of: t).map { bound(t, $0) } == true
        }
        guard
          let (t, c) = (chance(0.5) ? pick(framed) : nil)
            ?? pick(options.filter { owners.contains($0.0) }) ?? pick(options)
        else {
          return nil
        }
        let owned = state.pages.owner.lazy.filter { $0 == t }.count
        let count = UInt64(1 + below(max(1, owned + 2)))
        let ticks = UInt64(chance(0.6) ? 1 + below(3) : 1 + below(20))
        return RevocationRequestArguments(target: t, envCap: c, count: count, ticks: ticks)
          .arguments
      case .revocationReturn:
        // A root memory capability of the caller's (the run it gives back).
        let roots = held(by: me, kind: .memory).filter { caps.parent[Int($0)] == ExoABI.none }
        guard let c = pick(roots) ?? pick(held(by: me)) else { return nil }
        return RevocationReturnArguments(capability: c).arguments
      case .consoleRead:
        // Into a slot bound with write, or the initial stack (no input is
        // waiting: the value is 0 once the checks pass).
        let writable = boundSlots(of: me).filter {
          state.bindings.rights[bindingIndex(me, Int($0))] & Rights.write.rawValue != 0
        }
        let base =
          pick(writable).map { UserLayout.windowBase + $0 * pageSize }
          ?? (UserLayout.stackTop - 4096 * UInt64(1 + below(4)))
        return ConsoleReadArguments(
          address: base + UInt64(below(64)), length: UInt64(below(64))
        ).arguments
      case .exit: return ExitArguments(status: smallWord()).arguments
      case .consoleWrite:
        let readable = boundSlots(of: me).filter {
          state.bindings.rights[bindingIndex(me, Int($0))] & Rights.read.rawValue != 0
        }
        let base =
          pick(readable).map { UserLayout.windowBase + $0 * pageSize } ?? UserLayout.imageBase
        let write = ConsoleWriteArguments(
          address: base + UInt64(below(64)), length: UInt64(below(64)))
        return write.arguments
      case .environmentCreate:
        guard let e = pick(environments(in: [.free])), let slot = pick(emptySlots) else {
          return nil
        }
        return EnvironmentCreateArguments(environment: e, slot: slot).arguments
      case .environmentSetEntries:
        // Half the time the caller itself while it cannot take its own
        // exceptions (no handler, or no writable page under its stack).
        let framesReach = frameSlot(of: me).map {
          state.bindings.rights[bindingIndex(me, $0)] & Rights.write.rawValue != 0
            && bound(me, $0)
        }
        let selfFirst =
          state.environments.handler[Int(me)] == 0 || framesReach != true
        guard
          let (t, c) = (selfFirst && chance(0.5) ? (me, UInt64(below(4))) : nil)
            ?? liveControllable()
        else { return nil }
        // Mostly above a slot the target has bound, so that frames land in
        // a page: half the time one bound with write (exceptions are
        // delivered), else any (a frame must not go where it may not).
        let writable = boundSlots(of: t).filter {
          state.bindings.rights[bindingIndex(t, Int($0))] & Rights.write.rawValue != 0
        }
        let roll = below(10)
        let slot =
          (roll < 5 ? pick(writable) : nil) ?? (roll < 8 ? pick(boundSlots(of: t)) : nil)
          ?? UInt64(below(bounds.windowSlots))
        let stack = UserLayout.windowBase + (slot + 1) * pageSize
        return EnvironmentSetEntriesArguments(
          target: t, envCap: c, handler: entryAddress(), handlerStack: stack,
          upcall: chance(0.5) ? 0 : entryAddress(), callEntry: entryAddress()
        ).arguments
      case .environmentStart:
        // Now and then one that is not stopped (refused: wrongState).
        let stopped = environments(in: [.stopped])
        let wanted = chance(0.1) ? environments(in: [.runnable, .waiting, .dying]) : stopped
        guard let (t, c) = pick(controllable().filter { wanted.contains($0.0) }) else {
          return nil
        }
        return EnvironmentStartArguments(
          target: t, envCap: c, rip: UserLayout.imageBase + 0x40, rsp: UserLayout.stackTop
        ).arguments
      case .environmentStop:
        // Now and then one that is not runnable (refused: wrongState).
        let runnable = environments(in: [.runnable])
        let wanted = chance(0.2) ? environments(in: [.stopped, .waiting, .dying]) : runnable
        guard let (t, c) = pick(controllable().filter { wanted.contains($0.0) }) else {
          return nil
        }
        return EnvironmentStopArguments(target: t, envCap: c).arguments
      case .environmentDestroy:
        // Now and then one already dying (refused: wrongState).
        if chance(0.15), let (t, c) = dyingControllable() {
          return EnvironmentDestroyArguments(target: t, envCap: c).arguments
        }
        guard let (t, c) = pick(controllable().filter { $0.0 != 0 && live.contains($0.0) })
        else { return nil }
        return EnvironmentDestroyArguments(target: t, envCap: c).arguments
      case .environmentReclaim:
        guard let t = pick(environments(in: [.dying])) else { return nil }
        return EnvironmentReclaimArguments(target: t).arguments
      case .pageAllocate:
        guard let slot = pick(emptySlots) else { return nil }
        if chance(0.08) {
          // A run that ends at the table's last page, or one past it.
          let count = 2 + below(bounds.maximumRun - 1)
          let start = bounds.pages - count + below(2)
          return PageAllocateArguments(
            page: firstPage + UInt64(start), count: UInt64(count), slot: slot
          ).arguments
        }
        let free = (0..<bounds.pages).filter { state.pages.owner[$0] == ExoABI.none }
        if hog && free.count < bounds.maximumRun {
          // Memory is short: a whole run over pages another environment
          // owns (refused, and the kernel asks that owner for them).
          let others = (0..<bounds.pages).filter {
            let o = state.pages.owner[$0]
            return o != ExoABI.none && o != me
          }
          if let start = pick(others) {
            let s = min(start, bounds.pages - bounds.maximumRun)
            return PageAllocateArguments(
              page: firstPage + UInt64(s), count: UInt64(bounds.maximumRun), slot: slot
            ).arguments
          }
        }
        // Filling memory: whole runs from the lowest free page.
        guard let start = hog ? free.first : pick(free) else { return nil }
        var count = 1
        let wanted = hog ? bounds.maximumRun : 1 + below(bounds.maximumRun)
        while count < wanted, start + count < bounds.pages,
          state.pages.owner[start + count] == ExoABI.none
        {
          count += 1
        }
        let run = PageAllocateArguments(
          page: firstPage + UInt64(start), count: UInt64(count), slot: slot)
        return run.arguments
      case .pageMap:
        // A live target with an empty window slot and a memory capability it
        // holds with read.
        let l = live
        // Now and then a dying target (refused: wrongState).
        if chance(0.03), let (t, c) = dyingControllable(),
          let m = pick(held(by: t, kind: .memory)), let s = pick(emptyWindowSlots(of: t))
        {
          return PageMapArguments(
            target: t, envCap: c, memoryCap: m, page: caps.base[Int(m)], slot: s,
            rights: Rights.read.rawValue
          ).arguments
        }
        let options = controllable().filter { t, _ in
          l.contains(t) && !held(by: t, kind: .memory, rights: .read).isEmpty
            && !emptyWindowSlots(of: t).isEmpty
        }
        guard let (t, c) = pick(options), let m = pick(held(by: t, kind: .memory, rights: .read)),
          let s = pick(emptyWindowSlots(of: t))
        else { return nil }
        let page = caps.base[Int(m)] + UInt64(below(Int(caps.count[Int(m)])))
        return PageMapArguments(
          target: t, envCap: c, memoryCap: m, page: page, slot: s,
          rights: bindingRights(within: rightsToAsk(caps.rights[Int(m)]))
        ).arguments
      case .pageUnmap, .pageProtect:
        let l = live
        if chance(0.1), let (t, c) = dyingControllable(), let s = pick(boundSlots(of: t)) {
          if call == .pageUnmap {
            return PageUnmapArguments(target: t, envCap: c, slot: s).arguments
          }
          return PageProtectArguments(target: t, envCap: c, slot: s, rights: 1).arguments
        }
        let options = controllable().filter { l.contains($0.0) && !boundSlots(of: $0.0).isEmpty }
        guard let (t, c) = pick(options), let s = pick(boundSlots(of: t)) else { return nil }
        if call == .pageUnmap { return PageUnmapArguments(target: t, envCap: c, slot: s).arguments }
        let m = state.bindings.capability[bindingIndex(t, Int(s))]
        return PageProtectArguments(
          target: t, envCap: c, slot: s,
          rights: bindingRights(within: rightsToAsk(caps.rights[Int(m)]))
        ).arguments
      case .capabilityDerive:
        // Now and then a parent at the maximum depth (refused: too deep).
        let granting = held(by: me, rights: .grant)
        let shallow = granting.filter { caps.depth[Int($0)] < UInt64(bounds.maximumDepth) }
        let parents = chance(0.1) ? granting : shallow
        // Half the time the deepest parent, to reach the maximum depth.
        let deepest = parents.max { caps.depth[Int($0)] < caps.depth[Int($1)] }
        guard let c = chance(0.5) ? deepest : pick(parents), let child = pick(emptySlots)
        else { return nil }
        let i = Int(c)
        let rights = subset(of: caps.rights[i])
        if caps.kind[i] == CapabilityKind.environment.rawValue {
          return CapabilityDeriveArguments(
            capability: c, child: child, rights: rights, base: caps.base[i], count: 1
          ).arguments
        }
        let offset = UInt64(below(Int(caps.count[i])))
        let count = 1 + UInt64(below(Int(caps.count[i] - offset)))
        return CapabilityDeriveArguments(
          capability: c, child: child, rights: rights, base: caps.base[i] + offset, count: count
        ).arguments
      case .capabilityGrant:
        let grantable = held(by: me, rights: .grant).filter { caps.bindings[Int($0)] == 0 }
        // Short of memory, runs of pages go to other environments (who are
        // then asked for them).
        let runs = grantable.filter {
          caps.kind[Int($0)] == CapabilityKind.memory.rawValue
            && caps.parent[Int($0)] == ExoABI.none
        }
        // Now and then a capability for an environment given to that
        // environment (whose `call` through it is refused: invalidArgument).
        let l = live
        let itself = grantable.filter {
          caps.kind[Int($0)] == CapabilityKind.environment.rawValue
            && caps.base[Int($0)] != me && l.contains(caps.base[Int($0)])
        }
        if chance(0.2), let c = pick(itself) {
          return CapabilityGrantArguments(capability: c, target: caps.base[Int(c)]).arguments
        }
        guard let c = (hog ? pick(runs) : nil) ?? pick(grantable) else { return nil }
        let others = live.filter { $0 != me }
        return CapabilityGrantArguments(capability: c, target: pick(others) ?? me).arguments
      case .capabilityDelete:
        let leaves = held(by: me).filter {
          caps.children[Int($0)] == 0 && caps.bindings[Int($0)] == 0
        }
        guard let c = pick(leaves) ?? pick(held(by: me)) else { return nil }
        return CapabilityDeleteArguments(capability: c).arguments
      case .capabilityRevoke:
        let parents = held(by: me).filter { caps.children[Int($0)] > 0 }
        guard let c = pick(parents) ?? pick(held(by: me)) else { return nil }
        return CapabilityRevokeArguments(capability: c).arguments
      case .sliceAllocate:
        let free = (0..<bounds.slices).filter { state.slices[$0] == ExoABI.none }
        guard let p = pick(free), let (t, c) = liveControllable() else { return nil }
        return SliceAllocateArguments(position: UInt64(p), target: t, envCap: c).arguments
      case .sliceFree:
        let mine = (0..<bounds.slices).filter {
          let owner = state.slices[$0]
          return owner == me
            || (owner < UInt64(bounds.environments)
              && state.environments.parent[Int(owner)] == me)
        }
        // Now and then a slice of someone the caller has no say over
        // (refused: notPermitted).
        if chance(0.15),
          let p = pick(
            (0..<bounds.slices).filter {
              state.slices[$0] != ExoABI.none && !mine.contains($0) && $0 != 0
            })
        {
          return SliceFreeArguments(position: UInt64(p)).arguments
        }
        // Keep slice 0 (environment 0's turn) most of the time.
        guard let p = pick(mine.filter { $0 != 0 || chance(0.1) }) else { return nil }
        return SliceFreeArguments(position: UInt64(p)).arguments
      case .yieldTo:
        guard let t = pick(environments(in: [.runnable])) else { return nil }
        return YieldToArguments(target: t).arguments
      case .call, .send:
        let targets = held(by: me, kind: .environment, rights: .call).filter { c in
          let t = Int(caps.base[Int(c)])
          return t != Int(me) && state.environments.state[t] == EnvironmentState.runnable.rawValue
            && state.environments.callEntry[t] != 0 && state.environments.handlerStack[t] != 0
        }
        let free = targets.filter {
          state.environments.caller[Int(caps.base[Int($0)])] == ExoABI.none
        }
        // Now and then a callee that is already serving one (refused: busy),
        // a capability without `call` (insufficientRights) or one for the
        // caller itself (invalidArgument).
        let busy = targets.filter { !free.contains($0) }
        let environmentCaps = held(by: me, kind: .environment)
        let withoutCall = environmentCaps.filter {
          caps.rights[Int($0)] & Rights.call.rawValue == 0
        }
        let toItself = environmentCaps.filter {
          caps.rights[Int($0)] & Rights.call.rawValue != 0 && caps.base[Int($0)] == me
        }
        // And one for a runnable environment with no call entry (noEntry).
        let noEntry = environmentCaps.filter {
          let t = Int(caps.base[Int($0)])
          return caps.rights[Int($0)] & Rights.call.rawValue != 0 && t != Int(me)
            && state.environments.state[t] == EnvironmentState.runnable.rawValue
            && (state.environments.callEntry[t] == 0 || state.environments.handlerStack[t] == 0)
        }
        let roll = below(20)
        guard
          let c = (roll < 6 ? pick(busy) : nil) ?? (roll == 6 ? pick(withoutCall) : nil)
            ?? (roll >= 7 && roll < 10 ? pick(toItself) : nil)
            ?? (roll == 10 ? pick(noEntry) : nil) ?? pick(free)
        else { return nil }
        let message = Message(smallWord(), smallWord(), smallWord(), smallWord())
        if call == .send { return SendArguments(capability: c, message: message).arguments }
        return CallArguments(capability: c, message: message).arguments
      case .reply:
        let message = Message(smallWord(), smallWord(), smallWord(), smallWord())
        return ReplyArguments(message: message).arguments
      case .filterTest, .filterInstall, .filterRelease, .filterRemove, .frameTransmit:
        return plausibleFilterArguments(call)
      }
    }
  }

  // MARK: Hostile arguments

  /// A value meant to be refused, by the kind of the parameter.
  mutating func hostileValue(_ transition: Transition, parameter: String) -> UInt64 {
    let e = UInt64(bounds.environments)
    let c = UInt64(bounds.capabilities)
    let w = UInt64(bounds.windowSlots)
    let huge = random.next() | (1 << 63)
    let kernelAddresses: [UInt64] = [
      0, 0x1000, 0x10_0000, 0xFFFF_8000_0000_0000, 0xFFFF_FFFF_8000_0000,
      0x0000_8000_0000_0000,  // non-canonical
      0x7FFF_FFFF_FFFF_F000,
      UserLayout.start - 1, UserLayout.end, UserLayout.infoBase, UserLayout.windowBase + 1,
      ExoABI.none,
    ]
    switch parameter {
    case "target", "environment":
      // Out of range, `none`, or an environment the caller has no authority over.
      let mine = controllable().map(\.0)
      let others = (0..<e).filter { t in t != me && !mine.contains(t) }
      return pick(
        [e, ExoABI.none, huge, pick(others, or: e), pick(environments(in: [.free]), or: e)], or: e)
    case "envCap", "memoryCap", "capability", "child":
      let forged = capabilities {
        state.capabilities.kind[$0] != CapabilityKind.empty.rawValue
          && state.capabilities.owner[$0] != me
      }
      let wrongKind = held(by: me, kind: parameter == "envCap" ? .memory : .environment)
      return pick(
        [
          c, ExoABI.none, huge, pick(staleSlots, or: c), pick(forged, or: c),
          pick(wrongKind, or: c), pick(emptySlots, or: c),
          pick(held(by: me), or: c),  // a slot in use, for `child`
        ], or: c)
    case "slot":
      if transition == .call(.environmentCreate) || transition == .call(.pageAllocate) {
        return pick([c, ExoABI.none, huge, pick(held(by: me), or: c)], or: c)
      }
      // A window slot: out of range, or bound (map) / empty (unmap, protect).
      let other = pick(boundSlots(of: me), or: w)
      return pick([w, ExoABI.none, huge, other, UInt64(below(Int(w)))], or: w)
    case "page", "base":
      let owned = (0..<bounds.pages).filter {
        state.pages.owner[$0] != ExoABI.none && state.pages.owner[$0] != me
      }.map(UInt64.init)
      return pick(
        [
          0, firstPage &- 1, firstPage + UInt64(bounds.pages), huge, ExoABI.none, 0x100,
          firstPage + UInt64(bounds.pages - 1), pick(owned, or: 0) + firstPage,
        ], or: 0)
    case "count":
      return pick(
        [0, UInt64(bounds.maximumRun + 1), ExoABI.none, huge, UInt64(bounds.pages + 1)], or: 0)
    case "rights":
      // Undefined bits, rights a binding cannot use, and valid binding
      // rights beyond what most derived capabilities carry.
      return pick(
        [
          random.next(), Rights.all.rawValue, 0, Rights.write.rawValue, 1 << 6,
          Rights.execute.rawValue, Rights.control.rawValue | Rights.read.rawValue,
          Rights([.read, .write]).rawValue, Rights([.read, .write, .execute]).rawValue,
          Rights([.read, .execute]).rawValue,
        ], or: 0)
    case "handler", "upcall", "callEntry":
      // Only addresses the kernel refuses: a valid entry that is not the
      // agent's would send a transfer into code that is not there.
      return pick(kernelAddresses.filter { !VirtualAddress(rawValue: $0).isUser } + [huge], or: 0)
    case "handlerStack", "rip", "rsp", "address":
      return pick(kernelAddresses + [huge], or: 0)
    case "length" where transition == .call(.frameTransmit):
      // Shorter than a header, longer than the longest frame.
      let shortest = UInt64(PacketFilter.minimumFrameLength)
      let longest = UInt64(PacketFilter.maximumFrameLength)
      return pick([0, shortest - 1, longest + 1, 4096, ExoABI.none, huge], or: 0)
    case "length":
      return pick([ConsoleLimits.maximumWrite + 1, ExoABI.none, huge, 4096], or: 4097)
    case "position":
      return pick([UInt64(bounds.slices), ExoABI.none, huge, 0], or: 0)
    case "filter":
      let others = (0..<bounds.filters).filter {
        state.filters.state[$0] != FilterState.free.rawValue && state.filters.owner[$0] != me
      }.map(UInt64.init)
      let f = UInt64(bounds.filters)
      return pick([f, ExoABI.none, huge, pick(others, or: f)], or: f)
    case "index":
      return pick([UInt64(PacketFilter.maximumTests), ExoABI.none, huge], or: 8)
    default:
      return pick([0, ExoABI.none, huge, asynchronousCaller], or: 0)
    }
  }

  // MARK: Bookkeeping

  mutating func record(
    _ step: DiffStep, _ result: SyscallResult, before: ConcreteState, hostile: Bool
  ) {
    let name = step.transition.name
    if result.status == 0 {
      statistics.successes[name, default: 0] += 1
    } else {
      statistics.failures[name, default: 0] += 1
    }
    let outcome = result.error.map { "\($0.name)" } ?? "ok"
    statistics.outcomes[name, default: [:]][outcome, default: 0] += 1
    // The events the kernel takes inside a tick or a failed pageAllocate,
    // seen in the revocation records they change.
    let r0 = before.revocations
    let r1 = state.revocations
    func count(_ event: KernelEvent) {
      statistics.outcomes[event.rawValue, default: [:]]["ok", default: 0] += 1
    }
    for e in 0..<bounds.environments {
      let requested = RevocationPhase.requested.rawValue
      let tick = step.transition == .event(.tick)
      if tick && r0.phase[e] == requested && r1.phase[e] != requested {
        count(.revocationDeadline)
      }
      if tick && r0.phase[e] != RevocationPhase.none.rawValue
        && (r1.repossessed[e] != r0.repossessed[e] || r1.phase[e] == RevocationPhase.none.rawValue)
      {
        count(.revocationAbort)
      }
      if step.transition == .call(.pageAllocate) && r0.phase[e] != requested
        && r1.phase[e] == requested
      {
        count(.allocationPressure)
      }
    }
    if hostile { statistics.hostileCalls += 1 }
    if before.current != 0 { statistics.callsByOthers += 1 }
    if result.status == 0 && result.value == 1 {
      if step.transition == .call(.capabilityRevoke) { statistics.revokeSteps += 1 }
      if step.transition == .call(.environmentReclaim) { statistics.reclaimSteps += 1 }
    }
    if step.transition == .call(.environmentReclaim), result.status == 0, result.value == 0 {
      statistics.environmentsFreed += 1
    }
    // The tables' scans only when the step wrote them (a column the step
    // did not write still shares its storage with the one before).
    let caps = state.capabilities
    if !Self.sameStorage(before.capabilities.kind, caps.kind)
      || !Self.sameStorage(before.capabilities.depth, caps.depth)
    {
      for i in 0..<bounds.capabilities where caps.kind[i] != CapabilityKind.empty.rawValue {
        statistics.maximumDepth = max(statistics.maximumDepth, Int(caps.depth[i]))
      }
      for i in 0..<bounds.capabilities
      where before.capabilities.kind[i] != CapabilityKind.empty.rawValue
        && caps.kind[i] == CapabilityKind.empty.rawValue && !staleSlots.contains(UInt64(i))
      {
        staleSlots.append(UInt64(i))
      }
    }
    if !Self.sameStorage(before.bindings.page, state.bindings.page) {
      let bound = state.bindings.page.lazy.filter { $0 != ExoABI.none }.count
      statistics.maximumBindings = max(statistics.maximumBindings, bound)
    }
  }

  /// Whether two columns are one storage (so equal without a look).
  static func sameStorage(_ a: [UInt64], _ b: [UInt64]) -> Bool {
    a.withUnsafeBufferPointer { x in
      b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress }
    }
  }
}
