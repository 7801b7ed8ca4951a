import ExoABI
import Testing

@Suite("ExoABI encodings")
struct ABITests {
  @Test("every difftest anomaly bit is described once; an undefined bit is reported as unknown")
  func anomalyNames() {
    let bits = DiffAnomaly.described.map(\.0.rawValue)
    #expect(Set(bits).count == bits.count)
    #expect(bits.allSatisfy { $0.nonzeroBitCount == 1 })
    let all = DiffAnomaly(rawValue: bits.reduce(0, |))
    #expect(all.names.count == bits.count)
    #expect(!all.names.contains { $0.hasPrefix("unknown") })
    let stray = DiffAnomaly(rawValue: 1 << 40)
    #expect(stray.names == ["unknown anomaly bits 0x10000000000"])
  }

  @Test("every syscall number round-trips and is unique")
  func syscallNumbers() {
    var seen = Set<UInt64>()
    for call in Syscall.allCases {
      #expect(Syscall(rawValue: call.rawValue) == call)
      #expect(seen.insert(call.rawValue).inserted, "duplicate number \(call.rawValue)")
      #expect(call.rawValue != 0, "0 is reserved so a zeroed register is never a call")
    }
    #expect(Syscall(rawValue: 0) == nil)
    #expect(Syscall(rawValue: .max) == nil)
  }

  @Test(
    "results round-trip through the two registers",
    arguments: [
      SyscallResult.success(0), .success(42), .success(.max), .failure(.noSuchCall),
      .failure(.invalidArgument), .failure(.badAddress),
    ])
  func resultRoundTrip(_ result: SyscallResult) {
    let decoded = SyscallResult(status: result.status, value: result.value)
    #expect(decoded == result)
    switch decoded.result {
    case .success(let value):
      #expect(result.status == 0)
      #expect(value == result.value)
    case .failure(let error):
      #expect(error.rawValue == result.status)
      #expect(decoded.value == 0)
    }
  }

  @Test("error codes are non-zero, unique and named")
  func errorCodes() {
    var names = Set<String>()
    for error in ExoError.all {
      #expect(error.rawValue != 0)
      #expect(SyscallResult.failure(error).error == error)
      let name = "\(error.name)"
      #expect(name != "unknown")
      #expect(names.insert(name).inserted, "duplicate name \(name)")
    }
    #expect(Set(ExoError.all.map(\.rawValue)).count == ExoError.all.count)
    #expect("\(ExoError(rawValue: 999).name)" == "unknown")
  }

  @Test("debug-exit values give distinct, odd, non-zero QEMU statuses that decode back")
  func debugExit() {
    var statuses = Set<Int32>()
    for value in DebugExit.allCases {
      let status = value.qemuStatus
      #expect(status != 0, "0 is what a triple fault gives")
      #expect(status & 1 == 1)
      #expect(statuses.insert(status).inserted)
      #expect(DebugExit(qemuStatus: status) == value)
    }
    #expect(DebugExit(qemuStatus: 0) == nil)
    #expect(DebugExit(qemuStatus: 1) == nil)
  }

  @Test("rights: subsets, and undefined bits are invalid")
  func rights() {
    #expect(Rights.all.isValid)
    #expect(Rights([.read, .write]).isSubset(of: .all))
    #expect(!Rights(rawValue: 1 << 40).isValid)
    #expect(!Rights(rawValue: Rights.all.rawValue | 1 << 6).isValid)
    #expect(Rights.memory.isDisjoint(with: [.control, .call]))
    #expect(Rights.read.rawValue & Rights.write.rawValue == 0)
  }

  @Test("the state digest is a position-keyed sum of word terms and sees every word")
  func digest() {
    #expect(InfoDigest.of([]) == 0)
    #expect(InfoDigest.of([0, 0, 0]) == 0, "zero words add nothing")
    #expect(InfoDigest.term(index: 5, value: 0) == 0)
    #expect(InfoDigest.of([0x61]) == InfoDigest.term(index: 0, value: 0x61))
    #expect(InfoDigest.of([1, 2]) != InfoDigest.of([2, 1]), "positions matter")
    #expect(InfoDigest.of([1]) != InfoDigest.of([256]))
    #expect(InfoDigest.of([0, 1]) != InfoDigest.of([1, 0]))
    var incremental = InfoDigest()
    for (i, w) in ([7, .max, 0] as [UInt64]).enumerated() { incremental.add(index: i, value: w) }
    #expect(incremental.value == InfoDigest.of([7, .max, 0]))
    // A store keeps it exact: replacing word 1 equals hashing the new image.
    incremental.replace(index: 1, old: .max, new: 42)
    #expect(incremental.value == InfoDigest.of([7, 42, 0]))
    incremental.replace(index: 2, old: 0, new: 9)
    incremental.replace(index: 0, old: 7, new: 0)
    #expect(incremental.value == InfoDigest.of([0, 42, 9]))
    // Distinct single-word changes of a fixed image give distinct digests.
    var seen = Set<UInt64>()
    for i in 0..<64 {
      for v: UInt64 in [1, 2, 3, .max, .max - 1, 1 << 40] {
        var image = [UInt64](repeating: 0, count: 64)
        image[i] = v
        seen.insert(InfoDigest.of(image))
      }
    }
    #expect(seen.count == 64 * 6)
  }

  @Test("typed addresses convert between pages and addresses")
  func addresses() {
    let page = PageNumber(rawValue: 0x1234)
    #expect(page.address.rawValue == 0x1234 * pageSize)
    #expect(page.address.page == page)
    #expect(PhysicalAddress(rawValue: 0x1234 * pageSize + 17).page == page)
    #expect(VirtualAddress(rawValue: UserLayout.start).isUser)
    #expect(!VirtualAddress(rawValue: UserLayout.start - 1).isUser)
    #expect(!VirtualAddress(rawValue: UserLayout.end).isUser)
    #expect(!VirtualAddress(rawValue: 0x10_0000).isUser, "the kernel image is not user space")
    #expect(VirtualAddress(rawValue: 0x8000_0000_1234).pageBase.rawValue == 0x8000_0000_1000)
    #expect(UserLayout.stackTop > UserLayout.imageBase && UserLayout.stackTop <= UserLayout.end)
  }
}
