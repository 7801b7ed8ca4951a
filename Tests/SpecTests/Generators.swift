import ExoABI
import ExoSpec

/// Small bounds for the cross-check: every table has a few entries, so
/// random indices hit occupied slots and the symbolic formulas stay small.
let smallBounds = Bounds(
  environments: 3, pages: 6, capabilities: 5, windowSlots: 3, slices: 3, maximumDepth: 2,
  maximumRun: 3, filters: 3)
let smallFirstPage: UInt64 = 0x40

/// Random states and arguments biased towards values that make checks pass:
/// small indices, pages of the table, user addresses, valid rights, and
/// now and then `none` or garbage.
struct Generator {
  var random: SplitMix64
  let bounds: Bounds
  let firstPage: UInt64

  init(seed: UInt64, bounds: Bounds = smallBounds, firstPage: UInt64 = smallFirstPage) {
    random = SplitMix64(seed: seed)
    self.bounds = bounds
    self.firstPage = firstPage
  }

  mutating func below(_ n: Int) -> Int { Int.random(in: 0..<n, using: &random) }
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
  mutating func pick(_ values: [UInt64]) -> UInt64 { values[below(values.count)] }

  /// An index of a table of `n` entries, sometimes one past it, sometimes
  /// `none` or garbage.
  mutating func index(_ n: Int) -> UInt64 {
    switch below(20) {
    case 0: return ExoABI.none
    case 1: return random.next()
    case 2: return UInt64(n)
    default: return UInt64(below(n))
    }
  }

  mutating func environment() -> UInt64 { index(bounds.environments) }
  mutating func environmentOrNone() -> UInt64 {
    chance(30) ? ExoABI.none : UInt64(below(bounds.environments))
  }
  mutating func capability() -> UInt64 { index(bounds.capabilities) }
  mutating func page() -> UInt64 {
    chance(90) ? firstPage + UInt64(below(bounds.pages + 1)) : pick([0, firstPage - 1, .max])
  }
  mutating func rights() -> UInt64 {
    switch below(10) {
    case 0: return random.next()
    case 1, 2: return UInt64(below(64))
    case 3: return Rights.all.rawValue
    default: return pick([1, 3, 5, 7, 1, 3])
    }
  }
  mutating func address() -> UInt64 {
    let windowEnd = UserLayout.windowBase + UInt64(bounds.windowSlots) * pageSize
    return pick([
      0, UserLayout.imageBase, UserLayout.imageBase + 0x1234, UserLayout.windowBase,
      UserLayout.windowBase + 16, UserLayout.windowBase + pageSize,
      UserLayout.windowBase + pageSize * UInt64(below(bounds.windowSlots)) + 4080,
      UserLayout.windowBase + pageSize + 8, windowEnd, windowEnd - 16, UserLayout.infoBase,
      UserLayout.stackTop - 16, UserLayout.stackTop, UserLayout.stackTop - 4096 * 16,
      UserLayout.end, UserLayout.end - 1, UserLayout.start - 1, .max, random.next(),
    ])
  }

  /// An argument for the parameter named `name`.
  mutating func argument(_ name: String) -> UInt64 {
    switch name {
    case "target", "environment": return environment()
    case "envCap", "capability", "memoryCap", "child": return capability()
    case "slot", "frameSlot": return index(max(bounds.capabilities, bounds.windowSlots))
    case "page", "base": return chance(80) ? page() : UInt64(below(bounds.environments + 1))
    case "count": return UInt64(below(bounds.maximumRun + 2))
    case "length":
      return pick([0, 1, 8, 16, 100, 4096, 4097, 4080, .max, UInt64(below(5000))])
    case "rights": return rights()
    case "handler", "handlerStack", "upcall", "callEntry", "rip", "rsp", "address":
      return address()
    case "position": return index(bounds.slices)
    default: return chance(50) ? UInt64(below(8)) : random.next()
    }
  }

  mutating func arguments(_ transition: Transition) -> [UInt64] {
    transition.parameters.map { argument($0) }
  }

