import ExoABI

/// The kernel-internal entry points of the network (docs/network.md): the
/// NIC driver hands each received frame to ``arrived(_:length:)``, which
/// runs the spec's `frameArrival`; the `frameTransmit` call is the spec's
/// too (`specs/SpecState+Filter.swift`). The hand-written parts are the
/// copies: a delivered frame into its owner's buffer (the `frameDelivered`
/// hook) and a sent frame to the NIC (the `frameTransmitted` hook).
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

  /// The `frameTransmitted` hook: the first `length` bytes of physical
  /// page `page` (which the spec's transmit rule has just read) go to the
  /// NIC. A frame the device cannot take is lost and counted there.
  static func transmit(page: UInt64, length: UInt64) {
    _ = VirtioNet.transmit(PhysicalMemory.bytes(page &* pageSize), length: Int(length))
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
