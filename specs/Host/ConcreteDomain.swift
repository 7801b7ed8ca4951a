import ExoABI

/// The spec on plain Swift values with its tables in Swift arrays: the
/// fast oracle of the host tools and tests.
public struct ConcreteDomain: PlainDomain, Sendable {
  public typealias Column = [UInt64]

  /// Where ``pageByte(_:_:)`` reads user memory; nil: every byte is zero.
  public let memory: PageContents?

  public init(memory: PageContents? = nil) { self.memory = memory }

  @inline(__always) public func pageByte(_ page: UInt64, _ offset: UInt64) -> UInt64 {
    guard let memory else { return 0 }
    return memory.byte(page, offset) & 0xff
  }

  public func withScratch<R>(_ words: Int, _ body: (UnsafeMutablePointer<UInt64>) -> R) -> R {
    var scratch = [UInt64](repeating: 0, count: max(words, 1))
    return scratch.withUnsafeMutableBufferPointer { body($0.baseAddress.unsafelyUnwrapped) }
  }

  @inline(__always)
  public func read(_ table: [UInt64], _ index: UInt64, default fallback: UInt64) -> UInt64 {
    index < UInt64(table.count) ? table[Int(index)] : fallback
  }

  @inline(__always)
  public func write(_ table: inout [UInt64], _ index: UInt64, _ value: UInt64) {
    if index < UInt64(table.count) { table[Int(index)] = value }
  }
}

extension Outcome where D == ConcreteDomain {
  /// The outcome as the ABI's `SyscallResult`.
  public var result: SyscallResult { SyscallResult(status: status, value: value) }
}

/// The contents of user memory as a host tool knows them, for the spec's
/// reads of it (``SpecDomain/pageByte(_:_:)``): the differential tester's
/// shadow of what its probes stored, a libOS machine's page memory, a
/// test's frame. Set `byte` before running a call that reads memory.
public final class PageContents: @unchecked Sendable {
  /// Byte `offset` of physical page `page`.
  public var byte: (_ page: UInt64, _ offset: UInt64) -> UInt64

  public init(_ byte: @escaping (_ page: UInt64, _ offset: UInt64) -> UInt64 = { _, _ in 0 }) {
    self.byte = byte
  }
}
