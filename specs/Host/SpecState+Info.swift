import ExoABI

/// Why an `InfoLayout` word image is not a state of the expected bounds.
public enum InfoDecodingError: Error, Equatable, CustomStringConvertible {
  /// The image has `found` words; the bounds need `expected`.
  case wrongSize(expected: Int, found: Int)
  /// A header word differs from what the bounds (or the format) require.
  case header(field: String, expected: UInt64, found: UInt64)
  /// A word holds a value outside its field's domain.
  case invalidField(field: String, value: UInt64)

  public var description: String {
    switch self {
    case .wrongSize(let expected, let found):
      "info image has \(found) words, the bounds need \(expected)"
    case .header(let field, let expected, let found):
      "header.\(field) is \(found), expected \(expected)"
    case .invalidField(let field, let value):
      "\(field) holds \(value), outside its domain"
    }
  }
}

/// The exported word image (`InfoLayout`): how the differential tester
/// compares the spec with the kernel's tables.
extension SpecState where D == ConcreteDomain {
  /// Calls `visit` with the word index and value of every word of the
  /// exported image that the tables define (padding is left out, and is
  /// zero): the one walk both ``infoWords()`` and ``digest`` are made of.
  @inline(__always)
  func forEachInfoWord(_ visit: (Int, UInt64) -> Void) {
    let layout = InfoLayout(bounds: bounds)
    func put(_ offset: Int, _ value: UInt64) { visit(offset / 8, value) }
    let header: [(InfoHeader, UInt64)] = [
      (.magic, InfoHeader.magicValue), (.version, InfoHeader.currentVersion),
      (.environments, UInt64(bounds.environments)), (.pages, UInt64(bounds.pages)),
      (.capabilities, UInt64(bounds.capabilities)), (.windowSlots, UInt64(bounds.windowSlots)),
      (.slices, UInt64(bounds.slices)), (.maximumDepth, UInt64(bounds.maximumDepth)),
      (.maximumRun, UInt64(bounds.maximumRun)), (.firstPage, firstPage), (.current, current),
      (.currentSlice, currentSlice), (.ticks, tickCount), (.unclaimedFrames, unclaimedFrames),
      (.filters, UInt64(bounds.filters)),
    ]
    for (field, value) in header { put(layout.offset(field), value) }
    for (field, column) in environmentColumns {
      for i in 0..<bounds.environments { put(layout.offset(environment: i, field), column[i]) }
    }
    for i in 0..<bounds.slices { put(layout.offset(slice: i), slices[i]) }
    for (field, column) in pageColumns {
      for i in 0..<bounds.pages { put(layout.offset(page: i, field), column[i]) }
    }
    for (field, column) in capabilityColumns {
      for i in 0..<bounds.capabilities { put(layout.offset(capability: i, field), column[i]) }
    }
    for (field, column) in bindingColumns {
      for e in 0..<bounds.environments {
        for s in 0..<bounds.windowSlots {
          put(layout.offset(binding: e, slot: s, field), column[e * bounds.windowSlots + s])
        }
      }
    }
    for (field, column) in revocationColumns {
      for e in 0..<bounds.environments { put(layout.offset(revocation: e, field), column[e]) }
    }
    for e in 0..<bounds.environments {
      for i in 0..<bounds.pages {
        put(layout.offset(repossession: e, entry: i), repossessions[e * bounds.pages + i])
      }
    }
    for (field, column) in filterColumns {
      for i in 0..<bounds.filters { put(layout.offset(filter: i, field), column[i]) }
    }
    for i in 0..<bounds.filters {
      for w in 0..<PacketFilter.wordCount {
        put(layout.offset(filter: i, word: w), filterWords[i * PacketFilter.wordCount + w])
      }
    }
  }

  /// The state as the kernel exports it at `UserLayout.infoBase`:
  /// `InfoLayout(bounds:).size / 8` words, padding zero.
  public func infoWords() -> [UInt64] {
    var out = [UInt64](repeating: 0, count: InfoLayout(bounds: bounds).size / 8)
    forEachInfoWord { index, value in out[index] = value }
    return out
  }

