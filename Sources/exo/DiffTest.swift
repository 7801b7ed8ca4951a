import ArgumentParser
import ExoABI
import ExoDiff
import ExoSpec
import ExoVerify
import Foundation

/// `exo difftest`: differential testing. Generates call sequences from a
/// seed, runs each on the spec and on a target, compares every result and
/// the abstract state's digest at every checkpoint, and shrinks the first
/// divergence to a short sequence written as a replay file.
struct DiffTest: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "difftest",
    abstract: "Run generated call sequences on the spec and a target and compare them.",
    discussion: """
      Targets: `spec` (the spec against itself: a sanity check of the tester), \
      `spec-mutant:NAME` (the spec with an exoverify mutant, e.g. \
      spec-mutant:mapForgetsPageCount), `kernel` (not supported yet: next comes the \
      in-guest agent). The generator never makes the exception event nor exit of \
      environment 0, and never leaves environment 0 stopped or dying or the kernel idle. \
      Exit status: 0 no divergence, 1 a divergence (shrunk, written as a replay file \
      to --out), 2 bad arguments or an unsupported target.
      """)

  @Option(help: "The seed of the first sequence (sequence i uses a seed derived from it).")
  var seed: UInt64 = 1

  @Option(help: "How many sequences to run.")
  var sequences: Int = 20

  @Option(help: "Calls per sequence.")
  var length: Int = 200

  @Option(help: "Compare state digests after every K calls (results are compared always).")
  var checkpointEvery: Int = 1

  @Option(help: "What to compare with the spec: spec, spec-mutant:NAME, or kernel.")
  var against: String = "spec"

  @Option(help: "The table sizes: kernel (Bounds.kernel) or small (4 environments, 16 pages…).")
  var bounds: String = "kernel"

  @Option(help: "The physical page number of page index 0.")
  var firstPage: UInt64 = 0x1000

  @Option(help: "Fraction (0...1) of calls with hostile arguments.")
  var hostile: Double = 0.15

  @Option(help: "Where to write replay files of divergences.")
  var out: String = ".build/difftest"

  @Flag(help: "Do not shrink a divergence.")
  var noShrink = false

  func validate() throws {
    guard sequences >= 1 else { throw ValidationError("--sequences must be at least 1") }
    guard length >= 1 else { throw ValidationError("--length must be at least 1") }
    guard checkpointEvery >= 1 else {
      throw ValidationError("--checkpoint-every must be at least 1")
    }
    guard (0...1).contains(hostile) else { throw ValidationError("--hostile must be in 0...1") }
  }

  static let smallBounds = Bounds(
    environments: 4, pages: 16, capabilities: 16, windowSlots: 8, slices: 4, maximumDepth: 3,
    maximumRun: 4)

  func run() throws {
    let tableSizes: Bounds
    switch bounds {
    case "kernel": tableSizes = .kernel
    case "small": tableSizes = Self.smallBounds
    default:
      note("error: --bounds must be kernel or small, got '\(bounds)'")
      throw ExitCode(2)
    }
    let candidate: any DiffTarget
    if against == "spec" {
      candidate = SpecTarget(name: "spec (copy)")
    } else if against == "kernel" {
      note(
        "error: --against kernel is not yet supported (next: the in-guest agent that runs calls "
          + "in QEMU and exports digests); use spec or spec-mutant:NAME")
      throw ExitCode(2)
    } else if against.hasPrefix("spec-mutant:") {
      let name = String(against.dropFirst("spec-mutant:".count))
      guard let mutant = Mutant(rawValue: name) else {
        note(
          "error: no mutant '\(name)'; have: "
            + Mutant.allCases.map(\.rawValue).joined(separator: ", "))
        throw ExitCode(2)
      }
      candidate = MutantSpecTarget(name: against) { t, s, a in mutant.applyConcrete(t, to: &s, a) }
    } else {
      note("error: --against must be spec, spec-mutant:NAME or kernel, got '\(against)'")
      throw ExitCode(2)
    }
    let differ = Differ(
      reference: SpecTarget(name: "spec"), candidate: candidate, bounds: tableSizes,
      firstPage: firstPage, checkpointEvery: checkpointEvery)
    let configuration = Generator.Configuration(
      bounds: tableSizes, firstPage: firstPage, hostileFraction: hostile)
    let clock = ContinuousClock()
    let began = clock.now
    var successes = 0
    var failures = 0
    for index in 0..<sequences {
      let sequenceSeed = SplitMix64.derive(seed, index)
      let (steps, statistics) = Generator.sequence(
        seed: sequenceSeed, length: length, configuration: configuration)
      successes += statistics.totalSuccesses
      failures += statistics.totalFailures
      guard let divergence = try differ.firstDivergence(steps) else { continue }
      print(
        "DIVERGENCE in sequence \(index) (seed \(sequenceSeed), \(steps.count) calls) "
          + "between spec and \(candidate.name):")
      print(divergence)
      var shortest = Array(steps.prefix(divergence.index + 1))
      var final = divergence
      if !noShrink {
        let shrinkStart = clock.now
        if let shrunk = try Shrinker(differ: differ).shrink(steps) {
          shortest = shrunk.steps
          final = shrunk.divergence
          print(
            "\nshrunk from \(divergence.index + 1) to \(shortest.count) calls "
              + "(\(shrunk.runs) candidate runs, \(Self.seconds(clock.now - shrinkStart)) s):")
        }
      }
      for (i, step) in shortest.enumerated() {
        print("  \(i)  \(step)\(i == final.index ? "   <-- diverges" : "")")
      }
      print(final)
      let replay = ReplayFile(
        diverging: shortest, divergence: final, bounds: tableSizes, firstPage: firstPage)
      let safeName = candidate.name.map { $0.isLetter || $0.isNumber ? $0 : "-" }
      let path = try replay.write(
        to: out, name: "difftest-\(String(safeName))-seed\(sequenceSeed).json")
      print("replay file: \(path)  (exo replay \(path) --on spec passes on the spec)")
      print(
        "\(index + 1) of \(sequences) sequences run, \(differ.stepsRun) calls, "
          + "\(Self.seconds(clock.now - began)) s")
      throw ExitCode.failure
    }
    print(
      "no divergence: \(sequences) sequences × \(length) calls against \(candidate.name) "
        + "(seed \(seed), bounds \(bounds), checkpoint every \(checkpointEvery)); "
        + "\(successes) calls succeeded, \(failures) failed; "
        + "\(differ.digestsCompared) digests compared, \(differ.statesFetched) states fetched; "
        + "\(Self.seconds(clock.now - began)) s")
  }

  static func seconds(_ d: Duration) -> String {
    let c = d.components
    return String(format: "%.2f", Double(c.seconds) + Double(c.attoseconds) / 1e18)
  }
}
