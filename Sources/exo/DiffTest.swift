import ArgumentParser
import ExoABI
import ExoDiff
import ExoHarness
import ExoSpec
import ExoVerify
import Foundation

/// `exo difftest`: differential testing. Generates call sequences from a
/// seed, runs each on the spec and on a target (by default the kernel in
/// QEMU), compares every result and the abstract state's digest at every
/// checkpoint, and shrinks the first divergence to a short sequence written
/// as a replay file.
struct DiffTest: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "difftest",
    abstract: "Run generated call sequences on the spec and a target and compare them.",
    discussion: """
      Targets: `kernel` (default: the kernel in QEMU, driven by its in-guest agent), \
      `spec` (the spec against itself: a check of the tester), `spec-mutant:NAME` (the \
      spec with an exoverify mutant), `audit` (the spec with every invariant, transition \
      property and errorUnchanged theorem of exoverify checked after every transition, at \
      --bounds: what the proofs' small bounds cannot see), `audit-mutant:NAME` (the audit \
      of a spec with that mutant). `--kernel-mutant NAME` runs a kernel with a planted \
      bug (`--list-mutants`). Sequence i uses a seed derived from --seed and i, so a run \
      is deterministic for a seed whatever --jobs is. Besides results and state digests \
      the agent's register checks and memory probes are compared (docs/ABI.md \
      "Difftest mode"); a coverage table ends a run. The generator never makes exit of \
      environment 0, and never leaves environment 0 stopped or dying or the kernel \
      idle. Exit status: 0 no divergence, 1 a divergence (shrunk, \
      written as a replay file to --out), 2 bad arguments or a target that cannot run.
      """)

  @Option(help: "The seed of the run (sequence i uses a seed derived from it and i).")
  var seed: UInt64 = 1

  @Option(help: "How many calls in all (whole sequences of --length calls).")
  var calls: Int = 10_000

  @Option(help: "Calls per sequence (the target is reset between sequences).")
  var length: Int = 200

  @Option(help: "Compare state digests after every K calls (results are compared always).")
  var checkpointEvery: Int = 1

  @Option(
    help: "What to compare with the spec: kernel, spec, spec-mutant:NAME, audit, audit-mutant:NAME."
  )
  var against: String = "kernel"

  @Option(help: "Run a kernel with this planted bug (see --list-mutants).")
  var kernelMutant: String?

  @Flag(help: "List the planted kernel bugs (and the spec mutants) and exit.")
  var listMutants = false

  @Option(help: "Boot this kernel image instead of building one (with --against kernel).")
  var kernel: String?

  @Option(help: "Run this many targets in parallel (QEMU instances for the kernel).")
  var jobs: Int = 1

  @Option(help: "Start no new sequence after this many seconds.")
  var timeBudget: Double?

  @Option(help: "The table sizes: kernel (Bounds.kernel) or small (spec targets only).")
  var bounds: String = "kernel"

  @Option(help: "The physical page number of page index 0 (the kernel's is fixed).")
  var firstPage: UInt64 = InfoHeader.kernelFirstPage

  @Option(help: "Fraction (0...1) of calls with hostile arguments.")
  var hostile: Double = 0.15

  @Option(help: "Where to write replay files of divergences.")
  var out: String = ".build/difftest"

  @Flag(help: "Do not shrink a divergence.")
  var noShrink = false

  @Flag(help: "Make no memory probes after steps (results, registers and digests only).")
  var noProbes = false

  func validate() throws {
    guard calls >= 1 else { throw ValidationError("--calls must be at least 1") }
    guard (1...KernelTarget.maximumSteps).contains(length) else {
      throw ValidationError("--length must be in 1...\(KernelTarget.maximumSteps), got \(length)")
    }
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    guard checkpointEvery >= 1 else {
      throw ValidationError("--checkpoint-every must be at least 1")
    }
    guard (0...1).contains(hostile) else { throw ValidationError("--hostile must be in 0...1") }
    if let timeBudget, timeBudget <= 0 {
      throw ValidationError("--time-budget must be positive")
    }
  }

  static let smallBounds = Bounds(
    environments: 4, pages: 16, capabilities: 16, windowSlots: 8, slices: 4, maximumDepth: 3,
    maximumRun: 4)

  func run() throws {
    if listMutants {
      print("kernel mutants (--kernel-mutant NAME):")
      for m in KernelMutant.allCases {
        let name = m.rawValue.padding(toLength: 30, withPad: " ", startingAt: 0)
        let kind = m.kind.padding(toLength: 13, withPad: " ", startingAt: 0)
        print("  \(name) \(kind) \(m.summary)")
      }
      print("spec mutants (--against spec-mutant:NAME):")
      // Mutants of a transition: the packet-filter check's are exoverify's only.
      for m in Mutant.allCases where m.transition != nil { print("  \(m.rawValue)") }
      return
    }
    let tableSizes: Bounds
    switch bounds {
    case "kernel": tableSizes = .kernel
    case "small": tableSizes = Self.smallBounds
    default:
      note("error: --bounds must be kernel or small, got '\(bounds)'")
      throw ExitCode(2)
    }
    let makeCandidate = try candidateFactory(tableSizes)
    var workers: [Differ] = []
    for j in 0..<jobs {
      let candidate: any DiffTarget
      do {
        candidate = try makeCandidate(j)
      } catch {
        note("error: cannot start the target: \(error)")
        throw ExitCode(2)
      }
      workers.append(
        Differ(
          reference: try reference(tableSizes),
          candidate: candidate, bounds: tableSizes, firstPage: firstPage,
          checkpointEvery: checkpointEvery))
    }
    let configuration = Generator.Configuration(
      bounds: tableSizes, firstPage: firstPage, hostileFraction: hostile, probes: !noProbes)
    let outcome = Self.runSequences(
      workers: workers, configuration: configuration, seed: seed, length: length, calls: calls,
      timeBudget: timeBudget)
    let pool = outcome.pool
    let compared = outcome.compared
    let rate = outcome.rate
    let name = workers[0].candidate.name
    let summary =
      "\(pool.sequencesRun) sequences, \(compared) calls compared against \(name) "
      + "(of those generated \(pool.successes) succeed and \(pool.failures) fail on the spec), "
      + "\(outcome.digests) digests "
      + "compared, \(jobs) job\(jobs == 1 ? "" : "s"), seed \(seed); "
      + String(format: "%.1f s, %.0f calls/s", outcome.seconds, rate)
    if let error = pool.error {
      note("error: the target failed: \(error)")
      print(summary)
      throw ExitCode(2)
    }
    guard let found = pool.divergence else {
      print("coverage (outcomes on the spec, per call and event):")
      print(pool.statistics.coverageTable(transitions: Generator.transitions))
      let unreached = try pool.statistics.unreached(transitions: Generator.transitions)
      print(
        unreached.isEmpty
          ? "every call reached success and every error its checks can give"
          : "not reached (\(unreached.count)): " + unreached.joined(separator: ", "))
      print("no divergence: \(summary)")
      return
    }
    let differ = workers[found.worker]
    let divergence = found.divergence
    let sequenceSeed = SplitMix64.derive(seed, found.index)
    print(
      "DIVERGENCE in sequence \(found.index) (seed \(sequenceSeed), \(found.steps.count) calls) "
        + "between spec and \(differ.candidate.name):")
    print(divergence)
    var shortest = Array(found.steps.prefix(divergence.index + 1))
    var final = divergence
    if !noShrink {
      let clock = ContinuousClock()
      let shrinkStart = clock.now
      let shrinker = Shrinker(differ: differ) { Generator.admits($0, configuration) }
      if let shrunk = try shrinker.shrink(found.steps) {
        shortest = shrunk.steps
        final = shrunk.divergence
        print(
          "\nshrunk from \(divergence.index + 1) to \(shortest.count) calls "
            + "(\(shrunk.runs) candidate runs, "
            + String(format: "%.2f s):", Self.seconds(clock.now - shrinkStart)))
      }
    }
    for (i, step) in shortest.enumerated() {
      print("  \(i)  \(step)\(i == final.index ? "   <-- diverges" : "")")
    }
    print(final)
    let replay = try ReplayFile(
      diverging: shortest, divergence: final, bounds: tableSizes, firstPage: firstPage)
    let safeName = differ.candidate.name.map { $0.isLetter || $0.isNumber ? $0 : "-" }
    let path = try replay.write(
      to: out, name: "difftest-\(String(safeName))-seed\(sequenceSeed).json")
    print(
      "replay file: \(path)  (exo replay \(path) --on spec passes; --on kernel reruns it)")
    print(summary)
    throw ExitCode.failure
  }

  /// Makes job j's candidate target.
  func candidateFactory(_ tableSizes: Bounds) throws -> (Int) throws -> any DiffTarget {
    if let kernelMutant {
      guard let mutant = KernelMutant(rawValue: kernelMutant) else {
        note(
          "error: no kernel mutant '\(kernelMutant)'; have: "
            + KernelMutant.allCases.map(\.rawValue).joined(separator: ", "))
        throw ExitCode(2)
      }
      let report = try buildImages(quiet: true, mutants: [mutant])
      guard let image = report.mutantKernels[mutant] else { throw ExitCode(2) }
      return { _ in try KernelTarget(kernel: image, name: "kernel-mutant:\(mutant.rawValue)") }
    }
    switch against {
    case "kernel":
      guard tableSizes == .kernel, firstPage == InfoHeader.kernelFirstPage else {
        note(
          "error: the kernel runs --bounds kernel and --first-page "
            + "\(InfoHeader.kernelFirstPage)")
        throw ExitCode(2)
      }
      let image: URL
      if let kernel {
        image = URL(fileURLWithPath: kernel)
      } else {
        image = try buildImages(quiet: true).kernel
      }
      return { _ in try KernelTarget(kernel: image) }
    case "spec":
      return { _ in SpecTarget(name: "spec (copy)", bounds: tableSizes, firstPage: firstPage) }
    case let name where name.hasPrefix("spec-mutant:"):
      let mutant = try specMutant(String(name.dropFirst("spec-mutant:".count)))
      return { _ in
        MutantSpecTarget(name: name, bounds: tableSizes, firstPage: self.firstPage) { t, s, a in
          mutant.applyConcrete(t, to: &s, a)
        }
      }
    case "audit":
      return { _ in AuditTarget(bounds: tableSizes, firstPage: self.firstPage) }
    case let name where name.hasPrefix("audit-mutant:"):
      let mutant = try specMutant(String(name.dropFirst("audit-mutant:".count)))
      return { _ in
        AuditTarget(name: name, bounds: tableSizes, firstPage: self.firstPage) { t, s, a in
          mutant.applyConcrete(t, to: &s, a)
        }
      }
    default:
      note(
        "error: --against must be kernel, spec, spec-mutant:NAME, audit or audit-mutant:NAME, "
          + "got '\(against)'")
      throw ExitCode(2)
    }
  }

  /// The reference target: the spec, or for `audit-mutant:NAME` the spec
  /// with that mutant (the audit compares a spec with itself, so that only
  /// a broken theorem, never a changed result, can end a run).
  func reference(_ tableSizes: Bounds) throws -> any DiffTarget {
    guard against.hasPrefix("audit-mutant:"), kernelMutant == nil else {
      return SpecTarget(name: "spec", bounds: tableSizes, firstPage: firstPage)
    }
    let mutant = try specMutant(String(against.dropFirst("audit-mutant:".count)))
    return MutantSpecTarget(name: "spec", bounds: tableSizes, firstPage: firstPage) { t, s, a in
      mutant.applyConcrete(t, to: &s, a)
    }
  }

  /// The spec mutant called `name` (one that changes a transition).
  func specMutant(_ name: String) throws -> Mutant {
    guard let mutant = Mutant(rawValue: name), mutant.transition != nil else {
      note(
        "error: no spec mutant '\(name)'; have: "
          + Mutant.allCases.filter { $0.transition != nil }.map(\.rawValue).joined(
            separator: ", "))
      throw ExitCode(2)
    }
    return mutant
  }

  /// What ``runSequences`` did: the pool (sequences run, the divergence
  /// or error found), calls and digests compared, and the wall time.
  struct Outcome {
    var pool: Pool
    var compared: Int
    var digests: Int
    var seconds: Double
    var rate: Double { Double(compared) / max(seconds, 1e-9) }
  }

  /// Runs the sequences of `calls` calls (sequences of `length`, sequence i
  /// seeded from `seed` and i) on the workers, one thread each.
  static func runSequences(
    workers: [Differ], configuration: Generator.Configuration, seed: UInt64, length: Int,
    calls: Int, timeBudget: Double?
  ) -> Outcome {
    let sequences = (calls + length - 1) / length
    let clock = ContinuousClock()
    let began = clock.now
    let deadline = timeBudget.map { began + .milliseconds(Int64($0 * 1000)) }
    let pool = Pool(sequences: sequences)
    let boxes = workers.map(Box.init)
    DispatchQueue.concurrentPerform(iterations: workers.count) { j in
      let differ = boxes[j].differ
      while let index = pool.next(deadline: deadline, clock: clock) {
        let sequenceSeed = SplitMix64.derive(seed, index)
        let (steps, statistics) = Generator.sequence(
          seed: sequenceSeed, length: length, configuration: configuration)
        do {
          if let divergence = try differ.firstDivergence(steps) {
            pool.found(index: index, worker: j, steps: steps, divergence: divergence)
          }
        } catch {
          pool.failed(index: index, error: "\(error)")
        }
        pool.finished(statistics)
      }
    }
    return Outcome(
      pool: pool, compared: workers.reduce(0) { $0 + $1.stepsRun },
      digests: workers.reduce(0) { $0 + $1.digestsCompared },
      seconds: seconds(clock.now - began))
  }

  static func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
  }
}

