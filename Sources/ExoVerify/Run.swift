import Foundation

/// Runs obligations on `jobs` threads, reporting each as it finishes, and
/// returns the reports in the obligations' order.
public func runObligations(
  _ obligations: [Obligation], verifier: Verifier, jobs: Int, cache: ProofCache?,
  progress: @escaping @Sendable (ObligationReport) -> Void
) -> [ObligationReport] {
  let results = Results(count: obligations.count)
  let workers = max(1, min(jobs, obligations.count))
  DispatchQueue.concurrentPerform(iterations: workers) { _ in
    while let i = results.next() {
      let report = verifier.check(obligations[i], cache: cache)
      results.store(report, at: i)
      progress(report)
    }
  }
  return results.all
}

/// The shared work queue and result slots of a run.
private final class Results: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [ObligationReport?]
  private var cursor = 0

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func next() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard cursor < slots.count else { return nil }
    cursor += 1
    return cursor - 1
  }

  func store(_ report: ObligationReport, at i: Int) {
    lock.lock()
    slots[i] = report
    lock.unlock()
  }

  var all: [ObligationReport] {
    lock.lock()
    defer { lock.unlock() }
    return slots.compactMap { $0 }
  }
}

/// Obligations whose description contains `pattern` (case-insensitive), and
/// shard `index` of `count` (obligation i goes to shard i mod count).
public func select(
  _ obligations: [Obligation], only pattern: String?, shard: (index: Int, count: Int)?
) -> [Obligation] {
  var list = obligations
  if let pattern {
    let needle = pattern.lowercased()
    list = list.filter { $0.description.lowercased().contains(needle) }
  }
  if let shard {
    list = list.enumerated().filter { $0.offset % shard.count == shard.index }.map(\.element)
  }
  return list
}
