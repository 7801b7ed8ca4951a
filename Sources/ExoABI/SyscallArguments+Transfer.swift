/// The arguments of the protected control transfers (``SyscallArguments``):
/// the four message words travel in registers after the capability, if
/// any.

/// `call(capability, m0, m1, m2, m3)`: a synchronous transfer into the
/// environment environment capability `capability` names.
public struct CallArguments<Word>: SyscallArguments {
  public static var call: Syscall { .call }
  public static var parameterNames: [StaticString] { ["capability", "m0", "m1", "m2", "m3"] }
  public var capability, m0, m1, m2, m3: Word

  public init(capability: Word, m0: Word, m1: Word, m2: Word, m3: Word) {
    (self.capability, self.m0, self.m1, self.m2, self.m3) = (capability, m0, m1, m2, m3)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(capability: w.rdi, m0: w.rsi, m1: w.rdx, m2: w.r10, m3: w.r8)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(capability, m0, m1, m2, m3, filling: filler)
  }
}

/// `reply(m0, m1, m2, m3)`: ends the current transfer.
public struct ReplyArguments<Word>: SyscallArguments {
  public static var call: Syscall { .reply }
  public static var parameterNames: [StaticString] { ["m0", "m1", "m2", "m3"] }
  public var m0, m1, m2, m3: Word

  public init(m0: Word, m1: Word, m2: Word, m3: Word) {
    (self.m0, self.m1, self.m2, self.m3) = (m0, m1, m2, m3)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(m0: w.rdi, m1: w.rsi, m2: w.rdx, m3: w.r10)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(m0, m1, m2, m3, filling: filler)
  }
}

/// `send(capability, m0, m1, m2, m3)`: an asynchronous transfer.
public struct SendArguments<Word>: SyscallArguments {
  public static var call: Syscall { .send }
  public static var parameterNames: [StaticString] { ["capability", "m0", "m1", "m2", "m3"] }
  public var capability, m0, m1, m2, m3: Word

  public init(capability: Word, m0: Word, m1: Word, m2: Word, m3: Word) {
    (self.capability, self.m0, self.m1, self.m2, self.m3) = (capability, m0, m1, m2, m3)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(capability: w.rdi, m0: w.rsi, m1: w.rdx, m2: w.r10, m3: w.r8)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(capability, m0, m1, m2, m3, filling: filler)
  }
}

extension CallArguments where Word == UInt64 {
  public init(capability: UInt64, message: Message) {
    self.init(
      capability: capability, m0: message.m0, m1: message.m1, m2: message.m2, m3: message.m3)
  }
  /// The message words.
  public var message: Message { Message(m0, m1, m2, m3) }
}

extension ReplyArguments where Word == UInt64 {
  public init(message: Message) {
    self.init(m0: message.m0, m1: message.m1, m2: message.m2, m3: message.m3)
  }
  /// The message words.
  public var message: Message { Message(m0, m1, m2, m3) }
}

extension SendArguments where Word == UInt64 {
  public init(capability: UInt64, message: Message) {
    self.init(
      capability: capability, m0: message.m0, m1: message.m1, m2: message.m2, m3: message.m3)
  }
  /// The message words.
  public var message: Message { Message(m0, m1, m2, m3) }
}
