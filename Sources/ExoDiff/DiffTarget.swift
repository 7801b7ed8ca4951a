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

/// Something the differential tester runs call sequences on: the spec, a
/// mutated spec, or (next) the kernel in QEMU through its in-guest agent.
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
}

/// The executable spec, in process.
public final class SpecTarget: DiffTarget {
  public let name: String
  public private(set) var current: ConcreteState

  public init(name: String = "spec", bounds: Bounds = .kernel, firstPage: UInt64 = 0x1000) {
    self.name = name
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
  }

  public func reset(bounds: Bounds, firstPage: UInt64) {
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
  }

  public func run(_ step: Transition, _ arguments: [UInt64]) -> SyscallResult {
    current.step(step, arguments)
  }

  public func digest() -> UInt64 { current.digest }
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

  public init(
    name: String, bounds: Bounds = .kernel, firstPage: UInt64 = 0x1000,
    apply: @escaping Apply
  ) {
    self.name = name
    self.apply = apply
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
  }

  public func reset(bounds: Bounds, firstPage: UInt64) {
    current = ConcreteState(bounds: bounds, firstPage: firstPage)
  }

  public func run(_ step: Transition, _ arguments: [UInt64]) -> SyscallResult {
    apply(step, &current, arguments)
  }

  public func digest() -> UInt64 { current.digest }
  public func state() -> ConcreteState { current }
}

/// Deterministic pseudo-random numbers (SplitMix64): a seed gives the same
/// sequence on every machine and Swift version.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A seed for the `index`-th sequence of a run started from `seed`.
  public static func derive(_ seed: UInt64, _ index: Int) -> UInt64 {
    var g = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
    return g.next()
  }
}