  /// Decodes a word image exported for `bounds`; `firstPage` comes from the
  /// header. Checks the size, the header (magic, version, bounds) and the
  /// enumerated fields (environment states, capability kinds).
  public init(infoWords words: [UInt64], bounds: Bounds) throws(InfoDecodingError) {
    let layout = InfoLayout(bounds: bounds)
    guard words.count == layout.size / 8 else {
      throw .wrongSize(expected: layout.size / 8, found: words.count)
    }
    func get(_ offset: Int) -> UInt64 { words[offset / 8] }
    let expected: [(InfoHeader, UInt64)] = [
      (.magic, InfoHeader.magicValue), (.version, InfoHeader.currentVersion),
      (.environments, UInt64(bounds.environments)), (.pages, UInt64(bounds.pages)),
      (.capabilities, UInt64(bounds.capabilities)), (.windowSlots, UInt64(bounds.windowSlots)),
      (.slices, UInt64(bounds.slices)), (.maximumDepth, UInt64(bounds.maximumDepth)),
      (.maximumRun, UInt64(bounds.maximumRun)), (.filters, UInt64(bounds.filters)),
    ]
    for (field, value) in expected where get(layout.offset(field)) != value {
      throw .header(field: "\(field)", expected: value, found: get(layout.offset(field)))
    }
    self.init(bounds: bounds, firstPage: get(layout.offset(.firstPage)))
    current = get(layout.offset(.current))
    currentSlice = get(layout.offset(.currentSlice))
    tickCount = get(layout.offset(.ticks))
    unclaimedFrames = get(layout.offset(.unclaimedFrames))
    for i in 0..<bounds.environments {
      let state = get(layout.offset(environment: i, .state))
      guard EnvironmentState(rawValue: state) != nil else {
        throw .invalidField(field: "environments[\(i)].state", value: state)
      }
      environments.state[i] = state
      environments.parent[i] = get(layout.offset(environment: i, .parent))
      environments.handler[i] = get(layout.offset(environment: i, .handler))
      environments.handlerStack[i] = get(layout.offset(environment: i, .handlerStack))
      environments.upcall[i] = get(layout.offset(environment: i, .upcall))
      environments.callEntry[i] = get(layout.offset(environment: i, .callEntry))
      environments.caller[i] = get(layout.offset(environment: i, .caller))
      environments.exitStatus[i] = get(layout.offset(environment: i, .exitStatus))
      environments.capabilities[i] = get(layout.offset(environment: i, .capabilities))
      environments.pages[i] = get(layout.offset(environment: i, .pages))
      environments.bindings[i] = get(layout.offset(environment: i, .bindings))
    }
    for i in 0..<bounds.slices { slices[i] = get(layout.offset(slice: i)) }
    for i in 0..<bounds.pages {
      pages.owner[i] = get(layout.offset(page: i, .owner))
      pages.mappings[i] = get(layout.offset(page: i, .mappings))
      pages.root[i] = get(layout.offset(page: i, .root))
    }
    for i in 0..<bounds.capabilities {
      let kind = get(layout.offset(capability: i, .kind))
      guard CapabilityKind(rawValue: kind) != nil else {
        throw .invalidField(field: "capabilities[\(i)].kind", value: kind)
      }
      capabilities.kind[i] = kind
      capabilities.owner[i] = get(layout.offset(capability: i, .owner))
      capabilities.parent[i] = get(layout.offset(capability: i, .parent))
      capabilities.depth[i] = get(layout.offset(capability: i, .depth))
      capabilities.rights[i] = get(layout.offset(capability: i, .rights))
      capabilities.base[i] = get(layout.offset(capability: i, .base))
      capabilities.count[i] = get(layout.offset(capability: i, .count))
      capabilities.children[i] = get(layout.offset(capability: i, .children))
      capabilities.bindings[i] = get(layout.offset(capability: i, .bindings))
    }
    for e in 0..<bounds.environments {
      for s in 0..<bounds.windowSlots {
        let j = e * bounds.windowSlots + s
        bindings.page[j] = get(layout.offset(binding: e, slot: s, .page))
        bindings.capability[j] = get(layout.offset(binding: e, slot: s, .capability))
        bindings.rights[j] = get(layout.offset(binding: e, slot: s, .rights))
      }
    }
    for e in 0..<bounds.environments {
      let phase = get(layout.offset(revocation: e, .phase))
      guard RevocationPhase(rawValue: phase) != nil else {
        throw .invalidField(field: "revocations[\(e)].phase", value: phase)
      }
      revocations.phase[e] = phase
      revocations.requested[e] = get(layout.offset(revocation: e, .requested))
      revocations.deadline[e] = get(layout.offset(revocation: e, .deadline))
      revocations.returned[e] = get(layout.offset(revocation: e, .returned))
      revocations.held[e] = get(layout.offset(revocation: e, .held))
      revocations.repossessed[e] = get(layout.offset(revocation: e, .repossessed))
      for i in 0..<bounds.pages {
        repossessions[e * bounds.pages + i] = get(layout.offset(repossession: e, entry: i))
      }
    }
    for i in 0..<bounds.filters {
      let state = get(layout.offset(filter: i, .state))
      guard FilterState(rawValue: state) != nil else {
        throw .invalidField(field: "filters[\(i)].state", value: state)
      }
      filters.state[i] = state
      filters.owner[i] = get(layout.offset(filter: i, .owner))
      filters.slot[i] = get(layout.offset(filter: i, .slot))
      filters.pending[i] = get(layout.offset(filter: i, .pending))
      filters.delivered[i] = get(layout.offset(filter: i, .delivered))
      filters.dropped[i] = get(layout.offset(filter: i, .dropped))
      for w in 0..<PacketFilter.wordCount {
        filterWords[i * PacketFilter.wordCount + w] = get(layout.offset(filter: i, word: w))
      }
    }
  }

