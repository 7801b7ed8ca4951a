import ExoABI

/// The JSON form of an explicit state (docs/replay-format.md, "States"):
/// the header words, then each table as a list of the records that differ
/// from the empty record, each naming its index. A record not listed is
/// empty (free environment, free page, empty capability, empty binding,
/// unowned slice); a field not given has the empty record's value.
enum StateCoding {
  enum Key: String, CodingKey {
    case current, currentSlice, ticks, environments, slices, pages, capabilities, bindings,
      revocations, unclaimedFrames, filters
  }
  enum FilterKey: String, CodingKey {
    case filter, state, owner, slot, pending, delivered, dropped, words
  }
  enum RevocationKey: String, CodingKey {
    case environment, phase, requested, deadline, returned, held, repossessed, vector
  }
  enum EnvironmentKey: String, CodingKey {
    case environment, state, parent, handler, handlerStack, upcall, callEntry, caller, exitStatus,
      capabilities, pages, bindings
  }
  enum SliceKey: String, CodingKey { case position, owner }
  enum PageKey: String, CodingKey { case page, owner, mappings, root }
  enum CapabilityKey: String, CodingKey {
    case slot, kind, owner, parent, depth, rights, base, count, children, bindings
  }
  enum BindingKey: String, CodingKey { case environment, slot, page, capability, rights }

