import ExoABI

/// The state as a list of words (host only: the tables are Swift arrays).
extension SpecState where D.Column == [D.W] {
  /// A state whose every word is `make(name)`, with names as in
  /// ``wordNames(bounds:)``, in the order of ``words``.
  public init(domain: D, bounds: Bounds, firstPage: UInt64, make: (String) -> W) {
    var words: [W] = []
    for name in Self.wordNames(bounds: bounds) { words.append(make(name)) }
    self.init(domain: domain, bounds: bounds, firstPage: firstPage, words: words)
  }

  /// The state laid out by ``words`` (precondition: the count matches).
  public init(domain: D, bounds: Bounds, firstPage: UInt64, words: [W]) {
    precondition(words.count == Self.wordCount(bounds: bounds), "wrong number of state words")
    var cursor = 0
    func take() -> W {
      defer { cursor += 1 }
      return words[cursor]
    }
    let header = [take(), take(), take(), take()]
    let e = bounds.environments
    var env = [[W]](repeating: [], count: EnvironmentField.wordCount)
    for _ in 0..<e { for f in 0..<EnvironmentField.wordCount { env[f].append(take()) } }
    let environments = EnvironmentTable(
      state: env[0], parent: env[1], handler: env[2], handlerStack: env[3], upcall: env[4],
      callEntry: env[5], caller: env[6], exitStatus: env[7], capabilities: env[8], pages: env[9],
      bindings: env[10])
    let slices = (0..<bounds.slices).map { _ in take() }
    var page = [[W]](repeating: [], count: PageField.wordCount)
    for _ in 0..<bounds.pages { for f in 0..<PageField.wordCount { page[f].append(take()) } }
    let pages = PageTable(owner: page[0], mappings: page[1], root: page[2])
    var cap = [[W]](repeating: [], count: CapabilityField.wordCount)
    for _ in 0..<bounds.capabilities {
      for f in 0..<CapabilityField.wordCount { cap[f].append(take()) }
    }
    let capabilities = CapabilityTable(
      kind: cap[0], owner: cap[1], parent: cap[2], depth: cap[3], rights: cap[4], base: cap[5],
      count: cap[6], children: cap[7], bindings: cap[8])
    var binding = [[W]](repeating: [], count: BindingField.wordCount)
    for _ in 0..<(e * bounds.windowSlots) {
      for f in 0..<BindingField.wordCount { binding[f].append(take()) }
    }
    let bindings = BindingTable(page: binding[0], capability: binding[1], rights: binding[2])
    var revocation = [[W]](repeating: [], count: RevocationField.wordCount)
    for _ in 0..<e { for f in 0..<RevocationField.wordCount { revocation[f].append(take()) } }
    let revocations = RevocationTable(
      phase: revocation[0], requested: revocation[1], deadline: revocation[2],
      returned: revocation[3], held: revocation[4], repossessed: revocation[5])
    let repossessions = (0..<(e * bounds.pages)).map { _ in take() }
    var filter = [[W]](repeating: [], count: FilterField.wordCount)
    for _ in 0..<bounds.filters { for f in 0..<FilterField.wordCount { filter[f].append(take()) } }
    let filters = FilterTable(
      state: filter[0], owner: filter[1], slot: filter[2], pending: filter[3],
      delivered: filter[4], dropped: filter[5])
    let filterWords = (0..<(bounds.filters * PacketFilter.wordCount)).map { _ in take() }
    self.init(
      domain: domain, bounds: bounds, firstPage: firstPage, header: header,
      environments: environments, slices: slices, pages: pages, capabilities: capabilities,
      bindings: bindings, revocations: revocations, repossessions: repossessions,
      filters: filters, filterWords: filterWords)
  }

  /// Every word of the state, record-major in the order of the exported
  /// layout: `current`, `currentSlice`, `ticks`, `unclaimedFrames`, then
  /// each environment's fields, the slices, each page's, each
  /// capability's, each binding's, each revocation record's, the
  /// repossession vectors, each filter slot's fields, the filters' words.
  public var words: [W] {
    var out: [W] = [current, currentSlice, tickCount, unclaimedFrames]
    out.reserveCapacity(Self.wordCount(bounds: bounds))
    for i in 0..<bounds.environments {
      let t = environments
      out += [
        t.state[i], t.parent[i], t.handler[i], t.handlerStack[i], t.upcall[i], t.callEntry[i],
        t.caller[i], t.exitStatus[i], t.capabilities[i], t.pages[i], t.bindings[i],
      ]
    }
    out += slices
    for i in 0..<bounds.pages { out += [pages.owner[i], pages.mappings[i], pages.root[i]] }
    for i in 0..<bounds.capabilities {
      let t = capabilities
      out += [
        t.kind[i], t.owner[i], t.parent[i], t.depth[i], t.rights[i], t.base[i], t.count[i],
        t.children[i], t.bindings[i],
      ]
    }
    for i in 0..<bindings.page.count {
      out += [bindings.page[i], bindings.capability[i], bindings.rights[i]]
    }
    for i in 0..<bounds.environments {
      let t = revocations
      out += [
        t.phase[i], t.requested[i], t.deadline[i], t.returned[i], t.held[i], t.repossessed[i],
      ]
    }
    out += repossessions
    for i in 0..<bounds.filters {
      let t = filters
      out += [t.state[i], t.owner[i], t.slot[i], t.pending[i], t.delivered[i], t.dropped[i]]
    }
    out += filterWords
    return out
  }

