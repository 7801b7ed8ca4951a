import ExoABI

/// `diffLoopback` (ExoABI's `DiffCall.loopback`): a frame the caller built
/// in one of its pages arrives through the NIC's path. It exists in
/// difftest mode and with `loopback=1` on the kernel command line, which
/// `exo bench` gives its guest so that the frame paths can be measured at
/// fixed instruction counts.
enum Loopback {
  nonisolated(unsafe) static var enabled = false

  /// Whether `call` exists outside difftest mode.
  static func allows(_ call: DiffCall) -> Bool { enabled && call == .loopback }

  /// The first `length` bytes of the page `caller` has bound at window
  /// slot `slot` arrive (`Frames.arrived`): the filter that got the frame,
  /// or `none`.
  static func arrive(_ caller: UInt64, slot: UInt64, length: UInt64) -> SyscallResult {
    guard slot < UInt64(Info.bounds.windowSlots) else { return .failure(.outOfRange) }
    let page = Spec.state.pageOf(binding: Spec.state.binding(caller, slot))
    guard page != none else { return .failure(.slotEmpty) }
    guard length >= UInt64(PacketFilter.minimumFrameLength),
      length <= UInt64(PacketFilter.maximumFrameLength)
    else { return .failure(.invalidArgument) }
    return .success(
      Frames.arrived(UnsafePointer(PhysicalMemory.bytes(page &* pageSize)), length: Int(length)))
  }
}
