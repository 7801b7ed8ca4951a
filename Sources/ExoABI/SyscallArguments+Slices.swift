/// The arguments of the time-slice calls (``SyscallArguments``).

/// `sliceAllocate(position, target, envCap)`: gives slice `position` of
/// the schedule to `target`.
public struct SliceAllocateArguments<Word>: SyscallArguments {
  public static var call: Syscall { .sliceAllocate }
  public static var parameterNames: [StaticString] { ["position", "target", "envCap"] }
  public var position, target, envCap: Word

  public init(position: Word, target: Word, envCap: Word) {
    (self.position, self.target, self.envCap) = (position, target, envCap)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(position: w.rdi, target: w.rsi, envCap: w.rdx)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(position, target, envCap, filling: filler)
  }
}

/// `sliceFree(position)`.
public struct SliceFreeArguments<Word>: SyscallArguments {
  public static var call: Syscall { .sliceFree }
  public static var parameterNames: [StaticString] { ["position"] }
  public var position: Word

  public init(position: Word) { self.position = position }
  public init(words w: ArgumentWords<Word>) { self.init(position: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(position, filling: filler)
  }
}

/// `yield()`: no arguments.
public struct YieldArguments<Word>: SyscallArguments {
  public static var call: Syscall { .yield }
  public static var parameterNames: [StaticString] { [] }

  public init() {}
  public init(words _: ArgumentWords<Word>) {}
  public func words(filling filler: Word) -> ArgumentWords<Word> { ArgumentWords(filling: filler) }
}

/// `yieldTo(target)`: donates the rest of the slice to `target`.
public struct YieldToArguments<Word>: SyscallArguments {
  public static var call: Syscall { .yieldTo }
  public static var parameterNames: [StaticString] { ["target"] }
  public var target: Word

  public init(target: Word) { self.target = target }
  public init(words w: ArgumentWords<Word>) { self.init(target: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, filling: filler)
  }
}
