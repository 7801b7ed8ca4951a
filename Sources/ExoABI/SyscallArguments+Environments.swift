/// The arguments of the environment calls (``SyscallArguments``). `target`
/// is the environment acted on, `envCap` the environment capability that
/// gives authority over it (any word when the target is the caller).

/// `environmentCreate(environment, slot)`: makes free environment
/// `environment` and puts a capability for it in the caller's `slot`.
public struct EnvironmentCreateArguments<Word>: SyscallArguments {
  public static var call: Syscall { .environmentCreate }
  public static var parameterNames: [StaticString] { ["environment", "slot"] }
  public var environment, slot: Word

  public init(environment: Word, slot: Word) {
    (self.environment, self.slot) = (environment, slot)
  }
  public init(words w: ArgumentWords<Word>) { self.init(environment: w.rdi, slot: w.rsi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(environment, slot, filling: filler)
  }
}

/// `environmentSetEntries(target, envCap, handler, handlerStack, upcall,
/// callEntry)`: where the kernel enters `target` for exceptions, upcalls
/// and protected control transfers, and the stack it enters them on.
public struct EnvironmentSetEntriesArguments<Word>: SyscallArguments {
  public static var call: Syscall { .environmentSetEntries }
  public static var parameterNames: [StaticString] {
    ["target", "envCap", "handler", "handlerStack", "upcall", "callEntry"]
  }
  public var target, envCap, handler, handlerStack, upcall, callEntry: Word

  public init(
    target: Word, envCap: Word, handler: Word, handlerStack: Word, upcall: Word, callEntry: Word
  ) {
    (self.target, self.envCap, self.handler, self.handlerStack, self.upcall, self.callEntry) =
      (target, envCap, handler, handlerStack, upcall, callEntry)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(
      target: w.rdi, envCap: w.rsi, handler: w.rdx, handlerStack: w.r10, upcall: w.r8,
      callEntry: w.r9)
  }
  public func words(filling _: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, handler, handlerStack, upcall, callEntry)
  }
}

/// `environmentStart(target, envCap, rip, rsp)`: starts stopped `target`
/// at `rip` with stack pointer `rsp`.
public struct EnvironmentStartArguments<Word>: SyscallArguments {
  public static var call: Syscall { .environmentStart }
  public static var parameterNames: [StaticString] { ["target", "envCap", "rip", "rsp"] }
  public var target, envCap, rip, rsp: Word

  public init(target: Word, envCap: Word, rip: Word, rsp: Word) {
    (self.target, self.envCap, self.rip, self.rsp) = (target, envCap, rip, rsp)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(target: w.rdi, envCap: w.rsi, rip: w.rdx, rsp: w.r10)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, rip, rsp, filling: filler)
  }
}

/// `environmentStop(target, envCap)`.
public struct EnvironmentStopArguments<Word>: SyscallArguments {
  public static var call: Syscall { .environmentStop }
  public static var parameterNames: [StaticString] { ["target", "envCap"] }
  public var target, envCap: Word

  public init(target: Word, envCap: Word) { (self.target, self.envCap) = (target, envCap) }
  public init(words w: ArgumentWords<Word>) { self.init(target: w.rdi, envCap: w.rsi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, filling: filler)
  }
}

/// `environmentDestroy(target, envCap)`: `target` becomes dying.
public struct EnvironmentDestroyArguments<Word>: SyscallArguments {
  public static var call: Syscall { .environmentDestroy }
  public static var parameterNames: [StaticString] { ["target", "envCap"] }
  public var target, envCap: Word

  public init(target: Word, envCap: Word) { (self.target, self.envCap) = (target, envCap) }
  public init(words w: ArgumentWords<Word>) { self.init(target: w.rdi, envCap: w.rsi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, filling: filler)
  }
}

/// `environmentReclaim(target)`: one step of tearing down dying `target`.
public struct EnvironmentReclaimArguments<Word>: SyscallArguments {
  public static var call: Syscall { .environmentReclaim }
  public static var parameterNames: [StaticString] { ["target"] }
  public var target: Word

  public init(target: Word) { self.target = target }
  public init(words w: ArgumentWords<Word>) { self.init(target: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, filling: filler)
  }
}
