import ExoABI
import ExoDiff
import ExoSpec
import Testing

/// The host's prediction of memory probes (``Shadow``) from the spec's
/// bindings and the words stored since each page's allocation.
@Suite struct ShadowTests {
  let slot0 = UserLayout.windowBase
  let slot1 = UserLayout.windowBase + 4096

  /// Environment 0 allocates page `firstPage` (capability slot 0) and maps
  /// it at window slot 0 with `rights`.
  func mapped(rights: Rights) throws -> SpecTarget {
    let spec = SpecTarget(name: "spec", bounds: testBounds, firstPage: testFirstPage)
    spec.reset(bounds: testBounds, firstPage: testFirstPage)
    #expect(try spec.run(.call(.pageAllocate), [testFirstPage, 1, 0]) == .success(0))
    #expect(
      try spec.run(.call(.pageMap), [0, 0, 0, testFirstPage, 0, rights.rawValue]) == .success(0))
    return spec
  }

  @Test func loadsAndStoresFollowTheBindings() throws {
    let spec = try mapped(rights: [.read, .write])
    // A fresh page reads zero; a store is seen by the next load; an empty
    // slot and the words just outside the window fault.
    #expect(
      spec.probe([
        DiffProbe(.read, slot0 + 8), DiffProbe(.write, slot0 + 8, value: 7),
        DiffProbe(.read, slot0 + 8), DiffProbe(.read, slot1),
        DiffProbe(.read, UserLayout.windowBase - 8),
        DiffProbe(.write, UserLayout.windowBase + UInt64(testBounds.windowSlots) * 4096, value: 1),
      ]) == [.read(0), .wrote, .read(7), .faulted, .faulted, .faulted])
    // Without write, a store faults and changes nothing.
    #expect(try spec.run(.call(.pageProtect), [0, 0, 0, Rights.read.rawValue]) == .success(0))
    #expect(
      spec.probe([DiffProbe(.write, slot0 + 8, value: 9), DiffProbe(.read, slot0 + 8)]) == [
        .faulted, .read(7),
      ])
    // Unmapped, the load faults; mapped again, the word is still there.
    #expect(try spec.run(.call(.pageUnmap), [0, 0, 0]) == .success(0))
    #expect(spec.probe([DiffProbe(.read, slot0 + 8)]) == [.faulted])
    #expect(
      try spec.run(.call(.pageMap), [0, 0, 0, testFirstPage, 1, Rights.read.rawValue])
        == .success(0))
    #expect(spec.probe([DiffProbe(.read, slot1 + 8)]) == [.read(7)])
  }

  @Test func fetchesFollowTheExecuteRight() throws {
    // Zero bytes run where the binding has execute, fault where it does
    // not; stored words (never zero in their low bytes) are declined.
    let spec = try mapped(rights: [.read, .write])
    #expect(
      spec.probe([
        DiffProbe(.execute, slot0), DiffProbe(.write, slot0 + 8, value: 0x101),
        DiffProbe(.execute, slot0 + 8), DiffProbe(.execute, slot1),
      ]) == [.faulted, .wrote, .declined, .faulted])
    #expect(
      try spec.run(.call(.pageProtect), [0, 0, 0, Rights([.read, .execute]).rawValue])
        == .success(0))
    #expect(
      spec.probe([DiffProbe(.execute, slot0), DiffProbe(.execute, slot0 + 8)]) == [
        .executed, .declined,
      ])
    // Where a frame may have gone the bytes are unknown.
    let unknown = DiffProbeOutcome.declinedOr(.executed)
    #expect(unknown.admits(.declined) && unknown.admits(.executed) && !unknown.admits(.faulted))
  }

  @Test func aFreedPageReadsZeroWhenAllocatedAgain() throws {
    let spec = try mapped(rights: [.read, .write])
    _ = spec.probe([DiffProbe(.write, slot0 + 4088, value: 5)])
    #expect(try spec.run(.call(.pageUnmap), [0, 0, 0]) == .success(0))
    #expect(try spec.run(.call(.capabilityDelete), [0]) == .success(0))
    #expect(try spec.run(.call(.pageAllocate), [testFirstPage, 1, 0]) == .success(0))
    #expect(
      try spec.run(.call(.pageMap), [0, 0, 0, testFirstPage, 0, Rights.read.rawValue])
        == .success(0))
    #expect(spec.probe([DiffProbe(.read, slot0 + 4088)]) == [.read(0)])
  }

  @Test func framesMakeWordsUnknownOnlyWhereTheyMayGo() throws {
    // Handler stack on top of slot 0's page: the frame's words there are
    // unknown while the slot is writable, known while it is read-only.
    let frameWord = slot0 + 4096 - 8
    let writable = try mapped(rights: [.read, .write])
    #expect(
      try writable.run(.call(.environmentSetEntries), [0, 0, DiffProtocol.callEntry, slot1, 0, 0])
        == .success(0))
    #expect(writable.probe([DiffProbe(.read, frameWord)]) == [.read(nil)])
    #expect(!DiffProbeOutcome.read(0).admits(.read(nil)))
    #expect(DiffProbeOutcome.read(nil).admits(.read(0x1234)))
    let readOnly = try mapped(rights: .read)
    #expect(
      try readOnly.run(.call(.environmentSetEntries), [0, 0, DiffProtocol.callEntry, slot1, 0, 0])
        == .success(0))
    #expect(readOnly.probe([DiffProbe(.read, frameWord)]) == [.read(0)])
  }

  /// Environment 0 with pages `testFirstPage` (window slot 0, writable:
  /// the buffer) and the next (slot 1, writable: the frame to send), and
  /// filter 0 installed on slot 0 for UDP to port 7 over IPv4.
  static func filterSteps() -> [DiffStep] {
    let tests = [
      PacketTest(offset: 12, width: 2, equals: 0x0800),
      PacketTest(offset: 23, width: 1, equals: 0x11),
      PacketTest(offset: 36, width: 2, equals: 7),
    ]
    let rw = Rights([.read, .write]).rawValue
    return [
      DiffStep(.call(.pageAllocate), [testFirstPage, 2, 0]),
      DiffStep(.call(.pageMap), [0, 0, 0, testFirstPage, 0, rw]),
      DiffStep(.call(.pageMap), [0, 0, 0, testFirstPage + 1, 1, rw]),
    ]
      + tests.enumerated().map { i, t in
        DiffStep(
          .call(.filterTest),
          FilterTestArguments(filter: 0, index: UInt64(i), first: t.words[0], second: t.words[1])
            .arguments)
      } + [
        DiffStep(
          .call(.filterInstall), FilterInstallArguments(filter: 0, count: 3, slot: 0).arguments)
      ]
  }

  /// Write probes that store `bytes` from `address` on, a word at a time.
  static func store(_ bytes: [UInt8], at address: UInt64) -> [DiffProbe] {
    (0..<(bytes.count + 7) / 8).map { k in
      let value = (0..<8).reduce(UInt64(0)) { word, j in
        8 * k + j < bytes.count ? word | UInt64(bytes[8 * k + j]) << UInt64(8 * j) : word
      }
      return DiffProbe(.write, address + UInt64(8 * k), value: value)
    }
  }

  @Test("frameTransmit on the spec reads the frame the probes stored")
  func transmitReadsTheStoredFrame() throws {
    let spec = SpecTarget(name: "spec", bounds: testBounds, firstPage: testFirstPage)
    spec.reset(bounds: testBounds, firstPage: testFirstPage)
    var steps = Self.filterSteps()
    for step in steps { #expect(try spec.run(step.transition, step.arguments) == .success(0)) }
    // A zero page: the reply is no filter's.
    #expect(try spec.run(.call(.frameTransmit), [1, 64]) == .failure(.notPermitted))
    // A frame whose reply filter 0 receives, stored by the probes: sent;
    // cut before the port, refused.
    let frame = spec.state().transmittableFrame(seed: 0x1234_5678_9ABC_DEF0, filter: 0, length: 64)
    let probes = Self.store(frame, at: slot1)
    #expect(spec.probe(probes) == probes.map { _ in .wrote })
    #expect(spec.shadow.byte(testFirstPage + 1, 36) == frame[36])
    #expect(try spec.run(.call(.frameTransmit), [1, 64]) == .success(0))
    #expect(try spec.run(.call(.frameTransmit), [1, 30]) == .failure(.notPermitted))
    steps[steps.count - 1].probes = probes
    steps.append(DiffStep(.call(.frameTransmit), [1, 64]))
    #expect(Generator.admits(steps, configuration))
  }

  @Test("a frame delivered to a page makes its bytes unknown: a transmit from it is not made")
  func transmitOfUnknownBytesIsRefused() throws {
    let spec = SpecTarget(name: "spec", bounds: testBounds, firstPage: testFirstPage)
    spec.reset(bounds: testBounds, firstPage: testFirstPage)
    var steps = Self.filterSteps()
    // A frame arrives in filter 0's buffer (slot 0): the kernel wrote it,
    // the tester does not predict its bytes.
    steps.append(DiffStep(.event(.frameInjected), [7, 60, 0]))
    for step in steps { #expect(try spec.run(step.transition, step.arguments) == .success(0)) }
    #expect(spec.shadow.byte(testFirstPage, 20) == nil)
    #expect(throws: DiffError.self) { try spec.run(.call(.frameTransmit), [0, 64]) }
    #expect(!Generator.admits(steps + [DiffStep(.call(.frameTransmit), [0, 64])], configuration))
    // Stored over, the bytes are known again.
    let probes = Self.store([UInt8](repeating: 0, count: 64), at: slot0)
    _ = spec.probe(probes)
    #expect(try spec.run(.call(.frameTransmit), [0, 64]) == .failure(.notPermitted))
    steps[steps.count - 1].probes = probes
    #expect(Generator.admits(steps + [DiffStep(.call(.frameTransmit), [0, 64])], configuration))
  }
}
