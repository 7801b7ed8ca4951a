import ExoABI
import ExoProofs
import ExoSpec
import ExoVerify
import Foundation

/// A counterexample for people: the obligation, the call, its result, the
/// invariants that hold before and fail after, and the state words that
/// differ (the rest of the pre-state is in the replay file).
func describe(_ obligation: Obligation, _ example: Counterexample) -> String {
  var lines = ["COUNTEREXAMPLE \(obligation)"]
  if let filters = example.filters {
    // Two filters and a frame: no state, no call.
    lines.append("  " + filters.description)
    return lines.joined(separator: "\n")
  }
  if let t = example.transition {
    let args = zip(t.parameters, example.arguments).map { "\($0)=\(word($1))" }
    lines.append("  call:   \(t.name)(\(args.joined(separator: ", ")))")
  }
  if let result = example.result {
    lines.append("  result: \(result.error.map { "\($0.name)" } ?? "ok \(word(result.value))")")
  }
  let brokenBefore = Invariant.allCases.filter { !$0.holds(in: example.pre) }
  let brokenAfter = Invariant.allCases.filter { !$0.holds(in: example.post) }
  lines.append(
    "  invariants broken before: \(brokenBefore.isEmpty ? "none" : brokenBefore.map(\.name).joined(separator: ", "))"
  )
  lines.append(
    "  invariants broken after:  \(brokenAfter.isEmpty ? "none" : brokenAfter.map(\.name).joined(separator: ", "))"
  )
  let names = ConcreteState.wordNames(bounds: example.pre.bounds)
  let before = example.pre.words
  let after = example.post.words
  var changed = 0
  for i in names.indices where before[i] != after[i] {
    if changed == 0 { lines.append("  state that changed:") }
    changed += 1
    lines.append(
      "    \(names[i].padding(toLength: 34, withPad: " ", startingAt: 0)) \(word(before[i])) → \(word(after[i]))"
    )
  }
  if changed == 0 { lines.append("  state that changed: nothing") }
  // The records the call names, before the call (the whole pre-state is in
  // the replay file).
  if let t = example.transition {
    let prefixes = namedRecords(t, example.arguments, example.pre)
    if !prefixes.isEmpty {
      lines.append("  records the call names, before:")
      for i in names.indices where prefixes.contains(where: { names[i].hasPrefix($0) }) {
        lines.append(
          "    \(names[i].padding(toLength: 34, withPad: " ", startingAt: 0)) \(word(before[i]))")
      }
    }
  }
  return lines.joined(separator: "\n")
}

/// Word-name prefixes of the records a call's arguments name: the target
/// environment, capabilities, pages, window slots and slice positions.
func namedRecords(_ t: Transition, _ arguments: [UInt64], _ state: ConcreteState) -> [String] {
  let b = state.bounds
  var prefixes: [String] = []
  var target: UInt64? = state.current < UInt64(b.environments) ? state.current : nil
  for (name, value) in zip(t.parameters, arguments) {
    switch name {
    case "target", "environment":
      if value < UInt64(b.environments) {
        target = value
        prefixes.append("environments[\(value)].")
      }
    case "envCap", "capability", "memoryCap", "child":
      if value < UInt64(b.capabilities) { prefixes.append("capabilities[\(value)].") }
    case "page", "base":
      if value >= state.firstPage, value - state.firstPage < UInt64(b.pages) {
        prefixes.append("pages[\(value - state.firstPage)].")
      }
    case "position":
      if value < UInt64(b.slices) { prefixes.append("slices[\(value)]") }
    default: break
    }
  }
  if t.parameters.contains("slot"), let target, let i = t.parameters.firstIndex(of: "slot"),
    arguments[i] < UInt64(b.windowSlots), t != .call(.environmentCreate), t != .call(.pageAllocate)
  {
    prefixes.append("bindings[\(target)][\(arguments[i])].")
  }
  if t.parameters.contains("slot"), t == .call(.environmentCreate) || t == .call(.pageAllocate),
    let i = t.parameters.firstIndex(of: "slot"), arguments[i] < UInt64(b.capabilities)
  {
    prefixes.append("capabilities[\(arguments[i])].")
  }
  if let target, !prefixes.contains("environments[\(target)].") {
    prefixes.append("environments[\(target)].")
  }
  return prefixes
}

func word(_ value: UInt64) -> String {
  if value == none { return "none" }
  if value == asynchronousCaller { return "async" }
  return value < 4096 ? String(value) : "0x" + String(value, radix: 16)
}

