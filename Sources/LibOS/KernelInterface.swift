import ExoABI

/// A CPU exception as the libOS's fault handler sees it.
public struct Fault: Equatable, Sendable {
  /// The CPU exception vector (14: page fault).
  public var vector: UInt64
  /// The CPU's error code; for a page fault bit 1 says the access was a write.
  public var error: UInt64
  /// The faulting address (CR2) for a page fault.
  public var address: UInt64

  public init(vector: UInt64, error: UInt64, address: UInt64) {
    (self.vector, self.error, self.address) = (vector, error, address)
  }

  /// A page fault's error code: the access was a write.
  public var isWrite: Bool { error & 2 != 0 }
}

/// The addresses the kernel enters an environment at, all in the program
/// image (the same in every environment: the text is shared).
public struct EntryPoints: Sendable {
  /// Where exceptions are delivered (`handler` of `environmentSetEntries`).
  public var exception: UInt64
  /// Where protected control transfers enter (`callEntry`).
  public var call: UInt64
  /// Where a new environment starts (`rip` of `environmentStart`).
  public var program: UInt64
  /// Where upcalls are delivered (`upcall` of `environmentSetEntries`).
  public var upcall: UInt64

  public init(exception: UInt64, call: UInt64, program: UInt64, upcall: UInt64) {
    (self.exception, self.call, self.program, self.upcall) = (exception, call, program, upcall)
  }
}

/// The one interface the libOS is written against: the kernel's system
/// calls, its exported tables, and the user memory of the running
/// environment. Two implementations: real system calls in a user image
/// (`SystemKernel`, kernel/user/libos) and the executable spec in process
/// (`SimulatedKernel`, LibOSHost).
///
/// Every method acts as the environment running this code.
public protocol KernelInterface {
  /// Makes system call `call` with argument registers `words` (built by the
  /// call's arguments type: see ``sys(_:)``). Not for `call`, `reply` or
  /// `exit`.
  func syscall(_ call: Syscall, _ words: ArgumentWords<UInt64>) -> SyscallResult

  /// `call(capability, message)`: a synchronous protected control transfer;
  /// the status, and the callee's reply when it is 0.
  func transfer(_ capability: UInt64, _ message: Message) -> (status: UInt64, reply: Message)

  /// `exit(status)`. Does not return on the real kernel; the simulated
  /// kernel returns to let the host test go on.
  func exit(_ status: UInt64)

  /// The word at byte `offset` of the exported tables (`InfoLayout`).
  func info(_ offset: Int) -> UInt64

  /// Reads the word at user address `address` (8-byte aligned). A fault on
  /// the way is delivered to the fault handler and the access retried.
  func load(_ address: UInt64) -> UInt64
  /// Writes the word at user address `address` (8-byte aligned).
  func store(_ address: UInt64, _ value: UInt64)
  /// Copies the page at `source` to the page at `destination` (both page
  /// aligned, both mapped: `destination` writable).
  func copyPage(from source: UInt64, to destination: UInt64)

  /// Installs the libOS's handlers: `fault` for every exception (true:
  /// handled, resume), `call` for every transfer (caller, message,
  /// asynchronous; the result is the reply).
  func install(
    fault: @escaping (Fault) -> Bool, call: @escaping (UInt64, Message, Bool) -> Message)

  /// Installs the libOS's upcall handler: called with each upcall's reason
  /// and two arguments (docs/ABI.md "Upcalls"), then the interrupted code
  /// resumes.
  func install(upcall: @escaping (UpcallReason, UInt64, UInt64) -> Void)

  /// Where the kernel enters this program.
  var entryPoints: EntryPoints { get }

  /// Writes `text` to the console.
  func write(_ text: String)

  // MARK: User-level thread contexts

  /// A new context that runs `body` on the stack below `stackTop` (mapped,
  /// writable) when first switched to; `body` never returns. The host
  /// kernel gives it a stack of its own. Returns the context's id.
  func contextCreate(stackTop: UInt64, _ body: @escaping () -> Void) -> UInt64
  /// A context to save the running execution into (the first thread's).
  func contextForCurrent() -> UInt64
  /// Saves the running execution into context `from` and resumes `to`.
  func contextSwitch(from: UInt64, to: UInt64)
}

extension KernelInterface {
  /// Makes the system call `arguments` are for (``syscall(_:_:)`` with the
  /// call and the registers its arguments type gives).
  @inline(__always)
  public func sys<Arguments: SyscallArguments>(_ arguments: Arguments) -> SyscallResult
  where Arguments.Word == UInt64 {
    syscall(Arguments.call, arguments.words)
  }
}