  static func decode(from decoder: any Decoder, bounds: Bounds, firstPage: UInt64) throws
    -> ConcreteState
  {
    var state = ConcreteState(bounds: bounds, firstPage: firstPage)
    // Start from all-empty tables: environment 0 and slice 0 are listed
    // like any other record.
    state.environments.state[0] = EnvironmentState.free.rawValue
    state.slices[0] = ExoABI.none
    let c = try decoder.container(keyedBy: Key.self)
    func word<K>(_ c: KeyedDecodingContainer<K>, _ key: K, _ fallback: UInt64) throws -> UInt64 {
      try c.decodeIfPresent(ReplayWord.self, forKey: key)?.value ?? fallback
    }
    func index<K>(_ c: KeyedDecodingContainer<K>, _ key: K, below limit: Int, base: UInt64 = 0)
      throws -> Int
    {
      let value = try c.decode(ReplayWord.self, forKey: key).value
      guard value >= base, value - base < UInt64(limit) else {
        let range = base == 0 ? "0..<\(limit)" : "\(base)..<\(base + UInt64(limit))"
        throw DecodingError.dataCorruptedError(
          forKey: key, in: c, debugDescription: "\(value) is outside \(range)")
      }
      return Int(value - base)
    }
    state.current = try word(c, .current, 0)
    state.currentSlice = try word(c, .currentSlice, 0)
    state.tickCount = try word(c, .ticks, 0)
    state.unclaimedFrames = try word(c, .unclaimedFrames, 0)
    let none = ExoABI.none

    var list = try c.nestedUnkeyedContainerIfPresent(forKey: .environments)
    var seen = Set<Int>()
    while var records = list, !records.isAtEnd {
      let r = try records.nestedContainer(keyedBy: EnvironmentKey.self)
      let i = try index(r, .environment, below: bounds.environments)
      try unique(&seen, i, r, .environment)
      state.environments.state[i] = try EnumCoding.decode(
        r, .state, EnvironmentState.self, fallback: 0)
      state.environments.parent[i] = try word(r, .parent, none)
      state.environments.handler[i] = try word(r, .handler, 0)
      state.environments.handlerStack[i] = try word(r, .handlerStack, 0)
      state.environments.upcall[i] = try word(r, .upcall, 0)
      state.environments.callEntry[i] = try word(r, .callEntry, 0)
      state.environments.caller[i] = try word(r, .caller, none)
      state.environments.exitStatus[i] = try word(r, .exitStatus, 0)
      state.environments.capabilities[i] = try word(r, .capabilities, 0)
      state.environments.pages[i] = try word(r, .pages, 0)
      state.environments.bindings[i] = try word(r, .bindings, 0)
      list = records
    }
    list = try c.nestedUnkeyedContainerIfPresent(forKey: .slices)
    seen = []
    while var records = list, !records.isAtEnd {
      let r = try records.nestedContainer(keyedBy: SliceKey.self)
      let i = try index(r, .position, below: bounds.slices)
      try unique(&seen, i, r, .position)
      state.slices[i] = try word(r, .owner, none)
      list = records
    }
    list = try c.nestedUnkeyedContainerIfPresent(forKey: .pages)
    seen = []
    while var records = list, !records.isAtEnd {
      let r = try records.nestedContainer(keyedBy: PageKey.self)
      let i = try index(r, .page, below: bounds.pages, base: firstPage)
      try unique(&seen, i, r, .page)
      state.pages.owner[i] = try word(r, .owner, none)
      state.pages.mappings[i] = try word(r, .mappings, 0)
      state.pages.root[i] = try word(r, .root, none)
      list = records
    }
    list = try c.nestedUnkeyedContainerIfPresent(forKey: .capabilities)
    seen = []
    while var records = list, !records.isAtEnd {
      let r = try records.nestedContainer(keyedBy: CapabilityKey.self)
      let i = try index(r, .slot, below: bounds.capabilities)
      try unique(&seen, i, r, .slot)
      state.capabilities.kind[i] = try EnumCoding.decode(r, .kind, CapabilityKind.self, fallback: 0)
      state.capabilities.owner[i] = try word(r, .owner, none)
      state.capabilities.parent[i] = try word(r, .parent, none)
      state.capabilities.depth[i] = try word(r, .depth, 0)
      state.capabilities.rights[i] = try RightsCoding.decode(r, .rights)
      state.capabilities.base[i] = try word(r, .base, 0)
      state.capabilities.count[i] = try word(r, .count, 0)
      state.capabilities.children[i] = try word(r, .children, 0)
      state.capabilities.bindings[i] = try word(r, .bindings, 0)
      list = records
    }
    list = try c.nestedUnkeyedContainerIfPresent(forKey: .bindings)
    seen = []
    while var records = list, !records.isAtEnd {
      let r = try records.nestedContainer(keyedBy: BindingKey.self)
      let e = try index(r, .environment, below: bounds.environments)
      let s = try index(r, .slot, below: bounds.windowSlots)
      let i = e * bounds.windowSlots + s
      try unique(&seen, i, r, .slot)
      state.bindings.page[i] = try word(r, .page, none)
      state.bindings.capability[i] = try word(r, .capability, none)
      state.bindings.rights[i] = try RightsCoding.decode(r, .rights)
      list = records
    }
    list = try c.nestedUnkeyedContainerIfPresent(forKey: .revocations)
    seen = []
    while var records = list, !records.isAtEnd {
      let r = try records.nestedContainer(keyedBy: RevocationKey.self)
      let e = try index(r, .environment, below: bounds.environments)
      try unique(&seen, e, r, .environment)
      state.revocations.phase[e] = try EnumCoding.decode(
        r, .phase, RevocationPhase.self, fallback: 0)
      state.revocations.requested[e] = try word(r, .requested, 0)
      state.revocations.deadline[e] = try word(r, .deadline, 0)
      state.revocations.returned[e] = try word(r, .returned, 0)
      state.revocations.held[e] = try word(r, .held, 0)
      state.revocations.repossessed[e] = try word(r, .repossessed, 0)
      let vector = try r.decodeIfPresent([ReplayWord].self, forKey: .vector) ?? []
      guard vector.count <= bounds.pages else {
        throw DecodingError.dataCorruptedError(
          forKey: .vector, in: r,
          debugDescription: "\(vector.count) entries, the vector holds \(bounds.pages)")
      }
      for (i, entry) in vector.enumerated() {
        state.repossessions[e * bounds.pages + i] = entry.value
      }
      list = records
    }
    list = try c.nestedUnkeyedContainerIfPresent(forKey: .filters)
    seen = []
    let n = PacketFilter.wordCount
    while var records = list, !records.isAtEnd {
      let r = try records.nestedContainer(keyedBy: FilterKey.self)
      let f = try index(r, .filter, below: bounds.filters)
      try unique(&seen, f, r, .filter)
      state.filters.state[f] = try EnumCoding.decode(r, .state, FilterState.self, fallback: 0)
      state.filters.owner[f] = try word(r, .owner, none)
      state.filters.slot[f] = try word(r, .slot, none)
      state.filters.pending[f] = try word(r, .pending, 0)
      state.filters.delivered[f] = try word(r, .delivered, 0)
      state.filters.dropped[f] = try word(r, .dropped, 0)
      let words = try r.decodeIfPresent([ReplayWord].self, forKey: .words) ?? []
      guard words.count <= n else {
        throw DecodingError.dataCorruptedError(
          forKey: .words, in: r, debugDescription: "\(words.count) words, a filter has \(n)")
      }
      for (i, w) in words.enumerated() { state.filterWords[f * n + i] = w.value }
      list = records
    }
    return state
  }