/// Writes the counterexample as a replay file that starts from its
/// pre-state. The expected result and final state are the correct spec's,
/// so the file passes on the correct spec and fails on a mutated one.
func writeReplay(
  _ obligation: Obligation, _ example: Counterexample, folder: String, mutant: Mutant?
)
  throws -> String?
{
  if let filters = example.filters {
    return try writeFilters(obligation, filters, folder: folder, mutant: mutant)
  }
  guard let transition = example.transition else { return nil }
  var correct = example.pre
  let result = correct.step(transition, example.arguments)
  let note =
    "exoverify counterexample for \(obligation)"
    + (mutant.map { " (mutant \($0.rawValue))" } ?? "")
  let file = ReplayFile(
    bounds: example.pre.bounds, firstPage: example.pre.firstPage, initial: .state(example.pre),
    steps: [
      ReplayStep(transition, example.arguments, expect: ReplayExpectation(result), note: note)
    ],
    final: correct)
  try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  let name =
    (mutant.map { "\($0.rawValue)--" } ?? "")
    + "\(obligation.transitionName)--\(obligation.invariantName).json"
  let path = "\(folder)/\(name)"
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  try encoder.encode(file).write(to: URL(fileURLWithPath: path))
  return path
}

/// Writes a packet-filter counterexample (no call to replay) as JSON: the
/// two filters' words, the frame's bytes and what the check said.
func writeFilters(
  _ obligation: Obligation, _ filters: FilterCounterexample, folder: String, mutant: Mutant?
) throws -> String {
  try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  let name =
    (mutant.map { "\($0.rawValue)--" } ?? "")
    + "\(obligation.transitionName)--\(obligation.invariantName).json"
  let path = "\(folder)/\(name)"
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  try encoder.encode(filters).write(to: URL(fileURLWithPath: path))
  return path
}

/// The bounds as the report prints them, e.g. `E=3 P=3 C=4 W=2 S=2 depth=2 run=2`.
func describe(_ b: Bounds) -> String {
  "E=\(b.environments) P=\(b.pages) C=\(b.capabilities) W=\(b.windowSlots) S=\(b.slices) "
    + "depth=\(b.maximumDepth) run=\(b.maximumRun)"
}

func writeJSON(_ reports: [ObligationReport], to path: String, seconds: Double, bounds: Bounds)
  throws
{
  struct Entry: Encodable {
    var transition, invariant, result: String
    var seconds: Double
    var cached: Bool
    var detail: String?
  }
  /// The bounds every obligation was proved at.
  struct ProofBounds: Encodable {
    var environments, pages, capabilities, windowSlots, slices, depth, run: Int
  }
  struct Document: Encodable {
    var bounds: ProofBounds
    var obligations: [Entry]
    var seconds: Double
  }
  let document = Document(
    bounds: ProofBounds(
      environments: bounds.environments, pages: bounds.pages, capabilities: bounds.capabilities,
      windowSlots: bounds.windowSlots, slices: bounds.slices, depth: bounds.maximumDepth,
      run: bounds.maximumRun),
    obligations: reports.map {
      Entry(
        transition: $0.obligation.transitionName, invariant: $0.obligation.invariantName,
        result: $0.verdict.rawValue, seconds: $0.seconds, cached: $0.cached, detail: $0.detail)
    }, seconds: seconds)
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  try encoder.encode(document).write(to: URL(fileURLWithPath: path))
}

func writeJUnit(_ reports: [ObligationReport], to path: String, seconds: Double) throws {
  func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
  let failures = reports.filter { $0.verdict != .proved }.count
  var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  xml +=
    "<testsuite name=\"exoverify\" tests=\"\(reports.count)\" failures=\"\(failures)\" time=\"\(seconds)\">\n"
  for r in reports {
    xml +=
      "  <testcase classname=\"\(escape(r.obligation.transitionName))\" name=\"\(escape(r.obligation.invariantName))\" time=\"\(r.seconds)\""
    if r.verdict == .proved {
      xml += "/>\n"
    } else {
      xml +=
        ">\n    <failure message=\"\(r.verdict.rawValue)\">\(escape(r.detail ?? r.verdict.rawValue))</failure>\n  </testcase>\n"
    }
  }
  xml += "</testsuite>\n"
  try xml.write(toFile: path, atomically: true, encoding: .utf8)
}
