import ExoABI

/// A kernel event: something that happens to the running environment
/// rather than a call it makes.
public enum KernelEvent: String, CaseIterable, Hashable, Sendable, Codable {
  /// A slice ends (timer interrupt).
  case tick
  /// A CPU exception in ring 3 of the current environment.
  case exception
  /// The deadline of an environment's revocation request passes.
  case revocationDeadline
  /// One step of the abort protocol for an environment.
  case revocationAbort
  /// Memory pressure: the kernel asks an environment for pages.
  case revocationPressure
  /// Memory pressure after a failed `pageAllocate`: the kernel picks the
  /// environment to ask (``SpecState/allocationPressure(page:count:slot:)``).
  case allocationPressure
  /// A frame arrives from the network; `matches` has bit `j` set where
  /// filter slot `j` matches it (``SpecState/frameArrival(matches:)``: any
  /// frame is one such vector).
  case frameArrival
  /// The differential tester's frame (`diffFrame`): the frame of `seed`
  /// and `length` aimed at filter slot `filter` arrives
  /// (``SpecState/frameInjected(seed:length:filter:)``).
  case frameInjected

  /// The event's arguments, in order.
  public var parameters: [String] {
    switch self {
    case .tick: []
    case .exception: ["vector", "error", "address", "frameSlot"]
    case .revocationDeadline, .revocationAbort: ["target"]
    case .revocationPressure: ["target", "count"]
    case .allocationPressure: ["page", "count", "slot"]
    case .frameArrival: ["matches"]
    case .frameInjected: ["seed", "length", "filter"]
    }
  }
}

extension Syscall {
  /// The call's name as in the ABI, e.g. `pageMap`.
  public var name: String { String(describing: self) }

  /// The call with ABI name `name`.
  public init?(name: String) {
    guard let found = Syscall.allCases.first(where: { $0.name == name }) else { return nil }
    self = found
  }
}

/// One step of the state machine: a system call made by the current
/// environment, or a kernel event.
public enum Transition: Hashable, Sendable, CustomStringConvertible {
  case call(Syscall)
  case event(KernelEvent)

  /// Every transition: each `Syscall`, then each `KernelEvent`.
  public static let all: [Transition] =
    Syscall.allCases.map(Transition.call) + KernelEvent.allCases.map(Transition.event)

  public var name: String {
    switch self {
    case .call(let call): call.name
    case .event(let event): event.rawValue
    }
  }

  public var parameters: [String] {
    switch self {
    case .call(let call): call.parameters
    case .event(let event): event.parameters
    }
  }

  public var description: String { name }
}

extension SpecState {
  /// Runs `transition` with `arguments` (one per parameter, in order):
  /// the one entry point shared by the replay runner, the tests and
  /// exoverify.
  public mutating func apply(_ transition: Transition, _ arguments: [W]) -> Outcome<D> {
    precondition(
      arguments.count == transition.parameters.count,
      "\(transition) takes \(transition.parameters.count) arguments")
    let a = arguments
    switch transition {
    case .call(let call): return run(call, ArgumentWords(arguments, filling: zero))
    case .event(.tick): return tick()
    case .event(.exception):
      return exception(vector: a[0], error: a[1], address: a[2], frameSlot: a[3])
    case .event(.revocationDeadline): return revocationDeadline(target: a[0])
    case .event(.revocationAbort): return revocationAbort(target: a[0])
    case .event(.revocationPressure): return revocationPressure(target: a[0], count: a[1])
    case .event(.allocationPressure):
      return allocationPressure(page: a[0], count: a[1], slot: a[2])
    case .event(.frameArrival): return frameArrival(matches: a[0])
    case .event(.frameInjected): return frameInjected(seed: a[0], length: a[1], filter: a[2])
    }
  }
}

extension SpecState where D == ConcreteDomain {
  /// Runs `transition` on concrete values: ``apply(_:_:)`` specialized for
  /// ``ConcreteDomain`` (the entry point other modules call, so they get the
  /// specialized code).
  public mutating func step(_ transition: Transition, _ arguments: [UInt64]) -> SyscallResult {
    apply(transition, arguments).result
  }
}

extension SpecState where D == ConcreteDomain {
  /// Runs `transition` as the kernel takes it (``ReplayPolicy/kernel``): a
  /// `tick` is the whole timer interrupt (``timerInterrupt()``: the slice
  /// ends, then each environment's revocation steps), a call is
  /// ``systemCall(_:_:)`` (a `pageAllocate` that fails for an owned page may
  /// raise memory pressure); every other event is the transition alone.
  public mutating func kernelStep(_ transition: Transition, _ arguments: [UInt64])
    -> SyscallResult
  {
    switch transition {
    case .event(.tick):
      timerInterrupt()
      return .success(0)
    case .call(let call):
      return systemCall(call, ArgumentWords(arguments, filling: 0)).result
    case .event:
      return step(transition, arguments)
    }
  }

  /// Runs `transition` under `policy`.
  public mutating func step(
    _ transition: Transition, _ arguments: [UInt64], policy: ReplayPolicy
  ) -> SyscallResult {
    switch policy {
    case .transitions: step(transition, arguments)
    case .kernel: kernelStep(transition, arguments)
    }
  }
}

/// How the steps of a sequence are taken.
public enum ReplayPolicy: String, Sendable, Codable, CaseIterable {
  /// Each step is its transition alone (exoverify's counterexamples, the
  /// samples).
  case transitions
  /// Each step as the kernel takes it (``SpecState/kernelStep(_:_:)``): the
  /// differential tester's sequences.
  case kernel
}