  static func unique<K>(_ seen: inout Set<Int>, _ i: Int, _ c: KeyedDecodingContainer<K>, _ key: K)
    throws
  {
    guard seen.insert(i).inserted else {
      throw DecodingError.dataCorruptedError(
        forKey: key, in: c, debugDescription: "record \(i) is listed twice")
    }
  }

  static func encode(_ state: ConcreteState, to encoder: any Encoder) throws {
    let bounds = state.bounds
    let none = ExoABI.none
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(ReplayWord(state.current), forKey: .current)
    try c.encode(ReplayWord(state.currentSlice), forKey: .currentSlice)
    try c.encode(ReplayWord(state.tickCount), forKey: .ticks)
    if state.unclaimedFrames != 0 {
      try c.encode(ReplayWord(state.unclaimedFrames), forKey: .unclaimedFrames)
    }

    var list = c.nestedUnkeyedContainer(forKey: .environments)
    let env = state.environments
    for i in 0..<bounds.environments {
      let record = [
        env.state[i], env.parent[i], env.handler[i], env.handlerStack[i], env.upcall[i],
        env.callEntry[i], env.caller[i], env.exitStatus[i], env.capabilities[i], env.pages[i],
        env.bindings[i],
      ]
      guard record != [0, none, 0, 0, 0, 0, none, 0, 0, 0, 0] else { continue }
      var r = list.nestedContainer(keyedBy: EnvironmentKey.self)
      try r.encode(i, forKey: .environment)
      try EnumCoding.encode(&r, .state, env.state[i], EnvironmentState.self)
      try r.encode(ReplayWord(env.parent[i]), forKey: .parent)
      try r.encode(ReplayWord(env.handler[i]), forKey: .handler)
      try r.encode(ReplayWord(env.handlerStack[i]), forKey: .handlerStack)
      try r.encode(ReplayWord(env.upcall[i]), forKey: .upcall)
      try r.encode(ReplayWord(env.callEntry[i]), forKey: .callEntry)
      try r.encode(ReplayWord(env.caller[i]), forKey: .caller)
      try r.encode(ReplayWord(env.exitStatus[i]), forKey: .exitStatus)
      try r.encode(ReplayWord(env.capabilities[i]), forKey: .capabilities)
      try r.encode(ReplayWord(env.pages[i]), forKey: .pages)
      try r.encode(ReplayWord(env.bindings[i]), forKey: .bindings)
    }
    list = c.nestedUnkeyedContainer(forKey: .slices)
    for i in 0..<bounds.slices where state.slices[i] != none {
      var r = list.nestedContainer(keyedBy: SliceKey.self)
      try r.encode(i, forKey: .position)
      try r.encode(ReplayWord(state.slices[i]), forKey: .owner)
    }
    list = c.nestedUnkeyedContainer(forKey: .pages)
    let pages = state.pages
    for i in 0..<bounds.pages {
      guard [pages.owner[i], pages.mappings[i], pages.root[i]] != [none, 0, none] else { continue }
      var r = list.nestedContainer(keyedBy: PageKey.self)
      try r.encode(ReplayWord(state.firstPage &+ UInt64(i)), forKey: .page)
      try r.encode(ReplayWord(pages.owner[i]), forKey: .owner)
      try r.encode(ReplayWord(pages.mappings[i]), forKey: .mappings)
      try r.encode(ReplayWord(pages.root[i]), forKey: .root)
    }
    list = c.nestedUnkeyedContainer(forKey: .capabilities)
    let caps = state.capabilities
    for i in 0..<bounds.capabilities {
      let record = [
        caps.kind[i], caps.owner[i], caps.parent[i], caps.depth[i], caps.rights[i], caps.base[i],
        caps.count[i], caps.children[i], caps.bindings[i],
      ]
      guard record != [0, none, none, 0, 0, 0, 0, 0, 0] else { continue }
      var r = list.nestedContainer(keyedBy: CapabilityKey.self)
      try r.encode(i, forKey: .slot)
      try EnumCoding.encode(&r, .kind, caps.kind[i], CapabilityKind.self)
      try r.encode(ReplayWord(caps.owner[i]), forKey: .owner)
      try r.encode(ReplayWord(caps.parent[i]), forKey: .parent)
      try r.encode(ReplayWord(caps.depth[i]), forKey: .depth)
      try RightsCoding.encode(&r, .rights, caps.rights[i])
      try r.encode(ReplayWord(caps.base[i]), forKey: .base)
      try r.encode(ReplayWord(caps.count[i]), forKey: .count)
      try r.encode(ReplayWord(caps.children[i]), forKey: .children)
      try r.encode(ReplayWord(caps.bindings[i]), forKey: .bindings)
    }
    list = c.nestedUnkeyedContainer(forKey: .bindings)
    let b = state.bindings
    for i in 0..<b.page.count {
      guard [b.page[i], b.capability[i], b.rights[i]] != [none, none, 0] else { continue }
      var r = list.nestedContainer(keyedBy: BindingKey.self)
      try r.encode(i / bounds.windowSlots, forKey: .environment)
      try r.encode(i % bounds.windowSlots, forKey: .slot)
      try r.encode(ReplayWord(b.page[i]), forKey: .page)
      try r.encode(ReplayWord(b.capability[i]), forKey: .capability)
      try RightsCoding.encode(&r, .rights, b.rights[i])
    }
    list = c.nestedUnkeyedContainer(forKey: .revocations)
    let t = state.revocations
    for e in 0..<bounds.environments {
      let row = Array(state.repossessions[(e * bounds.pages)..<((e + 1) * bounds.pages)])
      let record = [
        t.phase[e], t.requested[e], t.deadline[e], t.returned[e], t.held[e], t.repossessed[e],
      ]
      guard record != [0, 0, 0, 0, 0, 0] || row.contains(where: { $0 != 0 }) else { continue }
      var r = list.nestedContainer(keyedBy: RevocationKey.self)
      try r.encode(e, forKey: .environment)
      try EnumCoding.encode(&r, .phase, t.phase[e], RevocationPhase.self)
      try r.encode(ReplayWord(t.requested[e]), forKey: .requested)
      try r.encode(ReplayWord(t.deadline[e]), forKey: .deadline)
      try r.encode(ReplayWord(t.returned[e]), forKey: .returned)
      try r.encode(ReplayWord(t.held[e]), forKey: .held)
      try r.encode(ReplayWord(t.repossessed[e]), forKey: .repossessed)
      // Trailing zero entries are implied.
      let used = (row.lastIndex(where: { $0 != 0 }) ?? -1) + 1
      try r.encode(row[0..<used].map(ReplayWord.init), forKey: .vector)
    }
    // Listed only when some filter slot is not the free record.
    let n = PacketFilter.wordCount
    let filters = state.filters
    let used = (0..<bounds.filters).filter { f in
      [
        filters.state[f], filters.owner[f], filters.slot[f], filters.pending[f],
        filters.delivered[f], filters.dropped[f],
      ] != [0, none, none, 0, 0, 0]
        || state.filterWords[(f * n)..<((f + 1) * n)].contains(where: { $0 != 0 })
    }
    if !used.isEmpty {
      var filterList = c.nestedUnkeyedContainer(forKey: .filters)
      for f in used {
        let words = Array(state.filterWords[(f * n)..<((f + 1) * n)])
        var r = filterList.nestedContainer(keyedBy: FilterKey.self)
        try r.encode(f, forKey: .filter)
        try EnumCoding.encode(&r, .state, filters.state[f], FilterState.self)
        try r.encode(ReplayWord(filters.owner[f]), forKey: .owner)
        try r.encode(ReplayWord(filters.slot[f]), forKey: .slot)
        try r.encode(ReplayWord(filters.pending[f]), forKey: .pending)
        try r.encode(ReplayWord(filters.delivered[f]), forKey: .delivered)
        try r.encode(ReplayWord(filters.dropped[f]), forKey: .dropped)
        // Trailing zero words are implied.
        let count = (words.lastIndex(where: { $0 != 0 }) ?? -1) + 1
        try r.encode(words[0..<count].map(ReplayWord.init), forKey: .words)
      }
    }
  }
}

