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
      let free = filterSlots { self.state.filters.state[$0] == FilterState.free.rawValue }
      guard let f = pick(ownFilters(.building)) ?? pick(free) else { return nil }
      let index = min(writtenTests(Int(f)), PacketFilter.maximumTests - 1)
      let test =
        chance(0.1)
        ? pick(Self.malformedTests)! : pick(Self.filterTestPool)!
      let words = test.words
      return FilterTestArguments(filter: f, index: UInt64(index), first: words[0], second: words[1])
        .arguments
    case .filterInstall:
      guard let f = pick(ownFilters(.building)) else { return nil }
      let written = writtenTests(Int(f))
      let count = UInt64(chance(0.1) ? written + 1 : written)
      let writable = boundSlots(of: me).filter {
        state.bindings.rights[bindingIndex(me, Int($0))] & Rights.write.rawValue != 0
      }
      let slot = chance(0.85) ? pick(writable, or: 0) : pick(boundSlots(of: me), or: 0)
      return FilterInstallArguments(filter: f, count: count, slot: slot).arguments
    case .filterRelease:
      guard let f = pick(ownFilters(.active)) else { return nil }
      return FilterReleaseArguments(filter: f).arguments
    case .filterRemove:
      guard let f = pick(ownFilters(.active) + ownFilters(.building)) else { return nil }
      return FilterRemoveArguments(filter: f).arguments
    case .frameTransmit:
      let readable = boundSlots(of: me).filter {
        state.bindings.rights[bindingIndex(me, Int($0))] & Rights.read.rawValue != 0
      }
      let length = UInt64(PacketFilter.minimumFrameLength + below(100))
      return FrameTransmitArguments(slot: pick(readable, or: 0), length: length).arguments
    default:
      return nil
    }
  }
}