/// A worker's differ, handed to one thread.
final class Box: @unchecked Sendable {
  let differ: Differ
  init(_ differ: Differ) { self.differ = differ }
}

/// The sequences to run, shared by the workers: each takes the next index;
/// after a divergence at index i no index above i is started, so the
/// divergence reported (the lowest index) is the same whatever the jobs.
final class Pool: @unchecked Sendable {
  struct Found {
    var index: Int
    var worker: Int
    var steps: [DiffStep]
    var divergence: Divergence
  }

  let lock = NSLock()
  let sequences: Int
  var nextIndex = 0
  var sequencesRun = 0
  var successes = 0
  var failures = 0
  var statistics = Generator.Statistics()
  var divergence: Found?
  var error: String?

  init(sequences: Int) { self.sequences = sequences }

  func next(deadline: ContinuousClock.Instant?, clock: ContinuousClock) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    if let deadline, clock.now >= deadline { return nil }
    guard error == nil, nextIndex < sequences, nextIndex < (divergence?.index ?? .max) else {
      return nil
    }
    defer { nextIndex += 1 }
    return nextIndex
  }

  func found(index: Int, worker: Int, steps: [DiffStep], divergence d: Divergence) {
    lock.lock()
    if index < (divergence?.index ?? .max) {
      divergence = Found(index: index, worker: worker, steps: steps, divergence: d)
    }
    lock.unlock()
  }

  func failed(index: Int, error e: String) {
    lock.lock()
    if error == nil { error = "sequence \(index): \(e)" }
    lock.unlock()
  }

  func finished(_ statistics: Generator.Statistics) {
    lock.lock()
    sequencesRun += 1
    successes += statistics.totalSuccesses
    failures += statistics.totalFailures
    self.statistics.merge(statistics)
    lock.unlock()
  }
}
