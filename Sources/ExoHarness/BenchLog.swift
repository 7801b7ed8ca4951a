import Foundation

/// One workload's per-iteration instruction counts, as a guest benchmark
/// program reports them (the cost of an empty `rdtsc` pair already taken
/// off).
public struct BenchSample: Equatable, Sendable, Codable {
  public var median: UInt64
  public var min: UInt64
  public var max: UInt64
  public var iterations: Int

  public init(median: UInt64, min: UInt64, max: UInt64, iterations: Int) {
    (self.median, self.min, self.max, self.iterations) = (median, min, max, iterations)
  }
}

/// What one guest run of a benchmark program printed. Both guest programs
/// (the exokernel's `bench` and Linux's `linuxbench.c`) print:
///
///     BENCH-BEGIN <side>
///     BENCH-BOOT <rdtsc at the program's first instruction>      (optional)
///     BENCH-OVERHEAD <median cost of an empty rdtsc pair>
///     BENCH <name> <median> <min> <max> <iterations>             (one per workload)
///     BENCH-FAIL <reason>                                        (on failure)
///     BENCH-END
///
/// Other lines (kernel messages) are ignored, but for the exokernel's
/// `exo: timer running (halted for N cycles)`, which gives the clock time
/// the kernel spent halted before the program ran.
public struct BenchLog: Equatable, Sendable {
  public var side: String
  public var samples: [String: BenchSample] = [:]
  public var bootClock: UInt64?
  public var halted: UInt64?
  public var overhead: UInt64?
  public var failures: [String] = []

  /// Instructions from reset to the program's first `rdtsc`: the clock
  /// then, less the time the kernel spent halted.
  public var bootInstructions: UInt64? {
    guard let bootClock else { return nil }
    return bootClock - min(halted ?? 0, bootClock)
  }

  public init(side: String) { self.side = side }

  /// Parses a console transcript; every malformed `BENCH` line is an error
  /// naming its line number.
  public static func parse(_ console: String, side: String) throws(BenchLogError) -> BenchLog {
    var log = BenchLog(side: side)
    var begun = false
    var ended = false
    // Serial consoles end lines with "\r\n", one Character in Swift.
    for (index, raw) in console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
      .enumerated()
    {
      let number = index + 1
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.hasPrefix("exo: timer running (halted for ") {
        let digits = line.dropFirst("exo: timer running (halted for ".count)
          .prefix { $0.isNumber }
        guard let value = UInt64(digits) else {
          throw .malformed(line: number, text: line, reason: "no cycle count")
        }
        log.halted = value
        continue
      }
      guard line.hasPrefix("BENCH") else { continue }
      let fields = line.split(separator: " ").map(String.init)
      func number64(_ i: Int) throws(BenchLogError) -> UInt64 {
        guard i < fields.count, let v = UInt64(fields[i]) else {
          throw .malformed(
            line: number, text: line,
            reason: "field \(i + 1) is not a count")
        }
        return v
      }
      switch fields[0] {
      case "BENCH-BEGIN":
        guard fields.count == 2, fields[1] == side else {
          throw .malformed(line: number, text: line, reason: "expected BENCH-BEGIN \(side)")
        }
        guard !begun else { throw .malformed(line: number, text: line, reason: "a second begin") }
        begun = true
      case "BENCH-BOOT":
        guard fields.count == 2 else {
          throw .malformed(line: number, text: line, reason: "expected BENCH-BOOT <count>")
        }
        log.bootClock = try number64(1)
      case "BENCH-OVERHEAD":
        guard fields.count == 2 else {
          throw .malformed(line: number, text: line, reason: "expected BENCH-OVERHEAD <count>")
        }
        log.overhead = try number64(1)
      case "BENCH":
        guard begun, !ended else {
          throw .malformed(line: number, text: line, reason: "a result outside BEGIN...END")
        }
        guard fields.count == 6 else {
          throw .malformed(
            line: number, text: line,
            reason: "expected BENCH <name> <median> <min> <max> <iterations>")
        }
        let name = fields[1]
        let (median, low, high) = (try number64(2), try number64(3), try number64(4))
        guard let iterations = Int(fields[5]), iterations > 0 else {
          throw .malformed(line: number, text: line, reason: "iterations must be positive")
        }
        guard low <= median, median <= high else {
          throw .malformed(line: number, text: line, reason: "not min <= median <= max")
        }
        guard log.samples[name] == nil else {
          throw .malformed(line: number, text: line, reason: "\(name) reported twice")
        }
        log.samples[name] = BenchSample(
          median: median, min: low, max: high, iterations: iterations)
      case "BENCH-FAIL":
        log.failures.append(fields.dropFirst().joined(separator: " "))
      case "BENCH-END":
        guard begun else { throw .malformed(line: number, text: line, reason: "end before begin") }
        ended = true
      default:
        throw .malformed(line: number, text: line, reason: "unknown record \(fields[0])")
      }
    }
    if !log.failures.isEmpty { throw .failed(side: side, reasons: log.failures) }
    guard begun else { throw .noOutput(side: side) }
    guard ended else { throw .incomplete(side: side) }
    return log
  }
}

/// Why a benchmark transcript cannot be used.
public enum BenchLogError: Error, Equatable, CustomStringConvertible {
  case malformed(line: Int, text: String, reason: String)
  case noOutput(side: String)
  case incomplete(side: String)
  case failed(side: String, reasons: [String])

  public var description: String {
    switch self {
    case .malformed(let line, let text, let reason):
      "console line \(line): \(reason): \(text)"
    case .noOutput(let side): "the \(side) benchmark printed no BENCH-BEGIN \(side)"
    case .incomplete(let side): "the \(side) benchmark stopped before BENCH-END"
    case .failed(let side, let reasons):
      "the \(side) benchmark failed: \(reasons.joined(separator: "; "))"
    }
  }
}
