import ExoABI

#if canImport(ExoSpec)
  import ExoSpec
#endif

/// The invariants of the packet-filter table (docs/network.md).
extension View {
  var F: Int { s.bounds.filters }
  func filterWord(_ f: Int, _ i: Int) -> W { s.filterWords[f * PacketFilter.wordCount + i] }
  func filterIs(_ f: Int, _ state: FilterState) -> B {
    d.eq(s.filters.state[f], w(state.rawValue))
  }

  /// Each filter slot's state is a `FilterState`; a free slot has no
  /// owner, buffer or frames; a building one has no buffer and no frames;
  /// an active one's encoding is one the decoder accepts and at most one
  /// frame is pending. (The words of a slot that is not active are
  /// whatever was last written.)
  func filterRecords() -> B {
    let t = s.filters
    return all(F) { f in
      let free = d.and(
        d.and(d.eq(t.owner[f], none), d.eq(t.slot[f], none), d.eq(t.pending[f], w(0))),
        d.eq(t.delivered[f], w(0)), d.eq(t.dropped[f], w(0)))
      let building = d.and(
        d.and(d.eq(t.slot[f], none), d.eq(t.pending[f], w(0)), d.eq(t.delivered[f], w(0))),
        d.eq(t.dropped[f], w(0)))
      let active = d.and(
        PacketFilter.check(d, { i in filterWord(f, i) }).ok, d.ule(t.pending[f], w(1)))
      return d.and(
        d.ule(t.state[f], w(FilterState.active.rawValue)),
        implies(filterIs(f, .free), free),
        d.and(implies(filterIs(f, .building), building), implies(filterIs(f, .active), active)))
    }
  }

  /// The owner of every filter that is not free is a live environment.
  func filterOwnerLive() -> B {
    all(F) { f in implies(d.not(filterIs(f, .free)), isLive(s.filters.owner[f])) }
  }

  /// An active filter's buffer is a window slot its owner has bound with
  /// `write`.
  func filterBufferWritable() -> B {
    let t = s.filters
    return all(F) { f in
      implies(
        filterIs(f, .active),
        d.and(
          d.and(d.ult(t.owner[f], w(E)), d.ult(t.slot[f], w(WS))),
          {
            let b = d.add(d.mul(t.owner[f], UInt64(WS)), t.slot[f])
            return d.and(
              d.ne(d.read(s.bindings.page, b, default: none), none),
              d.has(d.read(s.bindings.rights, b, default: w(0)), Rights.write.rawValue))
          }()))
    }
  }

  /// No frame matches two active filters: installed filters are pairwise
  /// disjoint by the spec's overlap decision (`overlaps`, which is
  /// `filtersOverlap`, proved sound by the `packetFilter ⇒ overlapSound`
  /// obligation).
  func filtersDisjoint() -> B {
    all(F * F) { pair in
      let (i, j) = (pair / F, pair % F)
      guard i < j else { return d.bool(true) }
      return implies(
        d.and(filterIs(i, .active), filterIs(j, .active)),
        d.not(d.overlaps({ k in filterWord(i, k) }, { k in filterWord(j, k) })))
    }
  }
}
