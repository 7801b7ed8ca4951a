import ExoABI
import ExoSpec

/// One call or event of a generated sequence: what the current environment
/// does next, with its arguments in ABI order.
public struct DiffStep: Hashable, Sendable, CustomStringConvertible {
  public var transition: Transition
  public var arguments: [UInt64]
  /// Memory probes made after the step by the environment that runs next.
  public var probes: [DiffProbe]

  public init(_ transition: Transition, _ arguments: [UInt64] = [], probes: [DiffProbe] = []) {
    precondition(
      arguments.count == transition.parameters.count,
      "\(transition) takes \(transition.parameters.count) arguments")
    self.transition = transition
    self.arguments = arguments
    self.probes = probes
  }

  /// `pageMap(0, 0, 1, 4096, 0, 3)`, words as `WordFormat` writes them,
  /// then the probes (`read 0x9000000000`, `write 0x9000000008 = 5`).
  public var description: String {
    let call = "\(transition)(\(arguments.map(WordFormat.text).joined(separator: ", ")))"
    guard !probes.isEmpty else { return call }
    return call + "  probes: " + probes.map(\.text).joined(separator: ", ")
  }
}

extension DiffProbe {
  /// `read 0x9000000000`, `write 0x9000000008 = 0x5` or
  /// `execute 0x9000000010`.
  public var text: String {
    switch kind {
    case .read: "read 0x\(String(address, radix: 16))"
    case .write: "write 0x\(String(address, radix: 16)) = 0x\(String(value, radix: 16))"
    case .execute: "execute 0x\(String(address, radix: 16))"
    }
  }
}

extension DiffProbeOutcome {
  /// The outcome's column in the coverage table.
  public var coverageName: String {
    switch self {
    case .faulted: "faulted"
    case .wrote: "stored"
    case .read: "loaded"
    case .executed: "ran"
    case .declined: "declined"
    case .declinedOr(let other): "declined or \(other.coverageName)"
    }
  }
}

extension DiffProbeOutcome: CustomStringConvertible {
  public var description: String {
    switch self {
    case .faulted: "faulted"
    case .wrote: "stored"
    case .read(nil): "loaded (any word)"
    case .read(let value?): "loaded 0x\(String(value, radix: 16))"
    case .executed: "ran"
    case .declined: "declined (the bytes there are not zero)"
    case .declinedOr(let other): "declined or \(other)"
    }
  }
}

/// What a target showed for one step: its result, what the machine showed
/// user code (``MachineObservation``) and, at a checkpoint, the digest of
/// the abstract state after it.
public struct Observation: Equatable, Sendable {
  public var result: SyscallResult
  public var digest: UInt64?
  public var machine: MachineObservation

  public init(result: SyscallResult, digest: UInt64?, machine: MachineObservation = .init()) {
    self.result = result
    self.digest = digest
    self.machine = machine
  }
}

/// What user code saw of the machine after a step, beyond the call's
/// result: what the agent found wrong in its registers (``DiffAnomaly``;
/// the spec predicts none).
public struct MachineObservation: Equatable, Sendable {
  public var anomalies: DiffAnomaly
  /// What each probe of the step showed.
  public var probes: [DiffProbeOutcome]

  public init(anomalies: DiffAnomaly = [], probes: [DiffProbeOutcome] = []) {
    self.anomalies = anomalies
    self.probes = probes
  }

  /// Whether `seen` is what this prediction allows.
  public func admits(_ seen: MachineObservation) -> Bool {
    anomalies == seen.anomalies && probes.count == seen.probes.count
      && zip(probes, seen.probes).allSatisfy { $0.admits($1) }
  }

  /// `what: reference → candidate` lines for a report; `step` names the
  /// probes.
  public func differences(from other: MachineObservation, step: DiffStep? = nil) -> [String] {
    var lines: [String] = []
    for (i, (a, b)) in zip(probes, other.probes).enumerated() where !a.admits(b) {
      let what = step.map { i < $0.probes.count ? $0.probes[i].text : "probe \(i)" } ?? "probe \(i)"
      lines.append("memory: \(what): \(a) → \(b)")
    }
    if probes.count != other.probes.count {
      lines.append("memory: \(probes.count) probe results → \(other.probes.count)")
    }
    if anomalies != other.anomalies {
      let gained = DiffAnomaly(rawValue: other.anomalies.rawValue & ~anomalies.rawValue)
      let lost = DiffAnomaly(rawValue: anomalies.rawValue & ~other.anomalies.rawValue)
      lines += gained.names.map { "registers: \($0)" }
      lines += lost.names.map { "registers: expected but not seen: \($0)" }
    }
    return lines
  }
}

