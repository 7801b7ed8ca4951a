import ExoABI
import ExoSpec

/// Shrinks a diverging sequence to a short one that still diverges:
/// drops everything after the divergence, removes chunks of calls (halving
/// the chunk size down to single calls) until no removal keeps the
/// divergence, then simplifies arguments towards 0 and small values, and
/// repeats while anything changed. Every candidate is run on both targets
/// (every result compared, the states after its last step) and kept only if
/// it still diverges; a kept candidate is cut after its exact divergence.
/// Deterministic: the same input gives the same output.
public struct Shrinker {
  public let differ: Differ
  /// At most this many candidate runs in all.
  public var maximumRuns: Int
  /// Candidates the targets can run at all (e.g. `Generator.admits`: the
  /// kernel's agent needs environment 0 alive); others are skipped.
  public var admissible: ([DiffStep]) -> Bool

  public init(
    differ: Differ, maximumRuns: Int = 5_000,
    admissible: @escaping ([DiffStep]) -> Bool = { _ in true }
  ) {
    self.differ = differ
    self.maximumRuns = maximumRuns
    self.admissible = admissible
  }

  public struct Result: Sendable {
    public var steps: [DiffStep]
    public var divergence: Divergence
    /// Candidates run.
    public var runs: Int
  }

  /// Shrinks `steps`; nil when they do not diverge in the first place.
  public func shrink(_ steps: [DiffStep]) throws -> Result? {
    var runs = 1
    let fetching = differ.fetchStates
    differ.fetchStates = false
    defer { differ.fetchStates = fetching }
    guard var best = try differ.firstDivergence(steps, checkpointEvery: 1) else { return nil }
    var current = truncated(steps, at: best)

    /// Keeps `candidate` if it diverges.
    func attempt(_ candidate: [DiffStep]) throws -> Bool {
      guard runs < maximumRuns, admissible(candidate) else { return false }
      runs += 1
      // Results are compared at every call, states only after the last one
      // (the sequence ends where it diverges); a hit is then located exactly.
      guard
        let d = try differ.firstDivergence(candidate, checkpointEvery: max(1, candidate.count))
      else { return false }
      best = d
      current = truncated(candidate, at: d)
      return true
    }

    var changed = true
    while changed && runs < maximumRuns {
      changed = false
      // Chunks, halving down to single calls.
      var size = max(1, current.count / 2)
      while true {
        var start = 0
        while start < current.count {
          var candidate = current
          candidate.removeSubrange(start..<min(start + size, current.count))
          if try attempt(candidate) {
            changed = true
          } else {
            start += size
          }
        }
        if size == 1 { break }
        size /= 2
      }
      // Arguments, towards 0 and small values.
      // A success truncates `current`: every index is checked again.
      var i = 0
      while i < current.count {
        var j = 0
        while i < current.count, j < current[i].arguments.count {
          defer { j += 1 }
          for value in simpler(current[i].arguments[j]) {
            guard i < current.count, j < current[i].arguments.count else { break }
            var candidate = current
            candidate[i].arguments[j] = value
            if try attempt(candidate) {
              changed = true
              break
            }
          }
        }
        i += 1
      }
    }
    // The report of the shortest sequence, with the states compared.
    differ.fetchStates = fetching
    if fetching, let located = try differ.firstDivergence(current, checkpointEvery: 1) {
      best = located
      current = truncated(current, at: located)
    }
    return Result(steps: current, divergence: best, runs: runs)
  }

  func truncated(_ steps: [DiffStep], at divergence: Divergence) -> [DiffStep] {
    Array(steps.prefix(divergence.index + 1))
  }

  /// Simpler values than `value`, simplest first.
  func simpler(_ value: UInt64) -> [UInt64] {
    var out: [UInt64] = []
    for v in [0, 1, 2, 3, value / 2] as [UInt64] where v < value && !out.contains(v) {
      out.append(v)
    }
    return out
  }
}
