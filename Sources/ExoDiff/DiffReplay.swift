import ExoABI
import ExoSpec
import Foundation

extension ReplayFile {
  /// A replay file of a diverging sequence (docs/replay-format.md): the
  /// ABI's initial state, every step with the result the spec gives
  /// (so the file passes on the spec and fails on a target that diverges),
  /// the spec's final state, and a note on the step where the targets
  /// disagree naming both results. The spec runs as in the tester
  /// (``SpecTarget``): its memory reads see what the probes stored. Throws
  /// only for steps the generator does not make (a read of memory the
  /// tester does not know).
  public init(
    diverging steps: [DiffStep], divergence: Divergence, bounds: Bounds, firstPage: UInt64
  ) throws {
    let spec = SpecTarget(name: "spec", bounds: bounds, firstPage: firstPage)
    var replaySteps: [ReplayStep] = []
    for (i, step) in steps.enumerated() {
      let result = try spec.run(step.transition, step.arguments)
      _ = spec.probe(step.probes)
      var note: String?
      if i == divergence.index {
        func text(_ r: SyscallResult?) -> String {
          r.map { ReplayExpectation($0).description } ?? "-"
        }
        switch divergence.kind {
        case .result:
          note =
            "divergence: \(divergence.referenceName) gives \(text(divergence.referenceResult)), "
            + "\(divergence.candidateName) gives \(text(divergence.candidateResult))"
        case .failure:
          note =
            "divergence: \(divergence.candidateName) failed at this step: "
            + (divergence.failure ?? "no result")
        case .machine:
          note =
            "divergence: user code saw the machine differently after this step "
            + "(\(divergence.referenceName) → \(divergence.candidateName)): "
            + divergence.machineDifferences.joined(separator: "; ")
        case .state:
          let shown = divergence.stateDifferences.prefix(4).joined(separator: "; ")
          let more =
            divergence.stateDifferences.count > 4
            ? "; … (\(divergence.stateDifferences.count) fields)" : ""
          note =
            "divergence: states differ after this step (\(divergence.referenceName) → "
            + "\(divergence.candidateName)): \(shown)\(more)"
        }
      }
      replaySteps.append(
        ReplayStep(
          step.transition, step.arguments, expect: ReplayExpectation(result), note: note,
          probes: step.probes))
    }
    self.init(
      bounds: bounds, firstPage: firstPage, initial: .initial, policy: .kernel, steps: replaySteps,
      final: spec.state())
  }

  /// Writes the file as JSON to `directory/name`, creating the directory.
  @discardableResult
  public func write(to directory: String, name: String) throws -> String {
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: true)
    let path = (directory as NSString).appendingPathComponent(name)
    try encodedJSON().write(to: URL(fileURLWithPath: path))
    return path
  }
}

extension ReplayFile {
  /// Runs the file on `target` (the kernel, or any other target) from the
  /// ABI's initial state: every result, then the final state. A file that
  /// starts from an explicit state (an exoverify counterexample) runs only
  /// on the spec (`runOnSpec`).
  public func run(on target: any DiffTarget) throws -> ReplayReport {
    guard initial == .initial else {
      throw DiffError.targetFailed(
        "the file starts from an explicit state, which only the spec can start from")
    }
    let diffSteps = steps.map { DiffStep($0.transition, $0.arguments, probes: $0.probes) }
    let run = try target.observe(
      diffSteps, checkpointEvery: max(1, diffSteps.count), bounds: bounds, firstPage: firstPage)
    if let failure = run.failure {
      throw DiffError.targetFailed(
        "\(target.name) failed at step \(run.observations.count): \(failure)")
    }
    let state = try target.state()
    let reports = zip(steps.indices, run.observations).map { i, observation in
      ReplayStepReport(index: i, step: steps[i], result: observation.result)
    }
    // What user code saw of the machine, against the spec's prediction.
    let spec = SpecTarget(name: "spec", bounds: bounds, firstPage: firstPage)
    let predicted = try spec.observe(
      diffSteps, checkpointEvery: max(1, diffSteps.count), bounds: bounds, firstPage: firstPage)
    var machine: [String] = []
    for (i, seen) in run.observations.enumerated() {
      let expected = predicted.observations[i].machine
      guard !expected.admits(seen.machine) else { continue }
      machine += expected.differences(from: seen.machine, step: diffSteps[i]).map {
        "after step \(i): \($0)"
      }
    }
    let differences = (final.map { $0.differences(from: state) } ?? []) + machine
    return ReplayReport(steps: reports, finalState: state, finalDifferences: differences)
  }
}

extension ReplayFile {
  /// Whether this is a file of the differential tester's, to run with
  /// ``runOnTesterSpec()``: it starts from the initial state, takes steps
  /// as the kernel does and has probes.
  public var isTesterFile: Bool {
    initial == .initial && policy == .kernel && steps.contains { !$0.probes.isEmpty }
  }

  /// Runs the file on the spec as the differential tester does
  /// (``SpecTarget``): the probes' stores are the page contents the spec's
  /// memory reads see, so that `frameTransmit` sends the frame a store put
  /// there (`runOnSpec` reads zero pages). Throws when the file does not
  /// start from the initial state, or a step reads memory the tester does
  /// not know.
  public func runOnTesterSpec() throws -> ReplayReport {
    try run(on: SpecTarget(name: "spec", bounds: bounds, firstPage: firstPage))
  }
}
