import ExoABI
import ExoUser

/// The kernel's receive path end to end, against the Linux peer
/// (`swift run exo boot --peer linux --program netrecv`): a packet filter
/// claims ARP requests for the exokernel's address into a page bound at
/// window slot 0; the peer sends such requests with `arping`; the NIC
/// driver hands every frame to the filters at timer ticks, and the kernel
/// copies the first match into the buffer after its two-word header.
///
/// Checks (lines `netrecv: check PASS|FAIL NAME: DETAIL`, judged by the
/// harness with the peer's):
/// - `filter-installed`: the filter is accepted;
/// - `overlap-refused`: a second filter claiming the same frames is refused
///   with `overlap`;
/// - `frame-delivered`: within 45 s a frame reaches the filter
///   (`delivered` grows, the header's length is that of an ARP frame);
/// - `frame-is-peer-arp`: the buffer holds the peer's ARP request for our
///   address (EtherType 0x0806, operation 1, the peer's MAC as sender,
///   10.0.2.15 as target).
@main
struct NetRecv {
  static let buffer = UserLayout.windowBase
  static let filter: UInt64 = 0
  static let duplicate: UInt64 = 1

  static func check(_ passed: Bool, _ name: StaticString, _ detail: StaticString) {
    print("netrecv: check \(passed ? "PASS" : "FAIL") \(name): \(detail)")
  }

  /// Writes the filter of ARP requests for 10.0.2.15 into slot `f`.
  static func write(_ f: UInt64) -> Bool {
    let (a, b, c, d) = PeerNetwork.exoAddress
    let address = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    var ok = test(f, 0, PacketTest(offset: 12, width: 2, equals: 0x0806))
    ok = ok && test(f, 1, PacketTest(offset: 20, width: 2, equals: 1))
    ok = ok && test(f, 2, PacketTest(offset: 38, width: 4, equals: address))
    return ok
  }

  static func test(_ f: UInt64, _ i: UInt64, _ test: PacketTest) -> Bool {
    let (first, second) = test.encoded
    return Kernel.call(FilterTestArguments(filter: f, index: i, first: first, second: second))
      .status == 0
  }

  static func byte(_ i: UInt64) -> UInt64 {
    let frame = buffer + UInt64(PacketFilter.deliveryHeaderBytes)
    return UInt64(UserMemory.pointer(frame + i, to: UInt8.self).pointee)
  }

  static func main() {
    let page = PageNumber(rawValue: KernelInfo.firstPage)
    let memory = CapabilitySlot(rawValue: 1)
    let allocated = Kernel.pageAllocate(page, count: 1, capability: memory)
    let mapped = Kernel.pageMap(
      KernelInfo.me, memory: memory, page: page, slot: 0, rights: [.read, .write])
    guard allocated.status == 0, mapped.status == 0 else {
      check(false, "filter-installed", "the buffer page could not be allocated and mapped")
      Kernel.exit(1)
    }
    let installed =
      write(filter)
      && Kernel.call(FilterInstallArguments(filter: filter, count: 3, slot: 0)).status == 0
    check(installed, "filter-installed", "ARP requests for 10.0.2.15 into window slot 0")
    guard installed else { Kernel.exit(1) }
    let refused =
      write(duplicate)
      ? Kernel.call(FilterInstallArguments(filter: duplicate, count: 3, slot: 0)).status
      : 0
    check(
      refused == ExoError.overlap.rawValue, "overlap-refused",
      "the same filter again is refused with overlap")
    _ = Kernel.call(FilterRemoveArguments(filter: duplicate))

    // Wait for the first frame: 45 s of 1 ms ticks (Linux boots slowly on a
    // loaded host), yielding meanwhile.
    let start = Kernel.ticks()
    while KernelInfo[filter: filter, .delivered] == 0 && Kernel.ticks() &- start < 45_000 {
      _ = Kernel.yield()
    }
    let length = UserMemory.pointer(buffer, to: UInt64.self).pointee
    let delivered = KernelInfo[filter: filter, .delivered] >= 1
    check(
      delivered && KernelInfo[filter: filter, .pending] == 1 && length >= 42
        && length <= UInt64(PacketFilter.maximumFrameLength),
      "frame-delivered", "a frame reached the filter's buffer with its length")
    let (m0, m1, m2, m3, m4, m5) = PeerNetwork.peerMAC
    let fromPeer =
      byte(6) == UInt64(m0) && byte(7) == UInt64(m1) && byte(8) == UInt64(m2)
      && byte(9) == UInt64(m3) && byte(10) == UInt64(m4) && byte(11) == UInt64(m5)
    let arp = byte(12) == 0x08 && byte(13) == 0x06 && byte(20) == 0 && byte(21) == 1
    let (a, b, c, d) = PeerNetwork.exoAddress
    let target =
      byte(38) == UInt64(a) && byte(39) == UInt64(b) && byte(40) == UInt64(c)
      && byte(41) == UInt64(d)
    check(
      delivered && fromPeer && arp && target, "frame-is-peer-arp",
      "the buffer holds the peer's ARP request for 10.0.2.15")
    _ = Kernel.call(FilterReleaseArguments(filter: filter))
    Kernel.exit(0)
  }
}
