import ExoABI
import ExoSpec

/// The host's model of what user code can see of memory, for the
/// differential tester's probes: which window addresses each environment
/// may load from, store to and run (from the spec's bindings), and the words
/// the probes stored in each page since it was allocated (a fresh page
/// reads zero; every environment bound to a page sees the others' stores).
/// The spec's reads of user memory see the same bytes (``ShadowMemory``).
///
/// The kernel itself writes only exception and upcall frames into user
/// memory, on an environment's handler stack, and only where that
/// environment may write; those words become unknown (any value reads)
/// wherever a frame could have gone. Frames stack: while an environment has
/// not run since a frame was delivered to it, the next goes below that one
/// (docs/ABI.md "exception"), so the zone of each environment reaches down
/// as far as the frames that may have piled up since it last ran. A frame
/// written anywhere else shows as a word that changed.
public struct Shadow: Sendable {
  /// Per page in use: the words stored since it was allocated (missing
  /// words read zero), the byte ranges a frame may have overwritten, and
  /// the words stored since (known again).
  struct Contents: Sendable {
    var words: [UInt64: UInt64] = [:]
    var unknown: [Range<UInt64>] = []
    var storedSince: Set<UInt64> = []

    func isUnknown(_ offset: UInt64) -> Bool {
      !storedSince.contains(offset) && unknown.contains { $0.contains(offset) }
    }

    mutating func forget(_ range: Range<UInt64>) {
      storedSince = storedSince.filter { !range.contains($0) }
      var merged = range
      unknown.removeAll { r in
        guard
          r.overlaps(merged) || r.upperBound == merged.lowerBound
            || merged.upperBound == r.lowerBound
        else { return false }
        merged = min(r.lowerBound, merged.lowerBound)..<max(r.upperBound, merged.upperBound)
        return true
      }
      unknown.append(merged)
    }
  }
  var pages: [UInt64: Contents] = [:]

  /// Per environment: the handler stack top its frame zone was computed
  /// for, and the lowest address a frame may have reached since it last
  /// ran (`nil`: the whole span below the top).
  var zones: [UInt64: (top: UInt64, lowest: UInt64?)] = [:]
  /// Frames one step may deliver to one environment, at most (a tick may
  /// raise several upcalls): the zone grows by this many each step.
  static let framesPerStep = 4

  public init() {}

  /// Follows a step from `before` to `after`: pages newly owned were
  /// allocated (and read zero), pages no longer owned are dropped, and the
  /// frame zone of every environment that can take a frame becomes unknown.
  public mutating func follow(from before: ConcreteState, to after: ConcreteState) {
    let first = after.firstPage
    for i in 0..<after.bounds.pages {
      // Only a page that changed between free and owned is touched: no
      // store or frame reaches a free page, so free pages have no entry.
      let was = before.pages.owner[i] == ExoABI.none
      let now = after.pages.owner[i] == ExoABI.none
      guard was != now else { continue }
      pages[first + UInt64(i)] = now ? nil : Contents()
    }
    for e in 0..<after.bounds.environments {
      let top = after.environments.handlerStack[e]
      let oldTop = before.environments.handlerStack[e]
      guard top != 0 || oldTop != 0 else {
        zones[UInt64(e)] = nil
        continue
      }
      let zone = grow(UInt64(e), top: top)
      markFrames(of: e, below: oldTop, down: zones[UInt64(e)]?.top == oldTop ? zone : nil, before)
      markFrames(of: e, below: top, down: zone, after)
      // Running, it has left the handler stack (the agent's entries switch
      // stacks): the next frame goes just below the top again.
      if after.current == UInt64(e) {
        zones[UInt64(e)] = (top, ExceptionFrame.placement(below: top))
      }
    }
    markDeliveredFrames(from: before, to: after)
  }

  /// Marks unknown the words a frame delivered in the step may have
  /// written: the header and the longest frame at the start of the buffer
  /// page of each filter whose `delivered` count changed. (The bytes are
  /// not predicted: the state says that a frame went there, not which.)
  mutating func markDeliveredFrames(from before: ConcreteState, to after: ConcreteState) {
    let w = after.bounds.windowSlots
    for j in 0..<after.bounds.filters
    where after.filters.delivered[j] != before.filters.delivered[j] {
      let owner = after.filters.owner[j]
      let slot = after.filters.slot[j]
      guard owner < UInt64(after.bounds.environments), slot < UInt64(w) else { continue }
      let page = after.bindings.page[Int(owner) * w + Int(slot)]
      guard page != ExoABI.none else { continue }
      let end = UInt64(PacketFilter.deliveryHeaderBytes + PacketFilter.maximumFrameLength)
      pages[page, default: Contents()].forget(0..<((end + 7) & ~7))
    }
  }