/// A whole sequence as a target ran it.
public struct ObservedRun: Sendable {
  /// The digest right after the reset.
  public var initialDigest: UInt64?
  /// One per step, in order; fewer than the steps when the target failed.
  public var observations: [Observation]
  /// Why the target stopped answering (the guest died, panicked, broke the
  /// protocol), or nil.
  public var failure: String?

  public init(initialDigest: UInt64?, observations: [Observation], failure: String? = nil) {
    self.initialDigest = initialDigest
    self.observations = observations
    self.failure = failure
  }

  /// Whether step `i` (0-based) of a run of `count` steps is a checkpoint
  /// when checkpoints are every `k` steps: every k-th step and the last.
  public static func isCheckpoint(_ i: Int, count: Int, every k: Int) -> Bool {
    (i + 1) % k == 0 || i == count - 1
  }
}

/// Something the differential tester runs call sequences on: the spec, a
/// mutated spec, or the kernel in QEMU through its in-guest agent
/// (`KernelTarget`).
///
/// Every call is made by the target's current environment. The methods
/// throw only when the target itself fails (the guest died, the link broke),
/// never for a call that the kernel refuses: that is a `SyscallResult`.
public protocol DiffTarget: AnyObject {
  /// A short name for reports, e.g. `spec` or `spec-mutant:mapForgetsPageCount`.
  var name: String { get }
  /// Goes back to the ABI's initial state for `bounds` and `firstPage`.
  func reset(bounds: Bounds, firstPage: UInt64) throws
  /// Makes one call (or injects one event) and returns its result.
  func run(_ step: Transition, _ arguments: [UInt64]) throws -> SyscallResult
  /// Makes memory probes as the current environment (after a step).
  func probe(_ probes: [DiffProbe]) throws -> [DiffProbeOutcome]
  /// The canonical digest of the abstract state (`SpecState.digest`: FNV-1a
  /// over the exported `InfoLayout` image). Cheap: compared at every
  /// checkpoint.
  func digest() throws -> UInt64
  /// The whole abstract state. Fetched only when digests differ.
  func state() throws -> ConcreteState
  /// Resets, runs `steps` and reports every result and the digest at each
  /// checkpoint (`ObservedRun.isCheckpoint`). A target that can batch (the
  /// kernel: many calls per round trip) overrides the default, which calls
  /// the methods above one by one.
  func observe(_ steps: [DiffStep], checkpointEvery k: Int, bounds: Bounds, firstPage: UInt64)
    throws -> ObservedRun
}

extension DiffTarget {
  public func observe(
    _ steps: [DiffStep], checkpointEvery k: Int, bounds: Bounds, firstPage: UInt64
  ) throws -> ObservedRun {
    try observeStepByStep(
      steps, checkpointEvery: k, bounds: bounds, firstPage: firstPage, failureEndsRun: false)
  }

  /// ``observe(_:checkpointEvery:bounds:firstPage:)`` by the methods above,
  /// one call at a time. With `failureEndsRun`, a step that throws
  /// ``DiffError/targetFailed(_:)`` ends the run as the target's failure
  /// (``ObservedRun/failure``) instead of throwing.
  public func observeStepByStep(
    _ steps: [DiffStep], checkpointEvery k: Int, bounds: Bounds, firstPage: UInt64,
    failureEndsRun: Bool
  ) throws -> ObservedRun {
    try reset(bounds: bounds, firstPage: firstPage)
    let initial = try digest()
    var observations: [Observation] = []
    observations.reserveCapacity(steps.count)
    for (i, step) in steps.enumerated() {
      let result: SyscallResult
      do {
        result = try run(step.transition, step.arguments)
      } catch DiffError.targetFailed(let why) where failureEndsRun {
        return ObservedRun(initialDigest: initial, observations: observations, failure: why)
      }
      let machine = MachineObservation(probes: try probe(step.probes))
      let checkpoint = ObservedRun.isCheckpoint(i, count: steps.count, every: k)
      observations.append(
        Observation(result: result, digest: checkpoint ? try digest() : nil, machine: machine))
    }
    return ObservedRun(initialDigest: initial, observations: observations)
  }
}

/// The executable spec, in process. Its memory reads (`frameTransmit`)
/// see the page contents the probes stored (``ShadowMemory``); a step that
/// reads a byte the tester does not know fails the target.
public final class SpecTarget: DiffTarget {
  public let name: String
  public private(set) var current: ConcreteState
  /// What user code sees of memory (predicts the probes, and is what the
  /// spec's memory reads see).
  public var shadow: Shadow { memory.shadow }
  let memory = ShadowMemory()

