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
  func mapped(rights: Rights) -> SpecTarget {
    let spec = SpecTarget(name: "spec", bounds: testBounds, firstPage: testFirstPage)
    spec.reset(bounds: testBounds, firstPage: testFirstPage)
    #expect(spec.run(.call(.pageAllocate), [testFirstPage, 1, 0]) == .success(0))
    #expect(
      spec.run(.call(.pageMap), [0, 0, 0, testFirstPage, 0, rights.rawValue]) == .success(0))
    return spec
  }

  @Test func loadsAndStoresFollowTheBindings() {
    let spec = mapped(rights: [.read, .write])
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
    #expect(spec.run(.call(.pageProtect), [0, 0, 0, Rights.read.rawValue]) == .success(0))
    #expect(
      spec.probe([DiffProbe(.write, slot0 + 8, value: 9), DiffProbe(.read, slot0 + 8)]) == [
        .faulted, .read(7),
      ])
    // Unmapped, the load faults; mapped again, the word is still there.
    #expect(spec.run(.call(.pageUnmap), [0, 0, 0]) == .success(0))
    #expect(spec.probe([DiffProbe(.read, slot0 + 8)]) == [.faulted])
    #expect(
      spec.run(.call(.pageMap), [0, 0, 0, testFirstPage, 1, Rights.read.rawValue]) == .success(0))
    #expect(spec.probe([DiffProbe(.read, slot1 + 8)]) == [.read(7)])
  }

  @Test func fetchesFollowTheExecuteRight() {
    // Zero bytes run where the binding has execute, fault where it does
    // not; stored words (never zero in their low bytes) are declined.
    let spec = mapped(rights: [.read, .write])
    #expect(
      spec.probe([
        DiffProbe(.execute, slot0), DiffProbe(.write, slot0 + 8, value: 0x101),
        DiffProbe(.execute, slot0 + 8), DiffProbe(.execute, slot1),
      ]) == [.faulted, .wrote, .declined, .faulted])
    #expect(
      spec.run(.call(.pageProtect), [0, 0, 0, Rights([.read, .execute]).rawValue]) == .success(0))
    #expect(
      spec.probe([DiffProbe(.execute, slot0), DiffProbe(.execute, slot0 + 8)]) == [
        .executed, .declined,
      ])
    // Where a frame may have gone the bytes are unknown.
    let unknown = DiffProbeOutcome.declinedOr(.executed)
    #expect(unknown.admits(.declined) && unknown.admits(.executed) && !unknown.admits(.faulted))
  }

  @Test func aFreedPageReadsZeroWhenAllocatedAgain() {
    let spec = mapped(rights: [.read, .write])
    _ = spec.probe([DiffProbe(.write, slot0 + 4088, value: 5)])
    #expect(spec.run(.call(.pageUnmap), [0, 0, 0]) == .success(0))
    #expect(spec.run(.call(.capabilityDelete), [0]) == .success(0))
    #expect(spec.run(.call(.pageAllocate), [testFirstPage, 1, 0]) == .success(0))
    #expect(
      spec.run(.call(.pageMap), [0, 0, 0, testFirstPage, 0, Rights.read.rawValue]) == .success(0))
    #expect(spec.probe([DiffProbe(.read, slot0 + 4088)]) == [.read(0)])
  }

  @Test func framesMakeWordsUnknownOnlyWhereTheyMayGo() {
    // Handler stack on top of slot 0's page: the frame's words there are
    // unknown while the slot is writable, known while it is read-only.
    let frameWord = slot0 + 4096 - 8
    let writable = mapped(rights: [.read, .write])
    #expect(
      writable.run(.call(.environmentSetEntries), [0, 0, DiffProtocol.callEntry, slot1, 0, 0])
        == .success(0))
    #expect(writable.probe([DiffProbe(.read, frameWord)]) == [.read(nil)])
    #expect(!DiffProbeOutcome.read(0).admits(.read(nil)))
    #expect(DiffProbeOutcome.read(nil).admits(.read(0x1234)))
    let readOnly = mapped(rights: .read)
    #expect(
      readOnly.run(.call(.environmentSetEntries), [0, 0, DiffProtocol.callEntry, slot1, 0, 0])
        == .success(0))
    #expect(readOnly.probe([DiffProbe(.read, frameWord)]) == [.read(0)])
  }
}