  /// Arguments for `transition` on `state`: half the time a parameter names
  /// something the state makes likely to pass the checks (the caller itself,
  /// a capability it holds, a page of such a capability, an empty slot).
  mutating func arguments(_ transition: Transition, for state: ConcreteState) -> [UInt64] {
    if transition == .call(.capabilityDerive) && chance(50) {
      // A child inside a capability of the caller's.
      let caps = state.capabilities
      let c = informedArgument("capability", state) ?? argument("capability")
      let child = informedArgument("child", state) ?? argument("child")
      guard c < UInt64(bounds.capabilities) else { return arguments(transition) }
      let k = Int(c)
      let rights = caps.rights[k] & rights()
      let offset = UInt64(below(Int(min(caps.count[k], 3)) + 1))
      let count = caps.kind[k] == 1 ? UInt64(below(Int(min(caps.count[k], 3)) + 1)) : 1
      return [c, child, rights, caps.base[k] &+ (caps.kind[k] == 1 ? offset : 0), count]
    }
    let caps = state.capabilities
    let held = caps.kind.indices.filter { caps.kind[$0] != 0 && caps.owner[$0] == state.current }
    if transition == .call(.filterTest) && chance(50) {
      // Both words of one real test.
      let i = below(Self.testWords.count / 2) * 2
      return [
        argument("filter"), UInt64(below(PacketFilter.maximumTests)), Self.testWords[i],
        Self.testWords[i + 1],
      ]
    }
    if transition == .call(.pageMap) && chance(50) {
      // The caller maps a page of a memory capability it holds into its window.
      let memory = held.filter { caps.kind[$0] == CapabilityKind.memory.rawValue }
      if let k = memory.randomElement(using: &random) {
        let page = caps.base[k] &+ UInt64(below(Int(min(caps.count[k], 3)) + 1))
        let rights = 1 | (caps.rights[k] & UInt64(below(8)))
        return [state.current, argument("envCap"), UInt64(k), page, argument("slot"), rights]
      }
    }
    if transition == .call(.call) || transition == .call(.send), chance(50) {
      // An environment capability of the caller's naming another environment.
      let targets = held.filter {
        caps.kind[$0] == CapabilityKind.environment.rawValue && caps.base[$0] != state.current
      }
      if let k = targets.randomElement(using: &random) {
        return [UInt64(k)] + (1..<5).map { _ in random.next() }
      }
    }
    if transition == .call(.revocationRequest), chance(50) {
      // A request through an environment capability of the caller's naming
      // another environment, for a plausible count, with a short deadline.
      let targets = held.filter {
        caps.kind[$0] == CapabilityKind.environment.rawValue && caps.base[$0] != state.current
      }
      if let k = targets.randomElement(using: &random) {
        return [caps.base[k], UInt64(k), UInt64(below(4) + 1), UInt64(below(10) + 1)]
      }
    }
    return transition.parameters.map { name in
      chance(50) ? (informedArgument(name, state) ?? argument(name)) : argument(name)
    }
  }