  var tracker: DigestTracker

  public init(name: String = "spec", bounds: Bounds = .kernel, firstPage: UInt64 = 0x1000) {
    self.name = name
    current = ConcreteState(bounds: bounds, firstPage: firstPage, memory: memory.contents)
    tracker = DigestTracker(current)
  }

  public func reset(bounds: Bounds, firstPage: UInt64) {
    current = ConcreteState(bounds: bounds, firstPage: firstPage, memory: memory.contents)
    memory.shadow = Shadow()
    if tracker.snapshot.bounds != bounds || tracker.snapshot.firstPage != firstPage {
      tracker = DigestTracker(current)
    }
  }

  /// Each step as the kernel takes it (``ConcreteState/kernelStep(_:_:)``).
  /// Throws only for a step that reads memory the tester does not know.
  public func run(_ step: Transition, _ arguments: [UInt64]) throws -> SyscallResult {
    let before = current
    let (result, known) = memory.readingKnownBytes { current.kernelStep(step, arguments) }
    guard known else { throw DiffError.targetFailed(memory.unknownReadReport(step, arguments)) }
    memory.shadow.follow(from: before, to: current)
    return result
  }

  public func probe(_ probes: [DiffProbe]) -> [DiffProbeOutcome] {
    memory.shadow.run(probes, in: current)
  }

  public func digest() -> UInt64 { tracker.update(to: current) }
  public func state() -> ConcreteState { current }
}

/// The spec with a deliberate bug: `apply` runs a transition in place of
/// `ConcreteState.step`. ExoVerify's mutants plug in as
/// `{ t, s, a in mutant.applyConcrete(t, to: &s, a) }`, which keeps this
/// module independent of ExoVerify (and of Z3 solving).
public final class MutantSpecTarget: DiffTarget {
  public typealias Apply = (Transition, inout ConcreteState, [UInt64]) -> SyscallResult

  public let name: String
  public private(set) var current: ConcreteState
  public var shadow: Shadow { memory.shadow }
  let memory = ShadowMemory()
  let apply: Apply
  var tracker: DigestTracker

  public init(
    name: String, bounds: Bounds = .kernel, firstPage: UInt64 = 0x1000,
    apply: @escaping Apply
  ) {
    self.name = name
    self.apply = apply
    current = ConcreteState(bounds: bounds, firstPage: firstPage, memory: memory.contents)
    tracker = DigestTracker(current)
  }

  public func reset(bounds: Bounds, firstPage: UInt64) {
    current = ConcreteState(bounds: bounds, firstPage: firstPage, memory: memory.contents)
    memory.shadow = Shadow()
    if tracker.snapshot.bounds != bounds || tracker.snapshot.firstPage != firstPage {
      tracker = DigestTracker(current)
    }
  }

  /// Each step as the kernel takes it, with the mutated transitions: a
  /// tick is the timer interrupt (the spec's `revocationTick` over them), a
  /// `pageAllocate` refused for an owned page raises memory pressure.
  /// Memory reads as ``SpecTarget``'s.
  public func run(_ step: Transition, _ arguments: [UInt64]) throws -> SyscallResult {
    let before = current
    let (result, known) = memory.readingKnownBytes { take(step, arguments) }
    guard known else { throw DiffError.targetFailed(memory.unknownReadReport(step, arguments)) }
    memory.shadow.follow(from: before, to: current)
    return result
  }

  func take(_ step: Transition, _ arguments: [UInt64]) -> SyscallResult {
    let apply = self.apply
    let result = apply(step, &current, arguments)
    switch step {
    case .event(.tick):
      for e in 0..<current.bounds.environments {
        current.revocationTick(
          target: UInt64(e),
          deadline: { s, t in _ = apply(.event(.revocationDeadline), &s, [t]) },
          abort: { s, t in _ = apply(.event(.revocationAbort), &s, [t]) })
      }
    case .call(.pageAllocate) where result.error == .slotInUse:
      _ = apply(.event(.allocationPressure), &current, arguments)
    default: break
    }
    return result
  }

  public func probe(_ probes: [DiffProbe]) -> [DiffProbeOutcome] {
    memory.shadow.run(probes, in: current)
  }

  public func digest() -> UInt64 { tracker.update(to: current) }
  public func state() -> ConcreteState { current }
}
