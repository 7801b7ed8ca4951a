import ExoABI
import LibOS

/// A prime sieve pipeline of environments connected by RPC. Environment 0
/// generates 2, 3, 4, ... and calls the first stage with each; a stage keeps
/// up to 16 primes, forwards every number none of them divides to the next
/// stage (forked when first needed), and takes a number that reaches it
/// with room left as a new prime. Numbers travel in order, so every prime
/// is found after all smaller ones. Prints the first 100 primes.
public enum Primes {
  static let perStage = 16
  static let wanted: UInt64 = 100

  public static func main<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart?)
    throws(ExoError) -> UInt64
  {
    if let start { return stage(os, index: start.argument) }
    let first = try os.fork(function: 1, argument: 1)
    var found: UInt64 = 0
    var n: UInt64 = 2
    while found < wanted {
      found += try os.rpc(first, Message(n)).m0
      n += 1
    }
    _ = try os.rpc(first, Message(0, 1))
    try os.reapAll()
    os.print("primes: found \(found) primes, the last below \(n)")
    return 0
  }

  /// Stage `index` of the pipeline. A reply's m0 is 1 when the number was
  /// a new prime.
  static func stage<K: KernelInterface>(_ os: LibOS<K>, index: UInt64) -> UInt64 {
    var primes: [UInt64] = []
    var next: Child? = nil
    var failed = false
    var done = false
    os.serve { _, message in
      if message.m1 == 1 {
        if let next { _ = try? os.rpc(next, message) }
        done = true
        return Message()
      }
      let n = message.m0
      for p in primes where n % p == 0 { return Message(0) }
      if primes.count < perStage {
        primes.append(n)
        os.print("primes: \(n) (stage \(index))")
        return Message(1)
      }
      do throws(ExoError) {
        if next == nil { next = try os.fork(function: 1, argument: index + 1) }
        guard let next else { return Message(0) }
        return try os.rpc(next, message)
      } catch {
        failed = true
        os.print("primes: stage \(index) could not forward \(n): \(error.rawValue)")
        return Message(0)
      }
    }
    while !done { os.yield() }
    if (try? os.reapAll()) == nil { failed = true }
    return failed ? 1 : 0
  }
}
