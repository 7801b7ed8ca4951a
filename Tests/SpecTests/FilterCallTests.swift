import ExoABI
import ExoSpec
import Testing

/// The packet-filter calls and the frame events of the spec
/// (`specs/SpecState+Filter.swift`), on concrete values.
@Suite struct FilterCallTests {
  static let bounds = Bounds(
    environments: 3, pages: 8, capabilities: 8, windowSlots: 4, slices: 2, maximumDepth: 2,
    maximumRun: 4, filters: 4)
  static let firstPage: UInt64 = 0x100
  static let ipv4 = PacketTest(offset: 12, width: 2, equals: 0x0800)
  static let udp = PacketTest(offset: 23, width: 1, equals: 0x11)
  static func port(_ p: UInt32) -> PacketTest { PacketTest(offset: 36, width: 2, equals: p) }

  /// Environment 0 with page `firstPage` bound read-write at window slot 0
  /// and read-only at slot 1.
  static func prepared() -> ConcreteState {
    var s = ConcreteState(bounds: bounds, firstPage: firstPage)
    let rw = Rights([.read, .write]).rawValue
    #expect(s.step(.call(.pageAllocate), [firstPage, 1, 0]) == .success(0))
    #expect(s.step(.call(.pageMap), [0, 0, 0, firstPage, 0, rw]) == .success(0))
    #expect(
      s.step(.call(.pageMap), [0, 0, 0, firstPage, 1, Rights.read.rawValue]) == .success(0))
    return s
  }

  /// Writes `tests` into filter slot `f`, each call's result expected ok.
  static func write(_ s: inout ConcreteState, _ f: UInt64, _ tests: [PacketTest]) {
    for (i, t) in tests.enumerated() {
      #expect(s.step(.call(.filterTest), [f, UInt64(i), t.words[0], t.words[1]]) == .success(0))
    }
  }

  /// A frame of `length` bytes, zero but for `fields` (offset, bytes).
  static func frame(_ length: Int, _ fields: [(Int, [UInt8])]) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: length)
    for (offset, value) in fields {
      bytes.replaceSubrange(offset..<offset + value.count, with: value)
    }
    return bytes
  }
  static func udpFrame(port: UInt16) -> [UInt8] {
    frame(60, [(12, [0x08, 0x00]), (23, [0x11]), (36, [UInt8(port >> 8), UInt8(port & 0xFF)])])
  }
  static func arrive(_ s: inout ConcreteState, _ bytes: [UInt8]) -> SyscallResult {
    s.frameArrival(length: UInt64(bytes.count)) { i in
      i < UInt64(bytes.count) ? UInt64(bytes[Int(i)]) : 0
    }
    .result
  }

  @Test func installDeliverReleaseRemove() throws {
    var s = Self.prepared()
    Self.write(&s, 2, [Self.ipv4, Self.udp, Self.port(7)])
    #expect(s.filters.state[2] == FilterState.building.rawValue)
    #expect(s.step(.call(.filterInstall), [2, 3, 0]) == .success(0))
    #expect(s.filters.state[2] == FilterState.active.rawValue)
    #expect(s.filters.owner[2] == 0 && s.filters.slot[2] == 0)
    #expect(try PacketFilter(words: (0..<17).map { s.filterWords[2 * 17 + $0] }).tests.count == 3)
    // Delivered, then dropped while pending, released (value: drops).
    #expect(Self.arrive(&s, Self.udpFrame(port: 7)) == .success(2))
    #expect(s.filters.delivered[2] == 1 && s.filters.pending[2] == 1)
    #expect(Self.arrive(&s, Self.udpFrame(port: 7)) == .success(2))
    #expect(s.filters.dropped[2] == 1 && s.filters.delivered[2] == 1)
    #expect(s.step(.call(.filterRelease), [2]) == .success(1))
    #expect(s.filters.pending[2] == 0)
    // A frame nobody claims.
    #expect(Self.arrive(&s, Self.udpFrame(port: 9)) == .success(ExoABI.none))
    #expect(s.unclaimedFrames == 1)
    #expect(s.step(.call(.filterRemove), [2]) == .success(0))
    #expect(s.filters.state[2] == FilterState.free.rawValue)
    #expect(s.filters.owner[2] == ExoABI.none && s.filters.slot[2] == ExoABI.none)
    #expect(s.filters.delivered[2] == 0 && s.filters.dropped[2] == 0)
  }

  @Test func overlappingFilterRefused() {
    var s = Self.prepared()
    Self.write(&s, 0, [Self.ipv4, Self.udp, Self.port(7)])
    #expect(s.step(.call(.filterInstall), [0, 3, 0]) == .success(0))
    // Any IPv4 overlaps UDP port 7.
    Self.write(&s, 1, [Self.ipv4])
    let before = s
    #expect(s.step(.call(.filterInstall), [1, 1, 0]) == .failure(.overlap))
    #expect(s == before)
    // UDP port 9 does not.
    Self.write(&s, 1, [Self.ipv4, Self.udp, Self.port(9)])
    #expect(s.step(.call(.filterInstall), [1, 3, 0]) == .success(0))
  }

  @Test(
    "malformed tests refused with invalidArgument, naming the test",
    arguments: [
      PacketTest(offset: 0, width: 3, mask: 0xFF, value: 1),
      PacketTest(offset: 1512, width: 4, mask: 1, value: 1),
      PacketTest(offset: 30, width: 1, mask: 0x1FF, value: 0),
      PacketTest(offset: 14, width: 1, mask: 0xF0, value: 0x45),
    ])
  func malformedTestRefused(test: PacketTest) {
    var s = Self.prepared()
    Self.write(&s, 0, [Self.ipv4])
    let before = s
    // The call for test 1 is the one refused: it names the test.
    #expect(
      s.step(.call(.filterTest), [0, 1, test.words[0], test.words[1]])
        == .failure(.invalidArgument))
    #expect(s == before)
    #expect(throws: PacketFilterError.self) { try PacketFilter([Self.ipv4, test]) }
  }

  @Test func installChecks() {
    var s = Self.prepared()
    #expect(s.step(.call(.filterInstall), [0, 0, 0]) == .failure(.slotEmpty))
    #expect(s.step(.call(.filterInstall), [4, 0, 0]) == .failure(.outOfRange))
    Self.write(&s, 0, [Self.ipv4])
    let before = s
    // Too many tests; a test never written.
    #expect(s.step(.call(.filterInstall), [0, 9, 0]) == .failure(.invalidArgument))
    #expect(s.step(.call(.filterInstall), [0, 2, 0]) == .failure(.invalidArgument))
    // The buffer: out of range, empty, read-only.
    #expect(s.step(.call(.filterInstall), [0, 1, 4]) == .failure(.outOfRange))
    #expect(s.step(.call(.filterInstall), [0, 1, 2]) == .failure(.slotEmpty))
    #expect(s.step(.call(.filterInstall), [0, 1, 1]) == .failure(.insufficientRights))
    #expect(s.step(.call(.filterTest), [0, 8, 0, 0]) == .failure(.outOfRange))
    #expect(s == before)
    #expect(s.step(.call(.filterInstall), [0, 1, 0]) == .success(0))
    #expect(s.step(.call(.filterTest), [0, 1, 0, 0]) == .failure(.slotInUse))
    #expect(s.step(.call(.filterRelease), [1]) == .failure(.slotEmpty))
  }

  @Test func bufferLossRemovesFilter() {
    var s = Self.prepared()
    Self.write(&s, 0, [Self.ipv4])
    #expect(s.step(.call(.filterInstall), [0, 1, 0]) == .success(0))
    // Read-only buffer: the filter goes.
    #expect(s.step(.call(.pageProtect), [0, 0, 0, Rights.read.rawValue]) == .success(0))
    #expect(s.filters.state[0] == FilterState.free.rawValue)
    #expect(
      s.step(.call(.pageProtect), [0, 0, 0, Rights([.read, .write]).rawValue]) == .success(0))
    Self.write(&s, 0, [Self.ipv4])
    #expect(s.step(.call(.filterInstall), [0, 1, 0]) == .success(0))
    #expect(s.step(.call(.pageUnmap), [0, 0, 0]) == .success(0))
    #expect(s.filters.state[0] == FilterState.free.rawValue)
  }

  @Test func transmitRule() {
    var s = Self.prepared()
    // Environment 0 receives UDP to port 7 at 10.0.0.2.
    let dst = PacketTest(offset: 30, width: 4, equals: 0x0A00_0002)
    Self.write(&s, 0, [Self.ipv4, Self.udp, dst, Self.port(7)])
    #expect(s.step(.call(.filterInstall), [0, 4, 0]) == .success(0))
    func may(_ bytes: [UInt8]) -> Bool {
      s.mayTransmit(length: UInt64(bytes.count)) { i in
        i < UInt64(bytes.count) ? UInt64(bytes[Int(i)]) : 0
      }
    }
    // From 10.0.0.2 port 7: a reply would come back. From another address
    // or port: refused.
    let mine = Self.frame(60, [(12, [8, 0]), (23, [0x11]), (26, [10, 0, 0, 2]), (34, [0, 7])])
    let spoofed = Self.frame(
      60, [(12, [8, 0]), (23, [0x11]), (26, [10, 0, 0, 3]), (34, [0, 7])])
    let otherPort = Self.frame(
      60, [(12, [8, 0]), (23, [0x11]), (26, [10, 0, 0, 2]), (34, [0, 9])])
    #expect(may(mine))
    #expect(!may(spoofed))
    #expect(!may(otherPort))
  }

  /// Only the bytes sent decide: a reply field the rule would take from
  /// past the frame's end reads as zero, whatever the page holds there.
  @Test func transmitRuleReadsOnlyBytesSent() {
    var s = Self.prepared()
    // Environment 0 receives UDP from port 53 (a client of a server there).
    let fromPort53 = PacketTest(offset: 34, width: 2, equals: 53)
    Self.write(&s, 0, [Self.ipv4, Self.udp, fromPort53])
    #expect(s.step(.call(.filterInstall), [0, 3, 0]) == .success(0))
    // A reply's source port is the sent frame's destination port (36–37).
    let toPort53 = Self.frame(60, [(12, [8, 0]), (23, [0x11]), (36, [0, 53])])
    func may(_ length: Int) -> Bool {
      s.mayTransmit(length: UInt64(length)) { i in
        i < UInt64(toPort53.count) ? UInt64(toPort53[Int(i)]) : 0
      }
    }
    #expect(may(60))
    // 36 bytes end before the destination port: the reply's source port
    // is not sent, so it reads zero and cannot match, though the page
    // holds 53 there.
    #expect(!may(36))
    #expect(!may(37))
    #expect(may(38))
  }

  /// `frameTransmit` reads the frame from the page bound at the slot
  /// (through the domain's `PageContents`), checks it in the documented
  /// order, changes no table, and hands exactly that page and length to
  /// the `frameTransmitted` hook.
  @Test func transmitCall() {
    var page = [UInt8](repeating: 0, count: 4096)
    let memory = PageContents { p, o in
      p == Self.firstPage && o < 4096 ? UInt64(page[Int(o)]) : 0
    }
    var s = ConcreteState(bounds: Self.bounds, firstPage: Self.firstPage, memory: memory)
    let rw = Rights([.read, .write]).rawValue
    #expect(s.step(.call(.pageAllocate), [Self.firstPage, 1, 0]) == .success(0))
    #expect(s.step(.call(.pageMap), [0, 0, 0, Self.firstPage, 0, rw]) == .success(0))
    let dst = PacketTest(offset: 30, width: 4, equals: 0x0A00_0002)
    Self.write(&s, 0, [Self.ipv4, Self.udp, dst, Self.port(7)])
    #expect(s.step(.call(.filterInstall), [0, 4, 0]) == .success(0))
    let mine = Self.frame(60, [(12, [8, 0]), (23, [0x11]), (26, [10, 0, 0, 2]), (34, [0, 7])])
    page.replaceSubrange(0..<60, with: mine)
    let before = s
    #expect(s.step(.call(.frameTransmit), [4, 60]) == .failure(.outOfRange))
    #expect(s.step(.call(.frameTransmit), [2, 60]) == .failure(.slotEmpty))
    #expect(s.step(.call(.frameTransmit), [0, 13]) == .failure(.invalidArgument))
    #expect(s.step(.call(.frameTransmit), [0, 1515]) == .failure(.invalidArgument))
    #expect(s.step(.call(.frameTransmit), [0, 60]) == .success(0))
    // Too short for the port test: a reply could not match.
    #expect(s.step(.call(.frameTransmit), [0, 37]) == .failure(.notPermitted))
    page[29] = 3  // from 10.0.0.3: another's address
    #expect(s.step(.call(.frameTransmit), [0, 60]) == .failure(.notPermitted))
    #expect(s == before)
    // The hook gets the page and length that were checked.
    page[29] = 2
    let recorder = TransmitRecorder()
    var hooked = SpecState(
      domain: RecordingTransmits(memory: memory, recorder: recorder), bounds: s.bounds,
      firstPage: s.firstPage, words: s.words)
    #expect(hooked.run(.frameTransmit, ArgumentWords(0, 60, filling: 0)).status == 0)
    #expect(hooked.run(.frameTransmit, ArgumentWords(0, 20, filling: 0)).status != 0)
    #expect(recorder.sent.count == 1)
    #expect(recorder.sent.first?.page == Self.firstPage && recorder.sent.first?.length == 60)
  }
}

/// The frames a ``RecordingTransmits`` domain was asked to send.
final class TransmitRecorder {
  var sent: [(page: UInt64, length: UInt64)] = []
}

/// ``ConcreteDomain`` that records the `frameTransmitted` hook.
struct RecordingTransmits: PlainDomain {
  typealias Column = [UInt64]
  let base: ConcreteDomain
  let recorder: TransmitRecorder
  init(memory: PageContents, recorder: TransmitRecorder) {
    base = ConcreteDomain(memory: memory)
    self.recorder = recorder
  }
  func withScratch<R>(_ words: Int, _ body: (UnsafeMutablePointer<UInt64>) -> R) -> R {
    base.withScratch(words, body)
  }
  func read(_ table: [UInt64], _ index: UInt64, default fallback: UInt64) -> UInt64 {
    base.read(table, index, default: fallback)
  }
  func write(_ table: inout [UInt64], _ index: UInt64, _ value: UInt64) {
    base.write(&table, index, value)
  }
  func pageByte(_ page: UInt64, _ offset: UInt64) -> UInt64 { base.pageByte(page, offset) }
  func frameTransmitted(page: UInt64, length: UInt64) {
    recorder.sent.append((page, length))
  }
}
