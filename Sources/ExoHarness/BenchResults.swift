import Foundation

/// The figures of one `exo bench` run: the pairs (exokernel and Linux
/// instruction counts and their ratio), the exokernel's own figures, the
/// host figures, and the rows that could not be measured with the reason.
public struct BenchResults: Codable, Equatable, Sendable {
  public struct Pair: Codable, Equatable, Sendable {
    public var name: String
    /// Median instructions per iteration on each side.
    public var exo: UInt64
    public var linux: UInt64
    /// exo / linux.
    public var ratio: Double
    public var target: Double?
    public var meetsTarget: Bool?
    public var exoMetric: String
    public var linuxMetric: String
    public var exoWorkload: String
    public var linuxWorkload: String
    public var exoSample: BenchSample
    public var linuxSample: BenchSample
  }

  public struct Single: Codable, Equatable, Sendable {
    public var name: String
    public var instructions: UInt64
    public var metric: String
    public var workload: String
  }

  /// A wall-time or rate figure of the host tools (not deterministic).
  public struct HostFigure: Codable, Equatable, Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    public var note: String
    public init(name: String, value: Double, unit: String, note: String) {
      (self.name, self.value, self.unit, self.note) = (name, value, unit, note)
    }
  }

  /// A row with no figure, and why.
  public struct Unavailable: Codable, Equatable, Sendable {
    public var name: String
    public var reason: String
    /// The Linux figure, when only the exokernel side is missing.
    public var linux: UInt64?
    public init(name: String, reason: String, linux: UInt64?) {
      (self.name, self.reason, self.linux) = (name, reason, linux)
    }
  }

  /// Which statistic of the per-iteration counts the figures are.
  public var statistic = "median per iteration, cost of an empty rdtsc pair subtracted"
  public var pairs: [Pair] = []
  public var exoOnly: [Single] = []
  public var host: [HostFigure] = []
  public var unavailable: [Unavailable] = []
  /// Instructions from reset to the benchmark program's first instruction
  /// (the kernel's halted time taken off).
  public var bootInstructions: UInt64?
  /// The QEMU arguments both sides ran with, besides the image.
  public var qemu: [String] = []
  /// The Linux kernel package measured.
  public var linuxKernel: String?
  /// Whether a second run gave the same counts (`nil`: not checked).
  public var deterministic: Bool?

  public init() {}

  /// The date both guests' real-time clock starts at.
  public static let rtcBase = "2026-01-01T00:00:00"

  /// Pairs the guest figures by `BenchRows`. `linux` is `nil` when Linux
  /// was not run (`why` says why). A figure that is missing and not
  /// excused by its row's `pending` reason is an error.
  public static func combine(
    exo: BenchLog, linux: BenchLog?, whyNoLinux: String = "Linux was not run"
  ) throws(BenchCombineError) -> BenchResults {
    var results = BenchResults()
    for row in BenchRows.pairs {
      let l = linux?.samples[row.linuxMetric]
      if linux != nil && l == nil { throw .missing(side: "linux", metric: row.linuxMetric) }
      guard let e = exo.samples[row.exoMetric] else {
        guard let pending = row.pending else { throw .missing(side: "exo", metric: row.exoMetric) }
        results.unavailable.append(Unavailable(name: row.name, reason: pending, linux: l?.median))
        continue
      }
      guard let l else {
        results.unavailable.append(Unavailable(name: row.name, reason: whyNoLinux, linux: nil))
        continue
      }
      let ratio = l.median == 0 ? Double.infinity : Double(e.median) / Double(l.median)
      results.pairs.append(
        Pair(
          name: row.name, exo: e.median, linux: l.median, ratio: ratio, target: row.target,
          meetsTarget: row.target.map { ratio <= $0 }, exoMetric: row.exoMetric,
          linuxMetric: row.linuxMetric, exoWorkload: row.exoWorkload,
          linuxWorkload: row.linuxWorkload, exoSample: e, linuxSample: l))
    }
    for row in BenchRows.singles {
      guard let e = exo.samples[row.metric] else {
        guard let pending = row.pending else { throw .missing(side: "exo", metric: row.metric) }
        results.unavailable.append(Unavailable(name: row.name, reason: pending, linux: nil))
        continue
      }
      results.exoOnly.append(
        Single(name: row.name, instructions: e.median, metric: row.metric, workload: row.workload))
    }
    results.bootInstructions = exo.bootInstructions
    return results
  }

  /// Every count of every workload on both sides (median, minimum,
  /// maximum) and the boot figure, for comparing two runs.
  public static func counts(_ logs: [BenchLog]) -> [String: [UInt64]] {
    var all: [String: [UInt64]] = [:]
    for log in logs {
      for (name, s) in log.samples { all[name] = [s.median, s.min, s.max, UInt64(s.iterations)] }
      if let boot = log.bootInstructions { all["\(log.side).boot"] = [boot] }
    }
    return all
  }

  // MARK: Output

  /// The table `exo bench` prints.
  public func table() -> String {
    var lines: [String] = []
    func row(_ cells: [String]) {
      let widths = [30, 12, 12, 8, 14]
      var text = ""
      for (i, cell) in cells.enumerated() {
        let w = widths[min(i, widths.count - 1)]
        text += i == 0 ? cell.padding(toLength: w, withPad: " ", startingAt: 0) : pad(cell, w)
      }
      lines.append(String(text.reversed().drop { $0 == " " }.reversed()))
    }
    lines.append("instructions per iteration (\(statistic)):")
    row(["path", "exo", "linux", "ratio", "target"])
    for p in pairs {
      let target = p.target.map {
        "<= \(format($0))" + (p.meetsTarget == true ? " met" : " not met")
      }
      row([p.name, "\(p.exo)", "\(p.linux)", format(p.ratio), target ?? ""])
    }
    for s in exoOnly { row([s.name, "\(s.instructions)", "-", "-", ""]) }
    if let bootInstructions {
      row(["boot to first user instruction", "\(bootInstructions)", "-", "-", ""])
    }
    if !host.isEmpty {
      lines.append("")
      lines.append("host figures (wall time, not deterministic):")
      let width = max(30, (host.map(\.name.count).max() ?? 0) + 1)
      for h in host {
        lines.append(
          h.name.padding(toLength: width, withPad: " ", startingAt: 0)
            + pad(format(h.value), 12) + " \(h.unit)" + (h.note.isEmpty ? "" : "  (\(h.note))"))
      }
    }
    if !unavailable.isEmpty {
      lines.append("")
      lines.append("not available:")
      for u in unavailable {
        let linux = u.linux.map { " (linux: \($0))" } ?? ""
        lines.append("  \(u.name): \(u.reason)\(linux)")
      }
    }
    lines.append("")
    lines.append("workloads:")
    for p in pairs {
      lines.append("  \(p.name): exo \(p.exoWorkload); linux \(p.linuxWorkload)")
    }
    for s in exoOnly { lines.append("  \(s.name): \(s.workload)") }
    if let deterministic {
      lines.append("")
      lines.append(
        deterministic
          ? "deterministic: a second run gave the same counts"
          : "NOT deterministic: a second run gave different counts")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The JSON report: an object whose `pairs` array has `name`, `exo`,
  /// `linux` and `ratio` (exo / linux) for each measured pair.
  public func json() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(self)
  }

  /// A horizontal bar chart of the ratios on a log scale, with 1 (parity)
  /// and each pair's target marked.
  public func svg() -> String {
    let ratios = pairs.map(\.ratio).filter { $0.isFinite && $0 > 0 }
    let targets = pairs.compactMap(\.target)
    let values = ratios + targets + [1]
    let low = floor(log10(values.min() ?? 0.1))
    let high = max(ceil(log10(values.max() ?? 10)), low + 1)
    let (left, width, barHeight, gap, top) = (230.0, 440.0, 22.0, 12.0, 50.0)
    let height = top + Double(pairs.count) * (barHeight + gap) + 50
    func x(_ v: Double) -> Double {
      left + (log10(v) - low) / (high - low) * width
    }
    var svg = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(left + width + 40))" \
      height="\(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="10" y="20" font-size="14" font-weight="bold">exo / Linux instructions \
      (lower is better), same QEMU, -icount shift=0</text>

      """
    var decade = low
    while decade <= high {
      let v = pow(10, decade)
      let px = x(v)
      svg += """
        <line x1="\(f(px))" y1="\(f(top - 8))" x2="\(f(px))" y2="\(f(height - 40))" \
        stroke="\(v == 1 ? "black" : "#ccc")"/>
        <text x="\(f(px))" y="\(f(height - 25))" text-anchor="middle">\(format(v))×</text>

        """
      decade += 1
    }
    for (i, p) in pairs.enumerated() {
      let y = top + Double(i) * (barHeight + gap)
      let ratio = p.ratio.isFinite && p.ratio > 0 ? p.ratio : pow(10, high)
      let from = x(min(1, ratio))
      let to = x(max(1, ratio))
      let colour = ratio <= 1 ? "#3a7" : "#c54"
      svg += """
        <text x="\(f(left - 8))" y="\(f(y + 15))" text-anchor="end">\(escape(p.name))</text>
        <rect x="\(f(from))" y="\(f(y))" width="\(f(max(to - from, 1)))" height="\(f(barHeight))" \
        fill="\(colour)"/>
        <text x="\(f(to + 4))" y="\(f(y + 15))">\(format(p.ratio))</text>

        """
      if let target = p.target {
        let tx = x(target)
        svg += """
          <line x1="\(f(tx))" y1="\(f(y - 3))" x2="\(f(tx))" y2="\(f(y + barHeight + 3))" \
          stroke="blue" stroke-width="2" stroke-dasharray="3,2"/>

          """
      }
    }
    svg += """
      <text x="10" y="\(f(height - 8))" fill="blue">dashed: target</text>
      </svg>

      """
    return svg
  }
}

/// A figure `BenchRows` names that a guest did not print.
public enum BenchCombineError: Error, Equatable, CustomStringConvertible {
  case missing(side: String, metric: String)
  public var description: String {
    switch self {
    case .missing(let side, let metric):
      "the \(side) benchmark printed no figure \(metric) (its BENCH line is missing)"
    }
  }
}

private func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
}

/// A ratio or rate with three significant digits.
func format(_ v: Double) -> String {
  guard v.isFinite else { return "\(v)" }
  if v == 0 { return "0" }
  if v >= 100 { return String(format: "%.0f", v) }
  let digits = max(0, 2 - Int(floor(log10(abs(v)))))
  return String(format: "%.\(digits)f", v)
}

private func f(_ v: Double) -> String { String(format: "%.1f", v) }

private func escape(_ text: String) -> String {
  text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;")
}
