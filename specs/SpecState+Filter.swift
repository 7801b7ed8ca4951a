import ExoABI

/// Packet filters, the secure bindings of the network (docs/network.md,
/// docs/ABI.md "Packet filters"): `filterTest`, `filterInstall`,
/// `filterRelease`, `filterRemove`, `frameTransmit` (under the transmit
/// rule `mayTransmit`) and the kernel event `frameArrival`.
///
/// A filter slot is free, `building` (its owner writes its tests one call
/// at a time, since a filter's 17 words do not fit in the argument
/// registers) or `active` (installed: it receives the frames it matches).
/// An active filter's buffer is window slot `slot` of its owner, bound
/// writable; the filter lives as long as that binding does (removing the
/// binding or its write right removes the filter) and as long as its owner
/// is live.
extension SpecState {
  @inline(__always) func word(_ value: FilterState) -> W { domain.word(value.rawValue) }
  @inline(__always) func filterStateOf(_ f: W) -> W {
    domain.read(filters.state, f, default: zero)
  }
  @inline(__always) func filterOwnerOf(_ f: W) -> W {
    domain.read(filters.owner, f, default: none)
  }
  /// Word `i` of filter slot `f`'s encoding (`f` may be symbolic; zero
  /// past the table).
  @inline(__always) func filterWord(_ f: W, _ i: Int) -> W {
    Self.filterWord(domain, filterWords, f, i, slots: bounds.filters)
  }
  /// Word `i` of filter slot `f` of the column `words` (``SpecDomain``'s
  /// `word(_:ofRecord:in:stride:count:)`: a symbolic `f` is compared with
  /// each slot number, never multiplied; plain values read it at once).
  @inline(__always) static func filterWord(
    _ d: D, _ words: D.Column, _ f: W, _ i: Int, slots: Int
  ) -> W {
    d.word(i, ofRecord: f, in: words, stride: PacketFilter.wordCount, count: slots)
  }
  /// Word `i` of filter slot `f` becomes `value` where the path condition
  /// holds (nothing when `f` is past the table).
  mutating func setFilterWord(_ f: W, _ i: Int, _ value: W) {
    let d = domain
    for j in 0..<bounds.filters {
      d.when(d.eq(f, word(UInt64(j)))) {
        d.assign(&filterWords[j * PacketFilter.wordCount + i], value)
      }
    }
  }
  /// Word `i` of filter slot `j`'s encoding (`j` a constant).
  @inline(__always) func filterWord(at j: Int, _ i: Int) -> W {
    filterWords[j * PacketFilter.wordCount + i]
  }
  /// The binding index of active filter `j`'s buffer.
  @inline(__always) func filterBinding(at j: Int) -> W {
    binding(filters.owner[j], filters.slot[j])
  }

