import ExoABI
import ExoSpec
import LibOS

/// The libOS's kernel on the host: one environment of a ``Machine``. Every
/// call is a transition of the executable spec; see ``Machine`` for what
/// the machine adds.
public struct SimulatedKernel: KernelInterface {
  public unowned let machine: Machine
  /// The environment this code runs as.
  public let environment: UInt64

  public func syscall(_ call: Syscall, _ words: ArgumentWords<UInt64>) -> SyscallResult {
    machine.operation(environment)
    let arguments = call.argumentsType.init(words: words).arguments
    let result = machine.apply(environment, .call(call), arguments)
    machine.schedule(environment)
    // A slice may also end right after the call returns.
    machine.operation(environment)
    return result
  }

  public func transfer(_ capability: UInt64, _ message: Message) -> (
    status: UInt64, reply: Message
  ) {
    machine.operation(environment)
    let result = machine.apply(environment, CallArguments(capability: capability, message: message))
    guard result.status == 0 else { return (result.status, Message()) }
    machine.schedule(environment)
    guard let reply = machine.runtimes[Int(environment)]?.reply else {
      return (ExoError.wrongState.rawValue, Message())  // the callee ended
    }
    return (0, reply)
  }

  public func exit(_ status: UInt64) {
    machine.operation(environment)
    _ = machine.apply(environment, ExitArguments(status: status))
    machine.schedule(environment)
    fatalError("environment \(environment) resumed after exit")
  }

  public func info(_ offset: Int) -> UInt64 {
    let layout = InfoLayout(bounds: machine.bounds)
    if offset == layout.offset(revocation: Int(environment), .repossessed) {
      machine.noteLook(environment)
    }
    return machine.info(offset)
  }

  public func load(_ address: UInt64) -> UInt64 { machine.load(environment, address) }

  public func store(_ address: UInt64, _ value: UInt64) {
    machine.store(environment, address, value)
  }

  public func copyPage(from source: UInt64, to destination: UInt64) {
    for i: UInt64 in 0..<512 { store(destination + i * 8, load(source + i * 8)) }
  }

  public func install(
    fault: @escaping (Fault) -> Bool, call: @escaping (UInt64, Message, Bool) -> Message
  ) {
    machine.runtimes[Int(environment)]?.faultHandler = fault
    machine.runtimes[Int(environment)]?.callHandler = call
  }

  public func install(upcall: @escaping (UpcallReason, UInt64, UInt64) -> Void) {
    machine.runtimes[Int(environment)]?.upcallHandler = upcall
  }

  public var entryPoints: EntryPoints {
    EntryPoints(
      exception: UserLayout.imageBase + 0x100, call: UserLayout.imageBase + 0x200,
      program: UserLayout.imageBase + 0x1000, upcall: UserLayout.imageBase + 0x180)
  }

  public func write(_ text: String) { machine.write(text) }
}

extension SimulatedKernel {
  public func contextCreate(stackTop: UInt64, _ body: @escaping () -> Void) -> UInt64 {
    machine.addContext(body)
  }

  public func contextForCurrent() -> UInt64 { machine.addContext(nil) }

  public func contextSwitch(from: UInt64, to: UInt64) {
    machine.switchContext(from: from, to: to)
  }
}
