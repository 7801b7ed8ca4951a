import ArgumentParser
import ExoABI
import ExoProofs
import ExoSpec
import ExoVerify
import Foundation

@main
struct ExoVerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exoverify",
    abstract: "Prove the exokernel spec's invariants with Z3.",
    discussion: """
      Obligations: the initial state satisfies every invariant; every transition preserves \
      every invariant for all arguments; every failed transition leaves the state unchanged. \
      Unknown and timeout count as failures. Exit status 0 only when every obligation is proved \
      (with --mutants: when every mutant is caught).
      """)

  @Option(name: .shortAndLong, help: "Obligations to check in parallel (default: all cores).")
  var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(help: "Only obligations whose 'transition ⇒ invariant' name contains this text.")
  var only: String?

  @Option(help: "Per-obligation solver timeout in seconds.")
  var timeout: Double = 300

  @Option(
    help: """
      Prove at these bounds instead of the default: E,P,C,W,S,DEPTH,RUN[,F] (environments, pages, \
      capabilities, window slots, slices, derivation depth, pages per run, filter slots (default 2, \
      at most 16)), each at least 1.
      """)
  var bounds: String?

  @Option(help: "Check shard I of N (I from 0): obligation k goes to shard k mod N.")
  var shard: String?

  @Option(help: "Write a JUnit XML report to this file.")
  var junit: String?

  @Option(help: "Write a JSON report to this file.")
  var json: String?

  @Flag(help: "Do not read or write the proof cache.")
  var noCache = false

  @Option(help: "The proof cache folder.")
  var cacheFolder: String = ".build/exoverify-cache"

  @Option(help: "Write each obligation as a standalone SMT-LIB2 file into this folder.")
  var emitSmt2: String?

  @Option(help: "Write counterexample replay files into this folder.")
  var counterexamples: String = ".build/exoverify-counterexamples"

  @Flag(help: "Check that every built-in spec mutant is caught.")
  var mutants = false

  @Flag(help: "List the built-in spec mutants and exit.")
  var listMutants = false

  @Option(help: "Apply one mutant to the spec (see --list-mutants) and check it.")
  var mutant: String?

  func validate() throws {
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
    guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    if shard != nil && parsedShard == nil {
      throw ValidationError("--shard takes I/N with 0 <= I < N, got '\(shard ?? "")'")
    }
    if bounds != nil && parsedBounds == nil {
      throw ValidationError(
        "--bounds takes seven or eight positive numbers E,P,C,W,S,DEPTH,RUN[,F] with RUN <= P and F <= 16, got '\(bounds ?? "")'"
      )
    }
    if let mutant, Mutant(rawValue: mutant) == nil {
      throw ValidationError(
        "no mutant '\(mutant)'; --list-mutants names them: "
          + Mutant.allCases.map(\.rawValue).joined(separator: ", "))
    }
  }

  var parsedBounds: Bounds? {
    guard let bounds else { return nil }
    let n = bounds.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard n.count == 7 || n.count == 8, n.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 4096 })
    else { return nil }
    let v = n.map { $0 ?? 0 }
    guard v[6] <= v[1], v.count == 7 || v[7] <= 16 else { return nil }
    return Bounds(
      environments: v[0], pages: v[1], capabilities: v[2], windowSlots: v[3], slices: v[4],
      maximumDepth: v[5], maximumRun: v[6],
      filters: v.count == 8 ? v[7] : Verifier.proofBounds.filters)
  }

  var parsedShard: (index: Int, count: Int)? {
    guard let shard else { return nil }
    let parts = shard.split(separator: "/")
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, i >= 0, i < n
    else { return nil }
    return (i, n)
  }

  func run() throws {
    if listMutants {
      for m in Mutant.allCases {
        print(
          "\(m.rawValue.padding(toLength: 28, withPad: " ", startingAt: 0)) \(m.transition?.name ?? "packetFilter")"
        )
      }
      return
    }
    let verifier = Verifier(
      bounds: parsedBounds ?? Verifier.proofBounds,
      timeoutMilliseconds: UInt32(min(timeout * 1000, Double(UInt32.max))),
      mutant: mutant.flatMap(Mutant.init(rawValue:)))
    if mutants {
      try runMutants(verifier)
      return
    }
    let obligations = select(
      Obligation.all(abortSteps: Verifier.abortSteps(verifier.bounds)), only: only,
      shard: parsedShard)
    guard !obligations.isEmpty else {
      throw ValidationError("no obligation matches --only '\(only ?? "")'")
    }
    if let emitSmt2 { try emit(obligations, verifier: verifier, to: emitSmt2) }
    let cache =
      noCache || mutant != nil ? nil : ProofCache(folder: URL(fileURLWithPath: cacheFolder))
    say(
      "exoverify: \(obligations.count) obligations at bounds \(describe(verifier.bounds)), "
        + "\(jobs) jobs\(cache == nil ? ", no cache" : "")")
    let printer = ProgressPrinter(total: obligations.count)
    let start = Date()
    let reports = runObligations(obligations, verifier: verifier, jobs: jobs, cache: cache) {
      printer.print($0)
    }
    let elapsed = Date().timeIntervalSince(start)
    let failures = reports.filter { $0.verdict != .proved }
    for report in failures {
      if let example = report.counterexample {
        say("")
        say(describe(report.obligation, example))
        if let path = try? writeReplay(
          report.obligation, example, folder: counterexamples, mutant: verifier.mutant)
        {
          // A packet-filter counterexample has no call: its file holds the
          // filters and the frame.
          say("  \(example.filters == nil ? "replay" : "filters and frame"): \(path)")
        }
      }
    }
    var counts: [ProofVerdict: Int] = [:]
    for r in reports { counts[r.verdict, default: 0] += 1 }
    let cached = reports.filter(\.cached).count
    say("")
    say(
      "exoverify: \(counts[.proved] ?? 0) proved, \(counts[.failed] ?? 0) failed, "
        + "\(counts[.unknown] ?? 0) unknown, \(counts[.timeout] ?? 0) timeout "
        + "(\(cached) from cache) in \(String(format: "%.1f", elapsed)) s "
        + "at bounds \(describe(verifier.bounds))")
    if let json {
      try writeJSON(reports, to: json, seconds: elapsed, bounds: verifier.bounds)
    }
    if let junit { try writeJUnit(reports, to: junit, seconds: elapsed) }
    if !failures.isEmpty { throw ExitCode(1) }
  }

  func emit(_ obligations: [Obligation], verifier: Verifier, to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for o in obligations {
      let name = "\(o.transitionName)--\(o.invariantName).smt2"
      try verifier.smtlib2(o).write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8)
    }
    say("exoverify: wrote \(obligations.count) SMT-LIB2 files to \(folder) (unsat = proved)")
  }

  func runMutants(_ base: Verifier) throws {
    let mutants = Mutant.provable
    say(
      "exoverify: checking \(mutants.count) mutants (each must be caught) at bounds "
        + describe(base.bounds))
    let results = Caught(count: mutants.count)
    let start = Date()
    DispatchQueue.concurrentPerform(iterations: mutants.count) { i in
      let m = mutants[i]
      let begin = Date()
      let report = base.catchMutant(m)
      let seconds = String(format: "%.1f", Date().timeIntervalSince(begin))
      let name = m.rawValue.padding(toLength: 28, withPad: " ", startingAt: 0)
      if let report, let example = report.counterexample {
        let path =
          (try? writeReplay(report.obligation, example, folder: counterexamples, mutant: m)) ?? nil
        let file = example.filters == nil ? "replay" : "filters and frame"
        say("  caught  \(name) by \(report.obligation) [\(seconds) s] \(file): \(path ?? "-")")
        results.set(i, true)
      } else {
        say("  MISSED  \(name) [\(seconds) s]")
      }
    }
    let caught = results.count
    say(
      "exoverify: \(caught) of \(mutants.count) mutants caught in "
        + String(format: "%.1f", Date().timeIntervalSince(start)) + " s")
    say(
      "exoverify: not checked, wrong only past these bounds (the difftest audit at the "
        + "kernel's sizes catches them: exo difftest --against audit-mutant:NAME): "
        + Mutant.sizeMutants.map(\.rawValue).joined(separator: ", "))
    if caught != mutants.count { throw ExitCode(1) }
  }
}

