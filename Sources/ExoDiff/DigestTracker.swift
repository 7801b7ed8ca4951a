import ExoABI
import ExoSpec

/// Keeps `InfoDigest` of a spec state up to date by comparing each table
/// column with the previous snapshot: a column that shares its storage with
/// the snapshot is unchanged (copy on write), one that does not is compared
/// word by word and only changed words are rehashed. The same value as
/// `ConcreteState.digest`, at a fraction of the cost when few words change.
public struct DigestTracker {
  public private(set) var value: UInt64
  var snapshot: ConcreteState
  let layout: InfoLayout

  public init(_ state: ConcreteState) {
    snapshot = state
    value = state.digest
    layout = InfoLayout(bounds: state.bounds)
  }

  /// The digest of `state`, which must have the snapshot's bounds.
  public mutating func update(to state: ConcreteState) -> UInt64 {
    precondition(state.bounds == snapshot.bounds && state.firstPage == snapshot.firstPage)
    var d = InfoDigest.resuming(value)
    let l = layout
    func header(_ field: InfoHeader, _ old: UInt64, _ new: UInt64) {
      if old != new { d.replace(index: l.offset(field) / 8, old: old, new: new) }
    }
    header(.current, snapshot.current, state.current)
    header(.currentSlice, snapshot.currentSlice, state.currentSlice)
    header(.ticks, snapshot.tickCount, state.tickCount)
    header(.unclaimedFrames, snapshot.unclaimedFrames, state.unclaimedFrames)
    func column(_ old: [UInt64], _ new: [UInt64], _ offset: (Int) -> Int) {
      old.withUnsafeBufferPointer { o in
        new.withUnsafeBufferPointer { n in
          guard o.baseAddress != n.baseAddress else { return }
          for i in 0..<n.count where o[i] != n[i] {
            d.replace(index: offset(i) / 8, old: o[i], new: n[i])
          }
        }
      }
    }
    for (old, new) in zip(snapshot.environmentColumns, state.environmentColumns) {
      column(old.1, new.1) { l.offset(environment: $0, new.0) }
    }
    column(snapshot.slices, state.slices) { l.offset(slice: $0) }
    for (old, new) in zip(snapshot.pageColumns, state.pageColumns) {
      column(old.1, new.1) { l.offset(page: $0, new.0) }
    }
    for (old, new) in zip(snapshot.capabilityColumns, state.capabilityColumns) {
      column(old.1, new.1) { l.offset(capability: $0, new.0) }
    }
    let w = state.bounds.windowSlots
    for (old, new) in zip(snapshot.bindingColumns, state.bindingColumns) {
      column(old.1, new.1) { l.offset(binding: $0 / w, slot: $0 % w, new.0) }
    }
    for (old, new) in zip(snapshot.revocationColumns, state.revocationColumns) {
      column(old.1, new.1) { l.offset(revocation: $0, new.0) }
    }
    let p = state.bounds.pages
    column(snapshot.repossessions, state.repossessions) {
      l.offset(repossession: $0 / p, entry: $0 % p)
    }
    for (old, new) in zip(snapshot.filterColumns, state.filterColumns) {
      column(old.1, new.1) { l.offset(filter: $0, new.0) }
    }
    let n = PacketFilter.wordCount
    column(snapshot.filterWords, state.filterWords) { l.offset(filter: $0 / n, word: $0 % n) }
    snapshot = state
    value = d.value
    return value
  }
}
