import ExoABI

/// The libOS's side of revocation: which pages to give back when the
/// kernel asks, and how to bring its own tables back in line with what the
/// kernel took by force. The kernel's calls for it (revocation requests,
/// `revocationReturn`, the repossession vector and the upcalls) come with
/// the revocation mechanism; these are the policies they call.
extension LibOS {
  /// The program slots to give back for a request of `count` pages, best
  /// first: only pages this environment owns outright (its root capability,
  /// shared with no fork relative, not the libOS's own stacks), clean ones
  /// (never written since mapped: nothing is lost) before dirty ones, and
  /// the least recently used first within each.
  public func revocationVictims(count: Int) -> [Int] {
    var candidates: [Int] = []
    for s in 0..<userSlots {
      let r = slots[s]
      guard r.page != none, !r.isPrivate, capability(r.capability, .owner) == me,
        capability(r.capability, .parent) == none, capability(r.capability, .count) == 1,
        capability(r.capability, .children) == 0, page(r.page, .mappings) == 1
      else { continue }
      candidates.append(s)
    }
    candidates.sort { a, b in
      let (x, y) = (slots[a], slots[b])
      if x.dirty != y.dirty { return !x.dirty }
      return x.lastUse < y.lastUse
    }
    return Array(candidates.prefix(count))
  }

  /// After the kernel repossessed `pages`: forgets every slot that mapped
  /// one of them (the kernel removed the bindings and deleted the
  /// capabilities) and every retired capability that is gone. A slot that
  /// lost a clean page becomes demand-allocated again (it read as zeros
  /// and will again); one that lost a dirty page is returned as lost: its
  /// contents are gone and the next access faults. The libOS never touches
  /// a repossessed page again: no record names it any more.
  @discardableResult
  public func reconcile(repossessed pages: [UInt64]) -> [Int] {
    var lost: [Int] = []
    for s in 0..<bounds.windowSlots where slots[s].page != none && pages.contains(slots[s].page) {
      let clean = !slots[s].dirty
      let demand = slots[s].demand
      slots[s] = SlotRecord()
      slots[s].demand = demand || clean
      if !clean { lost.append(s) }
    }
    retired.removeAll { c in
      capability(c, .owner) != me || capability(c, .kind) == CapabilityKind.empty.rawValue
    }
    return lost
  }
}
