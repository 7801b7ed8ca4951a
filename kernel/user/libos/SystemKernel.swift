import ExoABI
import ExoUser
import LibOS
import UserArch

/// The libOS's kernel in a user image: real system calls, the exported
/// tables at `UserLayout.infoBase`, plain loads and stores (the MMU raises
/// the faults, upcall.S delivers them to the installed handler, which
/// resumes the access).
public struct SystemKernel: KernelInterface {
  public init() {}

  @inline(__always)
  public func syscall(_ call: Syscall, _ words: ArgumentWords<UInt64>) -> SyscallResult {
    Kernel.call(call, words)
  }

  public func transfer(_ capability: UInt64, _ message: Message) -> (
    status: UInt64, reply: Message
  ) {
    switch Kernel.call(CapabilitySlot(rawValue: UInt32(truncatingIfNeeded: capability)), message)
    {
    case .success(let reply): return (0, reply)
    case .failure(let error): return (error.rawValue, Message())
    }
  }

  public func exit(_ status: UInt64) { Kernel.exit(status) }

  @inline(__always)
  public func info(_ offset: Int) -> UInt64 {
    UserMemory.pointer(UserLayout.infoBase + UInt64(offset), to: UInt64.self).pointee
  }

  @inline(__always)
  public func load(_ address: UInt64) -> UInt64 {
    UserMemory.pointer(address, to: UInt64.self).pointee
  }

  @inline(__always)
  public func store(_ address: UInt64, _ value: UInt64) {
    UserMemory.pointer(address, to: UInt64.self).pointee = value
  }

  public func copyPage(from source: UInt64, to destination: UInt64) {
    UnsafeMutableRawPointer(UserMemory.pointer(destination, to: UInt8.self)).copyMemory(
      from: UnsafeRawPointer(UserMemory.pointer(source, to: UInt8.self)), byteCount: 4096)
  }

  public func install(
    fault: @escaping (Fault) -> Bool, call: @escaping (UInt64, Message, Bool) -> Message
  ) {
    Upcalls.exceptionHandler = { frame in
      let f = Fault(vector: frame[.vector], error: frame[.error], address: frame[.address])
      if !fault(f) { Kernel.exit(72) }
    }
    Upcalls.callHandler = call
  }

  public func install(upcall: @escaping (UpcallReason, UInt64, UInt64) -> Void) {
    Upcalls.upcallHandler = upcall
  }

  public var entryPoints: EntryPoints {
    EntryPoints(
      exception: Upcalls.exceptionEntry, call: Upcalls.callEntry,
      program: exo_program_entry_address(), upcall: Upcalls.exceptionEntry)
  }

  public func write(_ text: String) { print(text, terminator: "") }
}

/// User-level thread contexts: saved stack pointers (context.S).
enum ThreadContexts {
  static let capacity = 64
  nonisolated(unsafe) static let saved = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
  nonisolated(unsafe) static var bodies: [() -> Void] = []
  nonisolated(unsafe) static var count = 0

  static func add(_ stackPointer: UInt64, _ body: @escaping () -> Void) -> UInt64 {
    guard count < capacity else {
      print("libos: more than \(capacity) thread contexts")
      Kernel.exit(73)
    }
    saved[count] = stackPointer
    bodies.append(body)
    count += 1
    return UInt64(count - 1)
  }
}

extension SystemKernel {
  public func contextCreate(stackTop: UInt64, _ body: @escaping () -> Void) -> UInt64 {
    let id = UInt64(ThreadContexts.count)
    return ThreadContexts.add(exo_context_prepare(stackTop, id), body)
  }

  public func contextForCurrent() -> UInt64 { ThreadContexts.add(0, {}) }

  public func contextSwitch(from: UInt64, to: UInt64) {
    exo_context_switch(ThreadContexts.saved + Int(from), ThreadContexts.saved[Int(to)])
  }
}

/// The first code a new thread runs (context.S).
@_cdecl("exo_thread_main")
func threadMain(_ id: UInt64) {
  ThreadContexts.bodies[Int(id)]()
  Kernel.exit(74)  // unreachable: the libOS's thread body never returns
}
