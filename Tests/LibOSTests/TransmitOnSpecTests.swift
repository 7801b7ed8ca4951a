import ExoABI
import LibOS
import LibOSHost
import Testing

/// `frameTransmit` on the spec with a libOS program: the machine's page
/// memory is what the spec's transmit rule reads (`PageContents`).
@Suite("frameTransmit on the spec reads the machine's memory")
struct TransmitOnSpecTests {
  /// A UDP frame of 60 bytes from 10.0.0.2 port `port`, Ethernet
  /// addresses zero.
  static func frame(from address: [UInt8], port: UInt8) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 60)
    bytes[12] = 0x08
    bytes[23] = 0x11
    bytes.replaceSubrange(26..<30, with: address)
    bytes[35] = port
    return bytes
  }

  /// Stores `bytes` at the start of window slot `slot`, a word at a time.
  static func store(_ os: LibOS<SimulatedKernel>, slot: Int, _ bytes: [UInt8]) {
    for w in 0..<(bytes.count + 7) / 8 {
      var word: UInt64 = 0
      for k in 0..<8 where w * 8 + k < bytes.count {
        word |= UInt64(bytes[w * 8 + k]) << UInt64(8 * k)
      }
      os.kernel.store(os.address(slot: slot) + UInt64(8 * w), word)
    }
  }

  @Test func ownAddressSentOthersRefused() {
    var results: [UInt64] = []
    let machine = Machine(bounds: Workload.bounds) { kernel in
      LibOS.start(kernel: kernel, name: "transmit") { os, _ throws(ExoError) in
        try os.allocate(slot: 0)  // the filter's buffer
        try os.allocate(slot: 1)  // the frame to send
        // Receives UDP to 10.0.0.2 port 7.
        let tests = [
          PacketTest(offset: 12, width: 2, equals: 0x0800),
          PacketTest(offset: 23, width: 1, equals: 0x11),
          PacketTest(offset: 30, width: 4, equals: 0x0A00_0002),
          PacketTest(offset: 36, width: 2, equals: 7),
        ]
        for (i, t) in tests.enumerated() {
          let r = os.kernel.syscall(
            .filterTest,
            FilterTestArguments(
              filter: 0, index: UInt64(i), first: t.words[0],
              second: t.words[1]
            ).words(filling: 0))
          if r.status != 0 { throw ExoError(rawValue: r.status) ?? .invalidArgument }
        }
        let install = os.kernel.syscall(
          .filterInstall, FilterInstallArguments(filter: 0, count: 4, slot: 0).words(filling: 0))
        if install.status != 0 { throw ExoError(rawValue: install.status) ?? .invalidArgument }
        func send(_ bytes: [UInt8]) -> UInt64 {
          Self.store(os, slot: 1, bytes)
          return os.kernel.syscall(
            .frameTransmit,
            FrameTransmitArguments(slot: 1, length: UInt64(bytes.count)).words(filling: 0)
          ).status
        }
        results.append(send(Self.frame(from: [10, 0, 0, 2], port: 7)))
        results.append(send(Self.frame(from: [10, 0, 0, 3], port: 7)))
        results.append(send(Self.frame(from: [10, 0, 0, 2], port: 9)))
        return 0
      }
    }
    machine.run()
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(machine.console)")
    #expect(results == [0, ExoError.notPermitted.rawValue, ExoError.notPermitted.rawValue])
  }
}