  /// `filterTest(f, i, first, second)`: writes test `i` of the caller's
  /// filter slot `f` (a free slot becomes the caller's, `building`).
  public mutating func filterTest(filter f: W, index i: W, first: W, second: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(f, word(bounds.filters)), else: .outOfRange)
    let state = filterStateOf(f)
    v.require(
      d.or(
        d.eq(state, word(FilterState.free)),
        d.and(d.eq(state, word(FilterState.building)), d.eq(filterOwnerOf(f), current))),
      else: .slotInUse)
    v.require(d.ult(i, word(PacketFilter.maximumTests)), else: .outOfRange)
    // The test alone, as a filter of one test: the decoder's rules name it.
    let one = PacketFilter.check(d) { k in
      k == 0 ? d.word(1) : k == 1 ? first : k == 2 ? second : d.word(0)
    }
    v.require(one.ok, else: .invalidArgument)
    return finish(v) { s in
      d.write(&s.filters.state, f, s.word(FilterState.building))
      d.write(&s.filters.owner, f, s.current)
      for t in 0..<PacketFilter.maximumTests {
        d.when(d.eq(i, s.word(UInt64(t)))) {
          s.setFilterWord(f, 1 + 2 * t, first)
          s.setFilterWord(f, 2 + 2 * t, second)
        }
      }
      return s.zero
    }
  }

  /// `filterInstall(f, count, slot)`: the caller's `building` filter `f`
  /// with its first `count` tests becomes active, its frames delivered to
  /// its window slot `slot`.
  public mutating func filterInstall(filter f: W, count: W, slot: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(f, word(bounds.filters)), else: .outOfRange)
    let state = filterStateOf(f)
    v.require(d.ne(state, word(FilterState.free)), else: .slotEmpty)
    v.require(
      d.and(d.eq(state, word(FilterState.building)), d.eq(filterOwnerOf(f), current)),
      else: .slotInUse)
    // The whole filter: too many tests, or a test never written (its words
    // read zero: width 0) or malformed.
    // Locals only (no copy of the state): the columns are read in place.
    let words = filterWords
    let states = filters.state
    let n = PacketFilter.wordCount
    let slots = bounds.filters
    func candidate(_ k: Int) -> W {
      k == 0 ? count : Self.filterWord(d, words, f, k, slots: slots)
    }
    v.require(PacketFilter.check(d, candidate).ok, else: .invalidArgument)
    v.require(d.ult(slot, word(bounds.windowSlots)), else: .outOfRange)
    let b = binding(current, slot)
    v.require(d.ne(pageOf(binding: b), none), else: .slotEmpty)
    v.require(d.has(rightsOf(binding: b), Rights.write.rawValue), else: .insufficientRights)
    var overlaps = d.bool(false)
    for j in 0..<bounds.filters {
      let other = d.and(
        d.eq(states[j], d.word(FilterState.active.rawValue)), d.ne(d.word(UInt64(j)), f))
      overlaps = d.or(
        overlaps, d.and(other, then: { d.overlaps(candidate, { i in words[j * n + i] }) }))
    }
    v.require(d.not(overlaps), else: .overlap)
    return finish(v) { s in
      s.setFilterWord(f, 0, count)
      d.write(&s.filters.state, f, s.word(FilterState.active))
      d.write(&s.filters.slot, f, slot)
      d.write(&s.filters.pending, f, s.zero)
      d.write(&s.filters.delivered, f, s.zero)
      d.write(&s.filters.dropped, f, s.zero)
      return s.zero
    }
  }

  /// `filterRelease(f)`: the caller has consumed the frame waiting in its
  /// active filter `f`'s buffer. Value: the filter's drop count.
  public mutating func filterRelease(filter f: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    requireOwnFilter(&v, f)
    v.require(d.eq(filterStateOf(f), word(FilterState.active)), else: .wrongState)
    return finish(v) { s in
      d.write(&s.filters.pending, f, s.zero)
      return d.read(s.filters.dropped, f, default: s.zero)
    }
  }

  /// `filterRemove(f)`: frees the caller's filter slot `f`.
  public mutating func filterRemove(filter f: W) -> Outcome<D> {
    var v = begin()
    requireOwnFilter(&v, f)
    return finish(v) { s in
      s.freeFilter(f)
      return s.zero
    }
  }

  /// `f` names a filter slot that is not free and is the caller's.
  @inline(__always) func requireOwnFilter(_ v: inout Verdict<D>, _ f: W) {
    let d = domain
    v.require(d.ult(f, word(bounds.filters)), else: .outOfRange)
    v.require(d.ne(filterStateOf(f), word(FilterState.free)), else: .slotEmpty)
    v.require(d.eq(filterOwnerOf(f), current), else: .notPermitted)
  }

  /// Filter slot `f` becomes free: no owner, no buffer, no frames. Its
  /// words keep their values (a slot's words say nothing while it is not
  /// active, and `filterInstall` checks every word it will use).
  mutating func freeFilter(_ f: W) {
    let d = domain
    d.write(&filters.state, f, word(FilterState.free))
    d.write(&filters.owner, f, none)
    d.write(&filters.slot, f, none)
    d.write(&filters.pending, f, zero)
    d.write(&filters.delivered, f, zero)
    d.write(&filters.dropped, f, zero)
  }

  /// Filter slot `j` (a constant) becomes free, as ``freeFilter(_:)``.
  mutating func freeFilter(at j: Int) {
    let d = domain
    d.assign(&filters.state[j], word(FilterState.free))
    d.assign(&filters.owner[j], none)
    d.assign(&filters.slot[j], none)
    d.assign(&filters.pending[j], zero)
    d.assign(&filters.delivered[j], zero)
    d.assign(&filters.dropped[j], zero)
  }

  /// Every filter of environment `e` is removed (it stops being live).
  mutating func removeFilters(of e: W) {
    let d = domain
    for j in 0..<bounds.filters {
      d.when(d.and(d.ne(filters.state[j], word(FilterState.free)), d.eq(filters.owner[j], e))) {
        freeFilter(at: j)
      }
    }
  }

  /// Every active filter whose buffer is binding `b` is removed: the
  /// binding is being removed or loses its write right.
  mutating func removeFilters(bufferedAt b: W) {
    let d = domain
    for j in 0..<bounds.filters {
      d.when(
        d.and(
          d.eq(filters.state[j], word(FilterState.active)), then: { d.eq(filterBinding(at: j), b) })
      ) { freeFilter(at: j) }
    }
  }

  /// Every active filter whose buffer slot is empty is removed: one sweep
  /// after a loop of ``unbind(_:)``, in place of a sweep per binding.
  mutating func removeFiltersWithoutBuffer() {
    let d = domain
    for j in 0..<bounds.filters {
      let orphaned = d.and(
        d.eq(filters.state[j], word(FilterState.active)),
        then: { d.eq(pageOf(binding: filterBinding(at: j)), none) })
      d.when(orphaned) { freeFilter(at: j) }
    }
  }

  /// The kernel event **frameArrival** for a frame of `length` bytes,
  /// `byte(i)` its byte `i`: the first active filter that matches it
  /// receives it (``frameArrival(matches:)``). The NIC driver runs this.
  public mutating func frameArrival(length: W, byte: (W) -> W) -> Outcome<D> {
    let vector = matchVector { j in
      domain.frameMatches({ i in self.filterWord(at: j, i) }, length: length, byte: byte)
    }
    return frameArrival(matches: vector)
  }

  /// The difftest's event **frameInjected** (`diffFrame`): the frame of
  /// `seed` and `length` aimed at filter slot `f` (``DiffFrame``) arrives
  /// (``frameArrival(length:byte:)``).
  public mutating func frameInjected(seed: W, length: W, filter f: W) -> Outcome<D> {
    let d = domain
    // The aimed filter's words, read from a copy of the column (the
    // arrival changes no filter's words).
    let words = filterWords
    let slots = bounds.filters
    func aim(_ i: Int) -> W { Self.filterWord(d, words, f, i, slots: slots) }
    return frameArrival(length: DiffFrame.length(d, length)) { p in
      DiffFrame.byte(d, seed: seed, aim: aim, at: p)
    }
  }

  /// Bit `j` set where `matches(j)`, for each filter slot `j`.
  func matchVector(_ matches: (Int) -> B) -> W {
    let d = domain
    var vector = zero
    for j in 0..<bounds.filters {
      vector = d.add(vector, d.ite(matches(j), word(UInt64(1) << UInt64(j)), zero))
    }
    return vector
  }

  /// Whether bit `j` of `vector` is set.
  @inline(__always) func bit(_ vector: W, _ j: Int) -> B {
    domain.ne(domain.bitAnd(vector, word(UInt64(1) << UInt64(j))), zero)
  }

  /// **frameArrival** given which filter slots match the frame (bit `j` of
  /// `matches` for slot `j`; bits of slots that are not active are
  /// ignored): the lowest active matching filter `j` gets the frame: if its
  /// buffer is free the frame is copied there (hook `frameDelivered`),
  /// `pending` becomes 1 and `delivered` grows; if a frame is still
  /// pending, the frame is dropped and `dropped` grows. A frame no active
  /// filter matches is counted in `unclaimedFrames` and dropped. Value: the
  /// filter slot, or `none`. Never fails.
  public mutating func frameArrival(matches: W) -> Outcome<D> {
    let d = domain
    let hit = d.first(bounds.filters) { j in
      d.and(d.eq(filters.state[j], word(FilterState.active)), bit(matches, j))
    }
    // Read before any write (a slot past the table reads its defaults).
    let f = hit.index
    let running = current
    let owner = filterOwnerOf(f)
    let pending = d.read(filters.pending, f, default: zero)
    let delivered = d.add(d.read(filters.delivered, f, default: zero), word(1))
    let copied = d.and(hit.found, d.eq(pending, zero))
    d.branch(
      hit.found,
      then: {
        d.branch(
          d.eq(pending, zero),
          then: {
            d.write(&filters.pending, f, word(1))
            d.write(&filters.delivered, f, delivered)
            d.frameDelivered(
              f, owner: owner, binding: binding(owner, d.read(filters.slot, f, default: none)),
              dropped: d.read(filters.dropped, f, default: zero))
          },
          else: {
            d.write(&filters.dropped, f, d.add(d.read(filters.dropped, f, default: zero), word(1)))
          })
      },
      else: { d.assign(&unclaimedFrames, d.add(unclaimedFrames, word(1))) })
    // The owner learns of a copied frame by an upcall unless it is the
    // one running (which polls `delivered`).
    d.when(d.and(copied, d.ne(owner, running))) { d.upcall(owner, .frameArrived, f, delivered) }
    return Outcome(status: zero, value: d.ite(hit.found, f, none))
  }

  /// The transmit rule (docs/ABI.md "Packet filters"): the current
  /// environment may send the frame of `length` bytes only if a reply to
  /// it would come back to it: the frame with its source and destination
  /// fields exchanged (``replyPosition(_:arp:)``) matches one of the sender's
  /// active filters.
  @inline(__always) public func mayTransmit(length: W, byte: (W) -> W) -> B {
    let d = domain
    let arp = isARP(byte)
    var allowed = d.bool(false)
    for j in 0..<bounds.filters {
      let mine = d.and(
        d.eq(filters.state[j], word(FilterState.active)), d.eq(filters.owner[j], current))
      allowed = d.or(
        allowed,
        d.and(mine) {
          d.frameMatches(
            { i in self.filterWord(at: j, i) }, length: length,
            byte: { p in
              // A byte the reply takes from past the frame's end is zero:
              // only bytes that are sent decide.
              let source = self.replyPosition(p, arp: arp)
              return d.ite(d.ult(source, length), byte(source), self.zero)
            })
        })
    }
    return allowed
  }

  /// `frameTransmit(slot, length)`: the first `length` bytes of the page
  /// the caller has bound (readable) at window slot `slot` go out as one frame (hook
  /// `frameTransmitted`), if the transmit rule allows the caller to send
  /// them. No table changes: a frame the device cannot take is lost, as on
  /// a wire (the driver counts it).
  public mutating func frameTransmit(slot: W, length: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    v.require(d.ult(slot, word(bounds.windowSlots)), else: .outOfRange)
    let b = binding(current, slot)
    let page = pageOf(binding: b)
    v.require(d.ne(page, none), else: .slotEmpty)
    v.require(
      d.and(
        d.uge(length, word(UInt64(PacketFilter.minimumFrameLength))),
        d.ule(length, word(UInt64(PacketFilter.maximumFrameLength)))),
      else: .invalidArgument)
    // Every binding has `read` (memory rights), so the page is the caller's
    // to read.
    v.require(mayTransmit(length: length) { p in d.pageByte(page, p) }, else: .notPermitted)
    return finish(v) { s in
      s.domain.frameTransmitted(page: page, length: length)
      return s.zero
    }
  }

  /// Whether a frame is ARP (EtherType 0x0806 at bytes 12–13), given
  /// its bytes. A reply keeps bytes 12–13, so a frame and its reply agree.
  func isARP(_ byte: (W) -> W) -> B {
    let d = domain
    return d.and(d.eq(byte(word(12)), word(0x08)), d.eq(byte(word(13)), word(0x06)))
  }

  /// Where byte `p` of a reply comes from in the frame it answers: the
  /// Ethernet addresses (bytes 0–5 and 6–11) exchanged; in an ARP frame
  /// (`arp`) the sender's and the target's hardware addresses (22–27 and
  /// 32–37) and protocol addresses (28–31 and 38–41), in any other the
  /// IPv4 addresses (26–29 and 30–33) and the transport ports (34–35 and
  /// 36–37); every other byte in place. For either value of `arp` the map
  /// is its own inverse.
  func replyPosition(_ p: W, arp: B) -> W {
    let d = domain
    func swap(_ p: W, _ a: UInt64, _ b: UInt64, _ n: UInt64, _ rest: W) -> W {
      d.ite(
        d.inRange(p, a, a + n), d.add(p, word(b - a)),
        d.ite(d.inRange(p, b, b + n), d.sub(p, word(b - a)), rest))
    }
    let network = d.ite(
      arp, swap(p, 22, 32, 6, swap(p, 28, 38, 4, p)), swap(p, 26, 30, 4, swap(p, 34, 36, 2, p)))
    return swap(p, 0, 6, 6, network)
  }
}
