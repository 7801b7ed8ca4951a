import ExoABI

/// The kernel-internal entry points of the network (docs/network.md): the
/// NIC driver hands each received frame to ``arrived(_:length:)`` and asks
/// ``mayTransmit(_:length:)`` before it sends a frame for the current
/// environment. Both run the spec (`frameArrival`, `mayTransmit` in
/// `specs/SpecState+Filter.swift`); the only hand-written part is the copy
/// of a delivered frame into its owner's buffer (the `frameDelivered` hook).
enum Frames {
  /// The frame being delivered, for the hook (valid during ``arrived``).
  nonisolated(unsafe) private static var frame: UnsafePointer<UInt8>? = nil
  nonisolated(unsafe) private static var frameLength = 0

  /// The bytes of a delivered frame's buffer page before the frame.
  static let headerBytes = PacketFilter.deliveryHeaderBytes

  /// A frame of `length` bytes arrived: the spec's `frameArrival` picks the
  /// filter (or counts it unclaimed). Frames longer than the longest
  /// Ethernet frame are cut to it. Returns the filter slot or `none`.
  @discardableResult
  static func arrived(_ bytes: UnsafePointer<UInt8>, length: Int) -> UInt64 {
    let n = min(length, PacketFilter.maximumFrameLength)
    frame = bytes
    frameLength = n
    defer { frame = nil }
    let outcome = Spec.state.frameArrival(length: UInt64(n)) { i in
      i < UInt64(n) ? UInt64(bytes[Int(i)]) : 0
    }
    return outcome.value
  }

  /// Whether the current environment may send the frame of `length` bytes
  /// (the spec's transmit rule).
  static func mayTransmit(_ bytes: UnsafePointer<UInt8>, length: Int) -> Bool {
    guard length >= 0, length <= PacketFilter.maximumFrameLength else { return false }
    return Spec.state.mayTransmit(length: UInt64(length)) { i in
      i < UInt64(length) ? UInt64(bytes[Int(i)]) : 0
    }
  }

  /// The `frameDelivered` hook: the frame goes into the page bound at
  /// binding `binding` (bound writable: the spec's invariant), after its
  /// header.
  static func deliver(toBinding binding: UInt64, dropped: UInt64) {
    guard let frame else { return }
    let page = Spec.state.domain.read(Spec.state.bindings.page, binding, default: none)
    guard page != none else { return }
    let address = page * pageSize
    PhysicalMemory.store64(address, UInt64(frameLength))
    PhysicalMemory.store64(address + 8, dropped)
    PhysicalMemory.copy(to: address + UInt64(headerBytes), from: frame, count: frameLength)
  }
}