/// An enumerated field: its case name, or any number (a counterexample may
/// hold a value outside the enumeration).
enum EnumCoding {
  static func decode<K, E: RawRepresentable & CaseIterable>(
    _ c: KeyedDecodingContainer<K>, _ key: K, _ type: E.Type, fallback: UInt64
  ) throws -> UInt64 where E.RawValue == UInt64 {
    guard c.contains(key) else { return fallback }
    if let name = try? c.decode(String.self, forKey: key),
      let found = E.allCases.first(where: { "\($0)" == name })
    {
      return found.rawValue
    }
    if let value = try? c.decode(ReplayWord.self, forKey: key) { return value.value }
    throw DecodingError.dataCorruptedError(
      forKey: key, in: c,
      debugDescription: "expected one of "
        + E.allCases.map { "\"\($0)\"" }.joined(separator: ", ") + " or a number")
  }

  static func encode<K, E: RawRepresentable & CaseIterable>(
    _ c: inout KeyedEncodingContainer<K>, _ key: K, _ value: UInt64, _ type: E.Type
  ) throws where E.RawValue == UInt64 {
    if let known = E(rawValue: value) {
      try c.encode("\(known)", forKey: key)
    } else {
      try c.encode(ReplayWord(value), forKey: key)
    }
  }
}

