import ExoABI
import ExoSpec

/// The transition properties of packet filters (``TransitionProperty``).
extension Relation {
  var F: Int { pre.bounds.filters }

  /// The record of filter `f` (not its frame counters) differs.
  func filterRecordChanged(_ f: Int) -> B {
    let t0 = pre.filters
    let t1 = post.filters
    var changed = d.or(
      d.ne(t0.state[f], t1.state[f]), d.ne(t0.owner[f], t1.owner[f]), d.ne(t0.slot[f], t1.slot[f]))
    for i in 0..<PacketFilter.wordCount {
      changed = d.or(changed, d.ne(a.filterWord(f, i), b.filterWord(f, i)))
    }
    return changed
  }

  func filterChangedByOwner() -> B {
    a.all(F) { f in
      let owner = pre.filters.owner[f]
      let slot = pre.filters.slot[f]
      let bufferIndex = d.add(d.mul(owner, UInt64(a.WS)), slot)
      func writable(_ v: View<D>) -> B {
        d.and(
          d.and(d.ult(owner, w(E)), d.ult(slot, w(a.WS))),
          d.ne(d.read(v.s.bindings.page, bufferIndex, default: none), none),
          d.has(d.read(v.s.bindings.rights, bufferIndex, default: w(0)), Rights.write.rawValue))
      }
      let claimed = d.and(a.filterIs(f, .free), isActor(post.filters.owner[f]))
      let lost = d.and(
        b.filterIs(f, .free), d.or(d.not(b.isLive(owner)), d.and(writable(a), d.not(writable(b)))))
      return a.implies(filterRecordChanged(f), d.or(isActor(owner), claimed, lost))
    }
  }

  func frameGoesToMatchingFilter() -> B {
    guard step.transition == .event(.frameArrival) else { return d.bool(true) }
    let matches = step.arguments[0]
    func matching(_ j: Int) -> B {
      d.and(
        a.filterIs(j, .active), d.ne(d.bitAnd(matches, w(Int(UInt64(1) << UInt64(j)))), w(0)))
    }
    let t0 = pre.filters
    let t1 = post.filters
    var earlier = d.bool(false)
    var holds = d.bool(true)
    for j in 0..<F {
      let chosen = d.and(matching(j), d.not(earlier))
      let touched = d.or(
        d.ne(t0.pending[j], t1.pending[j]), d.ne(t0.delivered[j], t1.delivered[j]),
        d.ne(t0.dropped[j], t1.dropped[j]))
      holds = d.and(holds, a.implies(touched, chosen))
      holds = d.and(holds, d.not(filterRecordChanged(j)))
      holds = d.and(holds, a.implies(d.eq(step.outcome.value, w(j)), chosen))
      earlier = d.or(earlier, matching(j))
    }
    // Unclaimed frames are counted only when no filter matched.
    let unclaimed = d.ne(pre.unclaimedFrames, post.unclaimedFrames)
    return d.and(holds, a.implies(unclaimed, d.not(earlier)))
  }

  func transmitReadsBoundPage() -> B {
    guard step.transition == .call(.frameTransmit) else { return d.bool(true) }
    let slot = step.arguments[0]
    let length = step.arguments[1]
    let x = pre.current
    let i = d.add(d.mul(x, UInt64(a.WS)), slot)
    let bound = d.and(
      d.and(d.ult(x, w(E)), d.ult(slot, w(a.WS))),
      d.ne(d.read(pre.bindings.page, i, default: none), none),
      d.has(d.read(pre.bindings.rights, i, default: w(0)), Rights.read.rawValue))
    let frame = d.and(
      d.uge(length, w(PacketFilter.minimumFrameLength)),
      d.ule(length, w(PacketFilter.maximumFrameLength)))
    return a.implies(d.eq(step.outcome.status, w(0)), d.and(bound, frame))
  }

  func transmitOnlyAsFilterOwner() -> B {
    guard step.transition == .call(.frameTransmit) else { return d.bool(true) }
    let owns = any(F) { j in d.and(a.filterIs(j, .active), isActor(pre.filters.owner[j])) }
    return a.implies(d.eq(step.outcome.status, w(0)), owns)
  }
}
