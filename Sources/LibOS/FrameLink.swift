/// Where a libOS program's frames come from and go to: the one interface
/// between the network stack's driver loop and the way frames travel. A
/// kernel receive buffer filled by the packet-filter calls, a scripted
/// peer, or a test's queue implement it; the loop
/// (``NetworkStack/serve(_:now:)``) does not know which.
public protocol FrameLink {
  /// The next frame received, nil when none is waiting.
  mutating func receiveFrame() -> [UInt8]?
  /// Transmits `frame` (an Ethernet frame without check sequence).
  mutating func transmit(_ frame: [UInt8])
}

extension NetworkStack {
  /// Handles every frame waiting on `link` at tick `now`, transmitting
  /// the answers, then the frames ``poll(now:)`` makes due. Returns how
  /// many frames it received.
  @discardableResult
  public mutating func serve<L: FrameLink>(_ link: inout L, now: UInt64) -> Int {
    var received = 0
    while let frame = link.receiveFrame() {
      received += 1
      for answer in receive(frame, now: now) { link.transmit(answer) }
    }
    for frame in poll(now: now) { link.transmit(frame) }
    return received
  }
}