/// A rights field: a list of right names (`["read", "write"]`), or a number.
enum RightsCoding {
  static let names: [(String, Rights)] = [
    ("read", .read), ("write", .write), ("execute", .execute), ("grant", .grant),
    ("control", .control), ("call", .call),
  ]

  static func decode<K>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> UInt64 {
    guard c.contains(key) else { return 0 }
    if let list = try? c.decode([String].self, forKey: key) {
      var rights = Rights()
      for name in list {
        guard let right = names.first(where: { $0.0 == name })?.1 else {
          throw DecodingError.dataCorruptedError(
            forKey: key, in: c,
            debugDescription: "no right named \"\(name)\"; rights: "
              + names.map(\.0).joined(separator: ", "))
        }
        rights.insert(right)
      }
      return rights.rawValue
    }
    return try c.decode(ReplayWord.self, forKey: key).value
  }

  static func encode<K>(_ c: inout KeyedEncodingContainer<K>, _ key: K, _ value: UInt64) throws {
    if Rights(rawValue: value).isValid {
      try c.encode(names.filter { Rights(rawValue: value).contains($0.1) }.map(\.0), forKey: key)
    } else {
      try c.encode(ReplayWord(value), forKey: key)
    }
  }
}

extension KeyedDecodingContainer {
  func nestedUnkeyedContainerIfPresent(forKey key: Key) throws -> UnkeyedDecodingContainer? {
    contains(key) ? try nestedUnkeyedContainer(forKey: key) : nil
  }
}
