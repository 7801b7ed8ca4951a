import ExoABI
import ExoSpec

/// One call or event of a generated sequence: what the current environment
/// does next, with its arguments in ABI order.
public struct DiffStep: Hashable, Sendable, CustomStringConvertible {
  public var transition: Transition
  public var arguments: [UInt64]

  public init(_ transition: Transition, _ arguments: [UInt64] = []) {
    precondition(
      arguments.count == transition.parameters.count,
      "\(transition) takes \(transition.parameters.count) arguments")
    self.transition = transition
    self.arguments = arguments
  }

  /// `pageMap(0, 0, 1, 4096, 0, 3)`, words as `WordFormat` writes them.
  public var description: String {
    "\(transition)(\(arguments.map(WordFormat.text).joined(separator: ", ")))"
  }
}

/// What a target showed for one step: its result and, at a checkpoint, the
/// digest of the abstract state after it.
public struct Observation: Equatable, Sendable {
  public var result: SyscallResult
  public var digest: UInt64?

  public init(result: SyscallResult, digest: UInt64?) {
    self.result = result
    self.digest = digest
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
    try reset(bounds: bounds, firstPage: firstPage)
    let initial = try digest()
    var observations: [Observation] = []
    observations.reserveCapacity(steps.count)
    for (i, step) in steps.enumerated() {
      let result = try run(step.transition, step.arguments)
      let checkpoint = ObservedRun.isCheckpoint(i, count: steps.count, every: k)
      observations.append(Observation(result: result, digest: checkpoint ? try digest() : nil))
    }
    return ObservedRun(initialDigest: initial, observations: observations)
  }
}

/// The executable spec, in process.
public final class SpecTarget: DiffTarget {
  public let name: String
  public private(set) var current: ConcreteState

  var tracker: DigestTracker

  public init(name: String = "spec", bounds: Bounds = .kernel, firstPage: UInt64 = 0x1000) {
    self.name = name
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
    tracker = DigestTracker(current)
  }

  public func reset(bounds: Bounds, firstPage: UInt64) {
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
    if tracker.snapshot.bounds != bounds || tracker.snapshot.firstPage != firstPage {
      tracker = DigestTracker(current)
    }
  }

  /// Each step as the kernel takes it (``ConcreteState/kernelStep(_:_:)``).
  public func run(_ step: Transition, _ arguments: [UInt64]) -> SyscallResult {
    current.kernelStep(step, arguments)
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
  let apply: Apply
  var tracker: DigestTracker

  public init(
    name: String, bounds: Bounds = .kernel, firstPage: UInt64 = 0x1000,
    apply: @escaping Apply
  ) {
    self.name = name
    self.apply = apply
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
    tracker = DigestTracker(current)
  }

  public func reset(bounds: Bounds, firstPage: UInt64) {
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
    if tracker.snapshot.bounds != bounds || tracker.snapshot.firstPage != firstPage {
      tracker = DigestTracker(current)
    }
  }

  public func run(_ step: Transition, _ arguments: [UInt64]) -> SyscallResult {
    apply(step, &current, arguments)
  }

  public func digest() -> UInt64 { tracker.update(to: current) }
  public func state() -> ConcreteState { current }
}