  /// How many words ``words`` has.
  public static func wordCount(bounds: Bounds) -> Int {
    let environments: Int = bounds.environments * EnvironmentField.wordCount
    let pages: Int = bounds.pages * PageField.wordCount
    let capabilities: Int = bounds.capabilities * CapabilityField.wordCount
    let bindings: Int = bounds.environments * bounds.windowSlots * BindingField.wordCount
    let revocations: Int = bounds.environments * (RevocationField.wordCount + bounds.pages)
    let filters: Int = bounds.filters * (FilterField.wordCount + PacketFilter.wordCount)
    return 4 + environments + bounds.slices + pages + capabilities + bindings + revocations
      + filters
  }

  /// The name of each word of ``words``, e.g. `capabilities[3].children`,
  /// `bindings[1][7].page`.
  public static func wordNames(bounds: Bounds) -> [String] {
    var names = ["current", "currentSlice", "ticks", "unclaimedFrames"]
    for i in 0..<bounds.environments {
      for f in EnvironmentField.allCases { names.append("environments[\(i)].\(f)") }
    }
    for i in 0..<bounds.slices { names.append("slices[\(i)]") }
    for i in 0..<bounds.pages { for f in PageField.allCases { names.append("pages[\(i)].\(f)") } }
    for i in 0..<bounds.capabilities {
      for f in CapabilityField.allCases { names.append("capabilities[\(i)].\(f)") }
    }
    for e in 0..<bounds.environments {
      for s in 0..<bounds.windowSlots {
        for f in BindingField.allCases { names.append("bindings[\(e)][\(s)].\(f)") }
      }
    }
    for e in 0..<bounds.environments {
      for f in RevocationField.allCases { names.append("revocations[\(e)].\(f)") }
    }
    for e in 0..<bounds.environments {
      for i in 0..<bounds.pages { names.append("repossessions[\(e)][\(i)]") }
    }
    for i in 0..<bounds.filters {
      for f in FilterField.allCases { names.append("filters[\(i)].\(f)") }
    }
    for i in 0..<bounds.filters {
      for w in 0..<PacketFilter.wordCount { names.append("filterWords[\(i)][\(w)]") }
    }
    return names
  }
}

extension SpecState where D.Column == [D.W] {
  /// The ABI's initial state (docs/ABI.md, "Initial state"): environment 0
  /// runnable and current, owning slice 0; everything else free or empty.
  public init(initial domain: D, bounds: Bounds, firstPage: UInt64) {
    let zeros = [W](repeating: domain.word(0), count: Self.wordCount(bounds: bounds))
    self.init(domain: domain, bounds: bounds, firstPage: firstPage, words: zeros)
    writeInitialState()
  }
}

/// The spec on concrete values: the oracle the replay runner, the
/// differential tester and the libOS tests run.
public typealias ConcreteState = SpecState<ConcreteDomain>

extension SpecState: Equatable where D == ConcreteDomain {
  public static func == (a: Self, b: Self) -> Bool {
    a.bounds == b.bounds && a.firstPage == b.firstPage && a.words == b.words
  }
}

extension SpecState where D == ConcreteDomain {
  /// The ABI's initial state with concrete values.
  /// `memory`: where the calls that read user memory read it.
  public init(bounds: Bounds, firstPage: UInt64, memory: PageContents? = nil) {
    self.init(initial: ConcreteDomain(memory: memory), bounds: bounds, firstPage: firstPage)
  }

  /// The state laid out by `words` (see ``words``).
  public init(bounds: Bounds, firstPage: UInt64, words: [UInt64], memory: PageContents? = nil) {
    self.init(
      domain: ConcreteDomain(memory: memory), bounds: bounds, firstPage: firstPage, words: words)
  }
}