  /// The words of a few real packet-filter tests (both words of each).
  static let testWords: [UInt64] = [
    PacketTest(offset: 12, width: 2, equals: 0x0800), PacketTest(offset: 23, width: 1, equals: 17),
    PacketTest(offset: 36, width: 2, equals: 7), PacketTest(offset: 36, width: 2, equals: 9),
    PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x40),
  ].flatMap(\.words)

  mutating func informedArgument(_ name: String, _ state: ConcreteState) -> UInt64? {
    let caps = state.capabilities
    let held = caps.kind.indices.filter { caps.kind[$0] != 0 && caps.owner[$0] == state.current }
    let empty = caps.kind.indices.filter { caps.kind[$0] == 0 }
    switch name {
    case "target", "environment": return chance(50) ? state.current : nil
    case "envCap", "capability", "memoryCap":
      return held.isEmpty ? nil : UInt64(held[below(held.count)])
    case "child": return empty.isEmpty ? nil : UInt64(empty[below(empty.count)])
    case "filter":
      let mine = state.filters.owner.indices.filter { state.filters.owner[$0] == state.current }
      return mine.isEmpty ? nil : UInt64(mine[below(mine.count)])
    case "index": return UInt64(below(PacketFilter.maximumTests))
    case "first", "second": return pick(Self.testWords)
    case "count": return UInt64(below(4))
    case "matches": return UInt64(below(1 << bounds.filters))
    case "slot":
      let w = bounds.windowSlots
      let row = Int(min(state.current, UInt64(bounds.environments))) * w
      let bound = (0..<w).filter {
        row + $0 < state.bindings.page.count && state.bindings.page[row + $0] != ExoABI.none
      }
      return bound.isEmpty ? nil : UInt64(bound[below(bound.count)])
    case "page", "base":
      let memory = caps.kind.indices.filter { caps.kind[$0] == 1 }
      guard !memory.isEmpty else { return nil }
      let k = memory[below(memory.count)]
      return caps.base[k] &+ UInt64(below(Int(min(caps.count[k], 4)) + 1))
    default: return nil
    }
  }

  /// A state whose every field is drawn from values plausible for it; the
  /// tables need not be consistent with each other.
  mutating func scrambledState() -> ConcreteState {
    let names = ConcreteState.wordNames(bounds: bounds)
    var words: [UInt64] = []
    for name in names { words.append(fieldValue(name)) }
    var state = ConcreteState(bounds: bounds, firstPage: firstPage, words: words)
    // Mostly coherent capabilities: held by the current environment, an
    // environment capability naming an environment.
    for k in 0..<bounds.capabilities {
      if chance(60) { state.capabilities.owner[k] = state.current }
      if state.capabilities.kind[k] == CapabilityKind.environment.rawValue && chance(90) {
        state.capabilities.base[k] = UInt64(below(bounds.environments))
        state.capabilities.count[k] = 1
      }
    }
    for f in 0..<bounds.filters where chance(60) { state.filters.owner[f] = state.current }
    return state
  }

  mutating func fieldValue(_ name: String) -> UInt64 {
    if chance(3) { return random.next() }
    let field = name.split(separator: ".").last.map(String.init) ?? name
    if name.hasPrefix("filterWords") {
      // Word 0 a small count; test words from real tests, or zero.
      if name.hasSuffix("[0]") { return UInt64(below(4)) }
      return chance(30) ? 0 : pick(Self.testWords)
    }
    if name.hasPrefix("filters") {
      switch field {
      case "state": return UInt64(below(3))
      case "owner": return environmentOrNone()
      case "slot": return chance(30) ? ExoABI.none : UInt64(below(bounds.windowSlots))
      default: return UInt64(below(3))
      }
    }
    if name.hasPrefix("slices") { return environmentOrNone() }
    if name.hasPrefix("bindings") {
      switch field {
      case "page": return chance(50) ? ExoABI.none : page()
      case "capability": return UInt64(below(bounds.capabilities))
      default: return pick([1, 3, 5, 7, 2])
      }
    }
    if name.hasPrefix("capabilities") {
      switch field {
      case "kind": return UInt64(below(3))
      case "owner": return UInt64(below(bounds.environments))
      case "parent": return chance(50) ? ExoABI.none : UInt64(below(bounds.capabilities))
      case "depth": return UInt64(below(bounds.maximumDepth + 1))
      case "rights": return chance(50) ? Rights.all.rawValue : rights()
      case "base": return chance(50) ? page() : UInt64(below(bounds.environments))
      case "count": return UInt64(below(bounds.maximumRun + 1))
      default: return UInt64(below(3))
      }
    }
    if name.hasPrefix("pages") {
      switch field {
      case "owner": return environmentOrNone()
      case "root": return chance(40) ? ExoABI.none : UInt64(below(bounds.capabilities))
      default: return UInt64(below(3))
      }
    }
    if name.hasPrefix("revocations") {
      switch field {
      case "phase": return UInt64(below(3))
      case "deadline": return UInt64(below(100))
      default: return UInt64(below(bounds.pages + 2))
      }
    }
    if name.hasPrefix("repossessions") { return chance(50) ? 0 : page() }
    if name.hasPrefix("environments") {
      switch field {
      case "state": return chance(50) ? 1 : UInt64(below(5))
      case "parent": return environmentOrNone()
      case "caller":
        return chance(60)
          ? ExoABI.none : chance(50) ? asynchronousCaller : UInt64(below(bounds.environments))
      case "exitStatus": return UInt64(below(3))
      case "capabilities": return UInt64(below(4))
      default: return chance(30) ? 0 : address()
      }
    }
    switch name {
    case "current": return chance(90) ? UInt64(below(bounds.environments)) : ExoABI.none
    case "currentSlice": return chance(95) ? UInt64(below(bounds.slices)) : random.next()
    default: return UInt64(below(100))
    }
  }

  /// A state reached from the initial state by `steps` random calls and
  /// events (most fail; the ones that succeed build up tables).
  mutating func walkedState(steps: Int) -> ConcreteState {
    var state = ConcreteState(bounds: bounds, firstPage: firstPage)
    for _ in 0..<steps {
      let transition = Transition.all[below(Transition.all.count)]
      if transition == .call(.exit) && chance(90) { continue }
      _ = state.step(transition, arguments(transition, for: state))
    }
    return state
  }

  /// Either kind of state, half and half.
  mutating func state() -> ConcreteState {
    chance(50) ? scrambledState() : walkedState(steps: below(60))
  }
}
