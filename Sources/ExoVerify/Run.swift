import Foundation

/// Runs obligations on `jobs` threads, reporting each as it finishes, and
/// returns the reports in the obligations' order.
public func runObligations(
  _ obligations: [Obligation], verifier: Verifier, jobs: Int, cache: ProofCache?,
  progress: @escaping @Sendable (ObligationReport) -> Void
) -> [ObligationReport] {
  // The cache's first tier: proofs by this executable at these bounds.
  guard let cache, let executable = ProofCache.executableHash else {
    return runGroups(obligations, verifier: verifier, jobs: jobs, cache: cache, progress: progress)
  }
  let run =
    "exoverify-run-v1 \(executable) \(verifier.bounds) \(verifier.firstPage) "
    + "\(verifier.mutant?.rawValue ?? "-")"
  func key(_ o: Obligation) -> String { ProofCache.key(run + " " + o.description) }
  var reports: [ObligationReport?] = Array(repeating: nil, count: obligations.count)
  var pending: [Int] = []
  for (i, o) in obligations.enumerated() {
    if let detail = cache.recorded(key(o)) {
      let report = ObligationReport(
        obligation: o, verdict: .proved, seconds: 0, detail: detail.isEmpty ? nil : detail,
        cached: true)
      reports[i] = report
      progress(report)
    } else {
      pending.append(i)
    }
  }
  let checked = runGroups(
    pending.map { obligations[$0] }, verifier: verifier, jobs: jobs, cache: cache,
    progress: progress)
  for (i, report) in zip(pending, checked) {
    reports[i] = report
    if report.verdict == .proved { cache.insert(key(report.obligation), detail: report.detail) }
  }
  return reports.compactMap { $0 }
}

/// ``runObligations`` without the first cache tier.
func runGroups(
  _ obligations: [Obligation], verifier: Verifier, jobs: Int, cache: ProofCache?,
  progress: @escaping @Sendable (ObligationReport) -> Void
) -> [ObligationReport] {
  guard !obligations.isEmpty else { return [] }
  // One group per transition (and one for the initial state): each group
  // shares a solver; groups run in parallel, the slowest first (by
  // ``Obligation/cost``).
  var groups: [[Int]] = []
  var index: [String: Int] = [:]
  for (i, o) in obligations.enumerated() {
    let key = o.group
    if let g = index[key] {
      groups[g].append(i)
    } else {
      index[key] = groups.count
      groups.append([i])
    }
  }
  func cost(_ group: [Int]) -> Int { group.reduce(0) { $0 + obligations[$1].cost } }
  groups.sort { cost($0) > cost($1) }
  let work = groups
  let results = Results(count: obligations.count, groups: groups.count)
  let workers = max(1, min(jobs, groups.count))
  DispatchQueue.concurrentPerform(iterations: workers) { _ in
    // One session per worker: the pre-state and its invariants are built
    // and bit-blasted once, then shared by every transition it checks.
    let session = try? ProofSession(verifier)
    while let g = results.next() {
      let members = work[g]
      let reports = verifier.check(
        group: members.map { obligations[$0] }, cache: cache, session: session)
      for (i, report) in zip(members, reports) {
        results.store(report, at: i)
        progress(report)
      }
    }
  }
  return results.all
}

/// The shared work queue and result slots of a run.
private final class Results: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [ObligationReport?]
  private let groups: Int
  private var cursor = 0

  init(count: Int, groups: Int) {
    slots = Array(repeating: nil, count: count)
    self.groups = groups
  }

  func next() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard cursor < groups else { return nil }
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
