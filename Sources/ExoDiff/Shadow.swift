import ExoABI
import ExoSpec

/// The host's model of what user code can see of memory, for the
/// differential tester's probes: which window addresses each environment
/// may load from, store to and run (from the spec's bindings), and the words
/// the probes stored in each page since it was allocated (a fresh page
/// reads zero; every environment bound to a page sees the others' stores).
///
/// The kernel itself writes only exception and upcall frames into user
/// memory, just below an environment's handler stack, and only where that
/// environment may write; those words become unknown (any value reads)
/// wherever a frame could have gone. A frame written anywhere else shows as
/// a word that changed.
public struct Shadow: Sendable {
  /// Per page in use: the words stored since it was allocated (missing
  /// words read zero), and the word offsets a frame may have overwritten.
  struct Contents: Sendable {
    var words: [UInt64: UInt64] = [:]
    var unknown: Set<UInt64> = []
  }
  var pages: [UInt64: Contents] = [:]

  public init() {}

  /// Follows a step from `before` to `after`: pages newly owned were
  /// allocated (and read zero), pages no longer owned are dropped, and the
  /// frame area of every environment that can take a frame becomes unknown.
  public mutating func follow(from before: ConcreteState, to after: ConcreteState) {
    let first = after.firstPage
    for i in 0..<after.bounds.pages {
      let was = before.pages.owner[i]
      let now = after.pages.owner[i]
      if now == ExoABI.none {
        pages[first + UInt64(i)] = nil
      } else if was == ExoABI.none {
        pages[first + UInt64(i)] = Contents()
      }
    }
    markFrames(before)
    markFrames(after)
  }

  /// Marks unknown the words of the frame each environment of `state`
  /// would get, where its slot is bound with write.
  mutating func markFrames(_ state: ConcreteState) {
    let w = state.bounds.windowSlots
    for e in 0..<state.bounds.environments {
      let top = state.environments.handlerStack[e]
      guard top != 0 else { continue }
      let frame = ExceptionFrame.placement(below: top)
      guard frame >= UserLayout.windowBase else { continue }
      let slot = (frame - UserLayout.windowBase) >> 12
      guard slot < UInt64(w) else { continue }
      let b = e * w + Int(slot)
      let page = state.bindings.page[b]
      guard page != ExoABI.none, state.bindings.rights[b] & Rights.write.rawValue != 0 else {
        continue
      }
      let start = frame & 4095
      for offset in stride(from: start & ~7, to: start + ExceptionFrame.size, by: 8) {
        pages[page, default: Contents()].unknown.insert(offset)
      }
    }
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
        if contents.unknown.contains(offset) { return .read(nil) }
        return .read(contents.words[offset] ?? 0)
      case .write:
        guard state.bindings.rights[b] & Rights.write.rawValue != 0 else { return .faulted }
        pages[page, default: Contents()].words[offset] = probe.value
        pages[page]?.unknown.remove(offset)
        return .wrote
      case .execute:
        // Bound means readable; the agent runs only two zero bytes.
        let fetch: DiffProbeOutcome =
          state.bindings.rights[b] & Rights.execute.rawValue != 0 ? .executed : .faulted
        let contents = pages[page] ?? Contents()
        if contents.unknown.contains(offset) { return .declinedOr(fetch) }
        return (contents.words[offset] ?? 0) & 0xFFFF == 0 ? fetch : .declined
      }
    }
  }
}
