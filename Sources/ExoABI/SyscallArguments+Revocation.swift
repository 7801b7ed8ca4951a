/// The arguments of the revocation calls (``SyscallArguments``;
/// docs/ABI.md "Revocation").

/// `revocationRequest(target, envCap, count, ticks)`: asks `target` to give
/// back `count` pages within `ticks` timer ticks.
public struct RevocationRequestArguments<Word>: SyscallArguments {
  public static var call: Syscall { .revocationRequest }
  public static var parameterNames: [StaticString] { ["target", "envCap", "count", "ticks"] }
  public var target, envCap, count, ticks: Word

  public init(target: Word, envCap: Word, count: Word, ticks: Word) {
    (self.target, self.envCap, self.count, self.ticks) = (target, envCap, count, ticks)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(target: w.rdi, envCap: w.rsi, count: w.rdx, ticks: w.r10)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, count, ticks, filling: filler)
  }
}

/// `revocationReturn(capability)`: gives back the run of root memory
/// capability `capability` towards the caller's pending request.
public struct RevocationReturnArguments<Word>: SyscallArguments {
  public static var call: Syscall { .revocationReturn }
  public static var parameterNames: [StaticString] { ["capability"] }
  public var capability: Word

  public init(capability: Word) { self.capability = capability }
  public init(words w: ArgumentWords<Word>) { self.init(capability: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(capability, filling: filler)
  }
}