  /// The lowest address `e`'s frames may reach after this step (`nil`: the
  /// whole span), growing its zone by ``framesPerStep`` frames.
  mutating func grow(_ e: UInt64, top: UInt64) -> UInt64? {
    var zone = zones[e] ?? (top, ExceptionFrame.placement(below: top))
    if zone.top != top {
      // A new top while frames may be piled on the old stack: where the
      // next goes depends on them; take the whole span.
      zone = (top, zones[e] == nil ? ExceptionFrame.placement(below: top) : nil)
    }
    if var lowest = zone.lowest {
      for _ in 0..<Self.framesPerStep {
        let start = ExceptionFrame.deliveryStart(top: top, interruptedRsp: lowest)
        guard start == lowest else {
          zone.lowest = nil
          break
        }
        lowest = ExceptionFrame.placement(below: start)
      }
      if zone.lowest != nil { zone.lowest = lowest }
    }
    zones[e] = zone
    return zone.lowest
  }

  /// Marks unknown, in `state`, the bytes from `lowest` (the whole span if
  /// nil) up to `top` that lie in slots `e` has bound with write.
  mutating func markFrames(
    of e: Int, below top: UInt64, down lowest: UInt64?, _ state: ConcreteState
  ) {
    guard top != 0 else { return }
    let w = state.bounds.windowSlots
    let low = lowest ?? (top &- ExceptionFrame.handlerStackSpan)
    let bottom = max(low, UserLayout.windowBase)
    guard top > bottom else { return }
    var slot = (bottom - UserLayout.windowBase) >> 12
    while slot < UInt64(w) {
      let slotStart = UserLayout.windowBase + slot * 4096
      guard slotStart < top else { break }
      let b = e * w + Int(slot)
      let page = state.bindings.page[b]
      if page != ExoABI.none, state.bindings.rights[b] & Rights.write.rawValue != 0 {
        let from = max(bottom, slotStart) - slotStart
        let to = min(top, slotStart + 4096) - slotStart
        pages[page, default: Contents()].forget((from & ~7)..<to)
      }
      slot += 1
    }
  }

  /// Whether the word at `address` of `e`'s window may hold a frame the
  /// kernel wrote (it is in a frame zone and no store has been seen since).
  public func mayHoldFrame(_ address: UInt64, of e: UInt64, in state: ConcreteState) -> Bool {
    let w = state.bounds.windowSlots
    guard e < UInt64(state.bounds.environments),
      let slot = UserLayout.windowSlot(of: VirtualAddress(rawValue: address), slots: w)
    else { return false }
    let page = state.bindings.page[Int(e) * w + slot]
    guard page != ExoABI.none else { return false }
    return pages[page]?.isUnknown(address & 4095 & ~7) ?? false
  }

  /// Byte `offset` of physical page `page` as the kernel holds it, or nil
  /// where it is not known (a frame may have been written over it since
  /// the last store). A page holds what the probes stored since its
  /// allocation, zero elsewhere; past the page reads zero, as the kernel's
  /// `pageByte` does.
  public func byte(_ page: UInt64, _ offset: UInt64) -> UInt8? {
    guard offset < pageSize else { return 0 }
    let contents = pages[page] ?? Contents()
    let word = offset & ~7
    if contents.isUnknown(word) { return nil }
    return UInt8(truncatingIfNeeded: (contents.words[word] ?? 0) >> (8 * (offset & 7)))
  }

  /// What `probes`, made by the environment running in `state`, show; the
  /// stores are remembered.
  public mutating func run(_ probes: [DiffProbe], in state: ConcreteState) -> [DiffProbeOutcome] {
    let e = state.current
    return probes.map { probe in
      guard e < UInt64(state.bounds.environments),
        let slot = UserLayout.windowSlot(
          of: VirtualAddress(rawValue: probe.address), slots: state.bounds.windowSlots)
      else { return .faulted }  // outside the window nothing is mapped near it
      let b = Int(e) * state.bounds.windowSlots + slot
      let page = state.bindings.page[b]
      guard page != ExoABI.none else { return .faulted }
      let offset = probe.address & 4095 & ~7
      switch probe.kind {
      case .read:
        let contents = pages[page] ?? Contents()
        if contents.isUnknown(offset) { return .read(nil) }
        return .read(contents.words[offset] ?? 0)
      case .write:
        guard state.bindings.rights[b] & Rights.write.rawValue != 0 else { return .faulted }
        pages[page, default: Contents()].words[offset] = probe.value
        pages[page]?.storedSince.insert(offset)
        return .wrote
      case .execute:
        // Bound means readable; the agent runs only two zero bytes.
        let fetch: DiffProbeOutcome =
          state.bindings.rights[b] & Rights.execute.rawValue != 0 ? .executed : .faulted
        let contents = pages[page] ?? Contents()
        if contents.isUnknown(offset) { return .declinedOr(fetch) }
        return (contents.words[offset] ?? 0) & 0xFFFF == 0 ? fetch : .declined
      }
    }
  }
}
