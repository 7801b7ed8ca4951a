import ExoABI

/// A replay file (docs/replay-format.md): an initial state and a sequence of
/// calls and events with their expected results. Written by people, by
/// exoverify's counterexample writer and by the differential tester; run by
/// the spec (`exo replay FILE --on spec`) and later by the kernel.
public struct ReplayFile: Equatable, Sendable {
  /// The value of the `format` field.
  public static let formatName = "exo-replay"
  /// The format version this code reads and writes.
  public static let currentVersion = 1

  /// The table sizes.
  public var bounds: Bounds
  /// The physical page number of page index 0.
  public var firstPage: UInt64
  /// Where the run starts.
  public var initial: ReplayInitialState
  /// How each step is taken: its transition alone, or as the kernel takes
  /// it (the differential tester's files).
  public var policy: ReplayPolicy
  /// The calls and events, in order.
  public var steps: [ReplayStep]
  /// The state expected after the last step, if the file states one.
  public var final: ConcreteState?

  public init(
    bounds: Bounds, firstPage: UInt64, initial: ReplayInitialState = .initial,
    policy: ReplayPolicy = .transitions, steps: [ReplayStep] = [], final: ConcreteState? = nil
  ) {
    self.bounds = bounds
    self.firstPage = firstPage
    self.initial = initial
    self.policy = policy
    self.steps = steps
    self.final = final
  }

  /// The state the run starts from.
  public var initialState: ConcreteState {
    switch initial {
    case .initial: ConcreteState(bounds: bounds, firstPage: firstPage)
    case .state(let state): state
    }
  }
}

/// Where a replay starts.
public enum ReplayInitialState: Equatable, Sendable {
  /// The ABI's initial state for the file's bounds (`"initial"`).
  case initial
  /// An explicit state.
  case state(ConcreteState)
}

/// One call or event of a replay, with its arguments in ABI order.
public struct ReplayStep: Equatable, Sendable {
  public var transition: Transition
  public var arguments: [UInt64]
  /// The expected result; nil when the file does not check it.
  public var expect: ReplayExpectation?
  /// A remark for people; ignored when running.
  public var note: String?
  /// Memory probes after the step (the differential tester's; the spec
  /// alone ignores them, the tester compares them).
  public var probes: [DiffProbe]

  public init(
    _ transition: Transition, _ arguments: [UInt64] = [], expect: ReplayExpectation? = nil,
    note: String? = nil, probes: [DiffProbe] = []
  ) {
    self.transition = transition
    self.arguments = arguments
    self.expect = expect
    self.note = note
    self.probes = probes
  }
}

/// An expected result: success with a value, or an error.
public enum ReplayExpectation: Equatable, Sendable, CustomStringConvertible {
  case value(UInt64)
  case error(ExoError)

  /// The expectation `result` meets exactly.
  public init(_ result: SyscallResult) {
    if let error = result.error { self = .error(error) } else { self = .value(result.value) }
  }

  public func matches(_ result: SyscallResult) -> Bool { self == ReplayExpectation(result) }

  public var description: String {
    switch self {
    case .value(let value): "ok \(WordFormat.text(value))"
    case .error(let error): "\(error.name)"
    }
  }
}