/// Which mutants were caught, filled from worker threads.
final class Caught: @unchecked Sendable {
  private let lock = NSLock()
  private var flags: [Bool]
  init(count: Int) { flags = Array(repeating: false, count: count) }
  func set(_ i: Int, _ value: Bool) {
    lock.lock()
    flags[i] = value
    lock.unlock()
  }
  var count: Int {
    lock.lock()
    defer { lock.unlock() }
    return flags.filter { $0 }.count
  }
}

/// Prints one line per finished obligation with a progress count.
final class ProgressPrinter: @unchecked Sendable {
  private let lock = NSLock()
  private var done = 0
  let total: Int
  init(total: Int) { self.total = total }

  func print(_ report: ObligationReport) {
    lock.lock()
    defer { lock.unlock() }
    done += 1
    let width = String(total).count
    let count = String(done).leftPadding(to: width)
    let name = report.obligation.description.padding(toLength: 52, withPad: " ", startingAt: 0)
    var line =
      "[\(count)/\(total)] \(name) \(report.verdict.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(String(format: "%6.2f", report.seconds)) s"
    if report.cached { line += " (cached)" }
    if let detail = report.detail { line += " — \(detail)" }
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
  }
}

extension String {
  func leftPadding(to width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

/// Writes a line to standard output unbuffered, so lines from worker threads
/// and the main thread appear in order.
func say(_ text: String = "") {
  FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
