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

  /// The event's arguments, in order.
  public var parameters: [String] {
    switch self {
    case .tick: []
    case .exception: ["vector", "error", "address", "frameSlot"]
    case .revocationDeadline, .revocationAbort: ["target"]
    case .revocationPressure: ["target", "count"]
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
    case .call(let call):
      switch call {
      case .consoleWrite: return consoleWrite(address: a[0], length: a[1])
      case .consoleRead: return consoleRead(address: a[0], length: a[1])
      case .exit: return exit(status: a[0])
      case .ticks: return self.ticks()
      case .environmentCreate: return environmentCreate(environment: a[0], slot: a[1])
      case .environmentSetEntries:
        return environmentSetEntries(
          target: a[0], envCap: a[1], handler: a[2], handlerStack: a[3], upcall: a[4],
          callEntry: a[5])
      case .environmentStart:
        return environmentStart(target: a[0], envCap: a[1], rip: a[2], rsp: a[3])
      case .environmentStop: return environmentStop(target: a[0], envCap: a[1])
      case .environmentDestroy: return environmentDestroy(target: a[0], envCap: a[1])
      case .environmentReclaim: return environmentReclaim(target: a[0])
      case .pageAllocate: return pageAllocate(page: a[0], count: a[1], slot: a[2])
      case .pageMap:
        return pageMap(
          target: a[0], envCap: a[1], memoryCap: a[2], page: a[3], slot: a[4], rights: a[5])
      case .pageUnmap: return pageUnmap(target: a[0], envCap: a[1], slot: a[2])
      case .pageProtect: return pageProtect(target: a[0], envCap: a[1], slot: a[2], rights: a[3])
      case .capabilityDerive:
        return capabilityDerive(
          capability: a[0], child: a[1], rights: a[2], base: a[3], count: a[4])
      case .capabilityGrant: return capabilityGrant(capability: a[0], target: a[1])
      case .capabilityDelete: return capabilityDelete(capability: a[0])
      case .capabilityRevoke: return capabilityRevoke(capability: a[0])
      case .sliceAllocate: return sliceAllocate(position: a[0], target: a[1], envCap: a[2])
      case .sliceFree: return sliceFree(position: a[0])
      case .yield: return yield()
      case .yieldTo: return yieldTo(target: a[0])
      case .call: return self.call(capability: a[0])
      case .reply: return reply()
      case .send: return send(capability: a[0])
      case .revocationRequest:
        return revocationRequest(target: a[0], envCap: a[1], count: a[2], ticks: a[3])
      case .revocationReturn: return revocationReturn(capability: a[0])
      }
    case .event(.tick): return tick()
    case .event(.exception):
      return exception(vector: a[0], error: a[1], address: a[2], frameSlot: a[3])
    case .event(.revocationDeadline): return revocationDeadline(target: a[0])
    case .event(.revocationAbort): return revocationAbort(target: a[0])
    case .event(.revocationPressure): return revocationPressure(target: a[0], count: a[1])
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