  /// The canonical digest of the state: `InfoDigest` (ExoABI) of
  /// ``infoWords()``, computed from the tables without building the image.
  /// Equal states (and equal exported images) have equal digests.
  public var digest: UInt64 {
    var d = InfoDigest()
    forEachInfoWord { index, value in d.add(index: index, value: value) }
    return d.value
  }

  /// `InfoDigest` (ExoABI) of `words`.
  public static func digest(infoWords words: [UInt64]) -> UInt64 { InfoDigest.of(words) }

  public var environmentColumns: [(EnvironmentField, [UInt64])] {
    EnvironmentField.allCases.map { ($0, environments[$0]) }
  }

  public var pageColumns: [(PageField, [UInt64])] {
    [(.owner, pages.owner), (.mappings, pages.mappings), (.root, pages.root)]
  }

  public var capabilityColumns: [(CapabilityField, [UInt64])] {
    let t = capabilities
    return [
      (.kind, t.kind), (.owner, t.owner), (.parent, t.parent), (.depth, t.depth),
      (.rights, t.rights), (.base, t.base), (.count, t.count), (.children, t.children),
      (.bindings, t.bindings),
    ]
  }

  public var revocationColumns: [(RevocationField, [UInt64])] {
    let t = revocations
    return [
      (.phase, t.phase), (.requested, t.requested), (.deadline, t.deadline),
      (.returned, t.returned), (.held, t.held), (.repossessed, t.repossessed),
    ]
  }

  public var filterColumns: [(FilterField, [UInt64])] {
    let t = filters
    return [
      (.state, t.state), (.owner, t.owner), (.slot, t.slot), (.pending, t.pending),
      (.delivered, t.delivered), (.dropped, t.dropped),
    ]
  }

  public var bindingColumns: [(BindingField, [UInt64])] {
    [(.page, bindings.page), (.capability, bindings.capability), (.rights, bindings.rights)]
  }

  /// The fields where `self` and `other` differ, as `name: mine → theirs`
  /// lines (names as in ``wordNames(bounds:)``); empty when equal.
  public func differences(from other: Self) -> [String] {
    guard bounds == other.bounds else { return ["bounds: \(bounds) → \(other.bounds)"] }
    var lines: [String] = []
    if firstPage != other.firstPage { lines.append("firstPage: \(firstPage) → \(other.firstPage)") }
    let names = Self.wordNames(bounds: bounds)
    for (i, (a, b)) in zip(words, other.words).enumerated() where a != b {
      lines.append("\(names[i]): \(WordFormat.text(a)) → \(WordFormat.text(b))")
    }
    return lines
  }
}

/// How words are written for people: `none`, decimal below 2^32, hex above.
public enum WordFormat {
  public static func text(_ value: UInt64) -> String {
    if value == ExoABI.none { return "none" }
    if value == asynchronousCaller { return "asynchronousCaller" }
    if value < 1 << 32 { return String(value) }
    return "0x" + String(value, radix: 16)
  }
}
