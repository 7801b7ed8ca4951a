import Arch
import ExoABI

/// A boot-time diagnostic of the NIC against a peer on the same network,
/// run instead of the user program when the command line holds
/// `nicselftest=1` (`exo boot --peer linux --nic-selftest`). It is not
/// networking: the kernel delivers no frame to anyone here.
///
/// 1. Waits (at most `waitTicks`) until `framesToWaitFor` frames have
///    arrived in the receive queue from one source: the peer is up and
///    sending.
/// 2. Transmits `burst` broadcast frames of EtherType `etherType` (IEEE
///    802 local experimental) carrying `payload` and their index (the
///    numbers are `NICSelfTestProtocol`'s, which the harness reads too).
/// 3. Keeps counting arrivals for `graceTicks`, prints one report line and
///    ends the machine (success; the peer judges what it received).
///
/// The report, which `exo boot --peer linux` parses:
///
///     exo: nic selftest: received N frames (B bytes) from SOURCE-MAC, M from others; transmitted T frames (B bytes), R refused, E receive errors
enum NICSelfTest {
  static let framesToWaitFor = NICSelfTestProtocol.framesToWaitFor
  static let burst = NICSelfTestProtocol.burst
  static let etherType = NICSelfTestProtocol.etherType
  static let payload: StaticString = "exo nic selftest frame "
  static let frameLength = NICSelfTestProtocol.frameLength
  static let waitTicks: UInt64 = 180_000
  static let graceTicks: UInt64 = 1_000

  static func run() -> Never {
    guard VirtioNet.present else {
      Log("exo: nic selftest: no NIC (QEMU names none on the command line)").end()
      exitMachine(.userFailure)
    }
    VirtioNet.pollingAtTicks = false
    var fromPeer: UInt64 = 0
    var fromOthers: UInt64 = 0
    var peer: UInt64 = 0
    func drain() {
      while VirtioNet.nextFrame({ frame, length in
        guard length >= VirtioNet.minimumFrameLength else {
          fromOthers += 1
          return
        }
        var source: UInt64 = 0
        for i in 0..<6 { source |= UInt64(frame[6 + i]) << UInt64(8 * i) }
        if fromPeer == 0 && fromOthers == 0 { peer = source }
        if source == peer { fromPeer += 1 } else { fromOthers += 1 }
      }) {}
    }
    func waitTick() {
      let now = Timer.ticks
      while Timer.ticks == now { arch_halt_with_interrupts() }
    }

    let start = Timer.ticks
    drain()
    while fromPeer < framesToWaitFor {
      guard Timer.ticks - start < waitTicks else {
        Log("exo: nic selftest: only ").decimal(fromPeer).text(" frames arrived in ")
          .decimal(waitTicks / 1000).text(" s").end()
        exitMachine(.userFailure)
      }
      waitTick()
      drain()
    }
    Log("exo: nic selftest: the peer is sending; transmitting ").decimal(UInt64(burst))
      .text(" frames").end()

    var frame = InlineArray<60, UInt8>(repeating: 0)
    for i in 0..<6 {
      frame[i] = 0xFF
      frame[6 + i] = UInt8(truncatingIfNeeded: VirtioNet.macAddress >> UInt64(8 * i))
    }
    frame[12] = UInt8(truncatingIfNeeded: etherType >> 8)
    frame[13] = UInt8(truncatingIfNeeded: etherType)
    payload.withUTF8Buffer { text in
      for (k, b) in text.enumerated() { frame[14 + k] = b }
    }
    var sent = 0
    while sent < burst {
      frame[14 + payload.utf8CodeUnitCount] = UInt8(ascii: "0") &+ UInt8(sent)
      let accepted = frame.span.withUnsafeBufferPointer {
        VirtioNet.transmit($0.baseAddress!, length: frameLength)
      }
      if accepted { sent += 1 } else { waitTick() }
      drain()
    }

    let graceStart = Timer.ticks
    while Timer.ticks - graceStart < graceTicks {
      waitTick()
      drain()
    }
    VirtioNet.reclaimTransmitted()
    let c = VirtioNet.counters
    let log = Log("exo: nic selftest: received ").decimal(fromPeer).text(" frames (")
      .decimal(c.receivedBytes).text(" bytes) from ")
    VirtioNet.logMAC(log, peer).text(", ").decimal(fromOthers).text(" from others; transmitted ")
      .decimal(c.transmitted).text(" frames (").decimal(c.transmittedBytes).text(" bytes), ")
      .decimal(c.transmitRefused).text(" refused, ").decimal(c.receiveErrors)
      .text(" receive errors").end()
    exitMachine(.success)
  }
}
