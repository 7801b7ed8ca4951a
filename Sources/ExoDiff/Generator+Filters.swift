import ExoABI
import ExoSpec

/// The packet-filter calls of the generator: tests drawn from a small pool
/// of header fields, so that installs overlap (refused with `overlap`),
/// are disjoint, or are malformed (refused with `invalidArgument`).
extension Generator {
  /// Tests that real filters use, some of which overlap each other.
  static let filterTestPool: [PacketTest] = [
    PacketTest(offset: 12, width: 2, equals: 0x0800),  // IPv4
    PacketTest(offset: 12, width: 2, equals: 0x0806),  // ARP
    PacketTest(offset: 23, width: 1, equals: 0x11),  // UDP
    PacketTest(offset: 23, width: 1, equals: 0x01),  // ICMP
    PacketTest(offset: 36, width: 2, equals: 7),  // port 7
    PacketTest(offset: 36, width: 2, equals: 9),  // port 9
    PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x40),  // IPv4 version
    PacketTest(offset: 14, width: 1, mask: 0x0F, value: 0x05),  // no options
    PacketTest(offset: 0, width: 4, mask: 0xFFFF_FFFF, value: 0x5254_0012),  // a MAC
  ]
  /// Malformed tests, one per rule of the decoder.
  static let malformedTests: [PacketTest] = [
    PacketTest(offset: 0, width: 3, mask: 0xFF, value: 1),
    PacketTest(offset: 1512, width: 4, mask: 1, value: 1),
    PacketTest(offset: 30, width: 1, mask: 0x1FF, value: 0),
    PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x45),
  ]

  func filterSlots(where predicate: (Int) -> Bool) -> [UInt64] {
    (0..<bounds.filters).filter(predicate).map(UInt64.init)
  }
  func ownFilters(_ state: FilterState) -> [UInt64] {
    filterSlots {
      self.state.filters.state[$0] == state.rawValue && self.state.filters.owner[$0] == me
    }
  }
  /// Filter slots in use by other environments than the caller.
  func othersFilters() -> [UInt64] {
    filterSlots {
      self.state.filters.state[$0] != FilterState.free.rawValue
        && self.state.filters.owner[$0] != me
    }
  }
  /// How many leading tests of filter slot `f` have been written.
  func writtenTests(_ f: Int) -> Int {
    var n = 0
    while n < PacketFilter.maximumTests
      && state.filterWords[f * PacketFilter.wordCount + 1 + 2 * n] != 0
    {
      n += 1
    }
    return n
  }

  /// A `diffFrame`: mostly aimed at an active filter, now and then at any
  /// slot or none; lengths from a bare header to longer than the longest
  /// frame (cut to it).
  mutating func plausibleFrame() -> [UInt64] {
    let active = filterSlots { self.state.filters.state[$0] == FilterState.active.rawValue }
    let aim = chance(0.75) ? pick(active, or: 0) : UInt64(below(bounds.filters + 2))
    let length = UInt64(
      chance(0.1) ? below(PacketFilter.maximumFrameLength + 100) : 40 + below(100))
    return [random.next(), length, aim]
  }

  mutating func plausibleFilterArguments(_ call: Syscall) -> [UInt64]? {
    switch call {
    case .filterTest:
      // Now and then a slot installed or another's (refused: slotInUse).
      let free = filterSlots { self.state.filters.state[$0] == FilterState.free.rawValue }
      let taken = chance(0.03) ? ownFilters(.active) + othersFilters() : []
      guard let f = pick(taken) ?? pick(ownFilters(.building)) ?? pick(free) else { return nil }
      let index = min(writtenTests(Int(f)), PacketFilter.maximumTests - 1)
      let test =
        chance(0.1)
        ? pick(Self.malformedTests)! : pick(Self.filterTestPool)!
      let words = test.words
      return FilterTestArguments(filter: f, index: UInt64(index), first: words[0], second: words[1])
        .arguments
    case .filterInstall:
      // Now and then a slot installed or another's (refused: slotInUse).
      let taken = chance(0.03) ? ownFilters(.active) + othersFilters() : []
      guard let f = pick(taken) ?? pick(ownFilters(.building)) else { return nil }
      let written = writtenTests(Int(f))
      let count = UInt64(chance(0.1) ? written + 1 : written)
      let writable = boundSlots(of: me).filter {
        state.bindings.rights[bindingIndex(me, Int($0))] & Rights.write.rawValue != 0
      }
      let slot = chance(0.85) ? pick(writable, or: 0) : pick(boundSlots(of: me), or: 0)
      return FilterInstallArguments(filter: f, count: count, slot: slot).arguments
    case .filterRelease:
      // Now and then one still being written (refused: wrongState), or
      // another environment's (notPermitted).
      let roll = below(20)
      let refused = roll < 2 ? ownFilters(.building) : roll < 3 ? othersFilters() : []
      guard let f = pick(refused) ?? pick(ownFilters(.active)) else { return nil }
      return FilterReleaseArguments(filter: f).arguments
    case .filterRemove:
      // Now and then another environment's (refused: notPermitted).
      let others = chance(0.05) ? othersFilters() : []
      guard let f = pick(others) ?? pick(ownFilters(.active) + ownFilters(.building)) else {
        return nil
      }
      return FilterRemoveArguments(filter: f).arguments
    case .frameTransmit:
      // From a bound slot, whatever its page holds (mostly refused:
      // notPermitted; a frame stored to be sent comes from frameStore),
      // now and then an empty slot (slotEmpty); any length a frame can
      // have. A step whose rule would read bytes the tester does not know
      // is drawn again (``admits``).
      let slot =
        chance(0.85)
        ? pick(boundSlots(of: me), or: 0)
        : pick(emptyWindowSlots(of: me), or: UInt64(bounds.windowSlots))
      let shortest = PacketFilter.minimumFrameLength
      let length =
        chance(0.8)
        ? shortest + below(100)
        : shortest + below(PacketFilter.maximumFrameLength - shortest + 1)
      return FrameTransmitArguments(slot: slot, length: UInt64(length)).arguments
    default:
      return nil
    }
  }

  // MARK: Frames to send

  /// The words a frame store takes at most: the probes of one step.
  static let frameStoreWords = 8
  /// The end of the last field a reply exchanges (the transport ports,
  /// bytes 34–37: `replyPosition`).
  static let exchangedFieldsEnd = 38

  /// Now and then, in place of the probes after a step from `before` that
  /// left its window as it was, the environment that runs next stores a
  /// frame at the start of a page it has bound with write, and sends it
  /// with the next step (``storedFrame``, ``transmit(_:)``): mostly a frame
  /// whose reply one of its own active filters receives
  /// (`transmittableFrame`: sent), now and then one for another
  /// environment's filter (refused: notPermitted, since no two active
  /// filters take the same frame). The store covers the frame and at least
  /// the header fields a reply exchanges (up to byte 38), which the
  /// transmit rule reads even past a short frame's end. Never where a
  /// frame of the kernel's may be waiting (``Shadow/mayHoldFrame(_:of:in:)``).
  /// Nil: no store this time.
  mutating func frameStore(after before: ConcreteState) -> [DiffProbe]? {
    let e = me
    guard e < UInt64(bounds.environments), changedSlots(of: e, since: before).isEmpty else {
      return nil
    }
    let active = filterSlots { self.state.filters.state[$0] == FilterState.active.rawValue }
    let mine = active.filter { state.filters.owner[Int($0)] == e }
    let others = active.filter { state.filters.owner[Int($0)] != e }
    guard !active.isEmpty, chance(mine.isEmpty ? 0.1 : 0.08) else { return nil }
    let words = Self.frameStoreWords
    let slots = boundSlots(of: e).filter { slot in
      let b = bindingIndex(e, Int(slot))
      let start = UserLayout.windowBase + slot * pageSize
      return state.bindings.rights[b] & Rights.write.rawValue != 0
        && (0..<words).allSatisfy {
          !memory.shadow.mayHoldFrame(start + UInt64(8 * $0), of: e, in: state)
        }
    }
    guard let slot = pick(slots),
      let f = chance(0.75) ? pick(mine) ?? pick(others) : pick(others) ?? pick(mine)
    else { return nil }
    let length = chance(0.8) ? 40 + below(8 * words - 39) : 14 + below(8 * words - 13)
    let frame = state.transmittableFrame(seed: random.next(), filter: f, length: 8 * words)
    let start = UserLayout.windowBase + slot * pageSize
    storedFrame = (e, slot, state.bindings.page[bindingIndex(e, Int(slot))], UInt64(length))
    return (0..<(max(length, Self.exchangedFieldsEnd) + 7) / 8).map { k in
      let value = (0..<8).reduce(UInt64(0)) { $0 | UInt64(frame[8 * k + $1]) << UInt64(8 * $1) }
      return DiffProbe(.write, start + UInt64(8 * k), value: value)
    }
  }

  /// `frameTransmit` of the frame `stored` (by the probes of the step
  /// before), if the current environment stored it and its slot still holds
  /// that page.
  func transmit(
    _ stored: (environment: UInt64, slot: UInt64, page: UInt64, length: UInt64)
  ) -> DiffStep? {
    guard stored.environment == me,
      state.bindings.page[bindingIndex(me, Int(stored.slot))] == stored.page
    else { return nil }
    let step = DiffStep(
      .call(.frameTransmit),
      FrameTransmitArguments(slot: stored.slot, length: stored.length).arguments)
    return acceptable(step) ? step : nil
  }
}
