import ExoABI

/// The spec on plain Swift values with its tables in Swift arrays: the
/// fast oracle of the host tools and tests.
public struct ConcreteDomain: PlainDomain, Sendable {
  public typealias Column = [UInt64]

  public init() {}

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
