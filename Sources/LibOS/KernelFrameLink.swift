import ExoABI

/// A ``FrameLink`` over the kernel's packet filters and its transmit call
/// (docs/ABI.md "Packet filters"): each filter the link loads has a
/// receive buffer of its own, a private page at a window slot bound
/// read-write; frames go out from one more page with `frameTransmit`.
///
/// A filter's buffer holds one frame (the kernel's delivery header —
/// length, then the frames dropped while it was full — and the frame's
/// bytes) until the owner releases it with `filterRelease`; frames that
/// arrive meanwhile are dropped and counted by the kernel.
/// ``receiveFrame()`` takes the frames waiting in the buffers in turn, so
/// no filter starves another.
public struct KernelFrameLink<K: KernelInterface>: FrameLink {
  let os: LibOS<K>
  /// The filter slots the link installed, with their buffers' window slots.
  public private(set) var installed: [(filter: Int, slot: Int)] = []
  /// The window slot frames are sent from.
  public let transmitSlot: Int
  /// Frames sent, and frames the kernel refused (with the last refusal).
  public private(set) var transmitted = 0
  public private(set) var refused = 0
  public private(set) var lastRefusal: ExoError? = nil
  /// The frames the kernel dropped because a buffer was full, as its
  /// delivery headers reported them.
  public private(set) var droppedByKernel: UInt64 = 0
  /// Where ``receiveFrame()`` looks first.
  var next = 0

  /// Loads `filters` into free filter slots of the kernel's table, each
  /// with a buffer at the next of `slots`; the slot after them is the
  /// transmit page. Throws the kernel's refusal (`overlap` when another
  /// environment's filter claims some of the same frames); the filters
  /// installed before it stay (``remove()`` takes them away).
  public init(_ os: LibOS<K>, filters: [PacketFilter], slots: Range<Int>) throws(ExoError) {
    self.os = os
    guard slots.count > filters.count else { throw .outOfRange }
    transmitSlot = slots.lowerBound + filters.count
    try os.allocate(slot: transmitSlot, private: true)
    for (k, filter) in filters.enumerated() {
      let slot = slots.lowerBound + k
      try os.allocate(slot: slot, private: true)
      try install(filter, slot: slot)
    }
  }

  /// Installs `filter` with its buffer at window slot `slot` in the first
  /// free filter slot.
  mutating func install(_ filter: PacketFilter, slot: Int) throws(ExoError) {
    let free = (0..<os.bounds.filters).first { f in
      os.filter(f, .state) == FilterState.free.rawValue
    }
    guard let f = free else { throw .outOfRange }
    let words = filter.words
    for i in 0..<filter.tests.count {
      try check(
        os.kernel.sys(
          FilterTestArguments(
            filter: UInt64(f), index: UInt64(i), first: words[1 + 2 * i],
            second: words[2 + 2 * i])))
    }
    do throws(ExoError) {
      try check(
        os.kernel.sys(
          FilterInstallArguments(
            filter: UInt64(f), count: UInt64(filter.tests.count), slot: UInt64(slot))))
    } catch {
      _ = os.kernel.sys(FilterRemoveArguments(filter: UInt64(f)))
      throw error
    }
    installed.append((f, slot))
  }

  /// Removes every filter the link installed.
  public mutating func remove() {
    for (f, _) in installed { _ = os.kernel.sys(FilterRemoveArguments(filter: UInt64(f))) }
    installed = []
  }

  public mutating func receiveFrame() -> [UInt8]? {
    for k in 0..<installed.count {
      let (f, slot) = installed[(next + k) % installed.count]
      guard os.filter(f, .pending) != 0 else { continue }
      next = (next + k + 1) % installed.count
      let base = os.address(slot: slot)
      let length = Int(min(os.load(base), UInt64(PacketFilter.maximumFrameLength)))
      droppedByKernel &+= os.load(base + 8)
      let start = base + UInt64(PacketFilter.deliveryHeaderBytes)
      var frame = [UInt8](repeating: 0, count: length)
      for w in 0..<(length + 7) / 8 {
        let word = os.load(start + UInt64(8 * w))
        for b in 0..<8 where 8 * w + b < length {
          frame[8 * w + b] = UInt8(truncatingIfNeeded: word >> UInt64(8 * b))
        }
      }
      _ = os.kernel.sys(FilterReleaseArguments(filter: UInt64(f)))
      return frame
    }
    return nil
  }

  public mutating func transmit(_ frame: [UInt8]) {
    let result = Self.send(os, frame, slot: transmitSlot)
    if let error = result {
      refused += 1
      lastRefusal = error
    } else {
      transmitted += 1
    }
  }

  /// Stores `frame` at the start of window slot `slot` and sends it with
  /// `frameTransmit`; the kernel's refusal, or nil when it was sent.
  public static func send(_ os: LibOS<K>, _ frame: [UInt8], slot: Int) -> ExoError? {
    let base = os.address(slot: slot)
    for w in 0..<(frame.count + 7) / 8 {
      var word: UInt64 = 0
      for b in 0..<8 where 8 * w + b < frame.count {
        word |= UInt64(frame[8 * w + b]) << UInt64(8 * b)
      }
      os.store(base + UInt64(8 * w), word)
    }
    return os.kernel.sys(FrameTransmitArguments(slot: UInt64(slot), length: UInt64(frame.count)))
      .error
  }
}
