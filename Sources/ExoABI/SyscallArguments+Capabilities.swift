/// The arguments of the capability calls (``SyscallArguments``).
/// `capability` is a slot of the caller's capability table.

/// `capabilityDerive(capability, child, rights, base, count)`: a child of
/// `capability` in the caller's slot `child`, with `rights` over `count`
/// units from `base`.
public struct CapabilityDeriveArguments<Word>: SyscallArguments {
  public static var call: Syscall { .capabilityDerive }
  public static var parameterNames: [StaticString] {
    ["capability", "child", "rights", "base", "count"]
  }
  public var capability, child, rights, base, count: Word

  public init(capability: Word, child: Word, rights: Word, base: Word, count: Word) {
    (self.capability, self.child, self.rights, self.base, self.count) =
      (capability, child, rights, base, count)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(capability: w.rdi, child: w.rsi, rights: w.rdx, base: w.r10, count: w.r8)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(capability, child, rights, base, count, filling: filler)
  }
}

/// `capabilityGrant(capability, target)`: moves `capability` to environment
/// `target`, into the same slot.
public struct CapabilityGrantArguments<Word>: SyscallArguments {
  public static var call: Syscall { .capabilityGrant }
  public static var parameterNames: [StaticString] { ["capability", "target"] }
  public var capability, target: Word

  public init(capability: Word, target: Word) {
    (self.capability, self.target) = (capability, target)
  }
  public init(words w: ArgumentWords<Word>) { self.init(capability: w.rdi, target: w.rsi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(capability, target, filling: filler)
  }
}

/// `capabilityDelete(capability)`.
public struct CapabilityDeleteArguments<Word>: SyscallArguments {
  public static var call: Syscall { .capabilityDelete }
  public static var parameterNames: [StaticString] { ["capability"] }
  public var capability: Word

  public init(capability: Word) { self.capability = capability }
  public init(words w: ArgumentWords<Word>) { self.init(capability: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(capability, filling: filler)
  }
}

/// `capabilityRevoke(capability)`: one step of revoking every descendant.
public struct CapabilityRevokeArguments<Word>: SyscallArguments {
  public static var call: Syscall { .capabilityRevoke }
  public static var parameterNames: [StaticString] { ["capability"] }
  public var capability: Word

  public init(capability: Word) { self.capability = capability }
  public init(words w: ArgumentWords<Word>) { self.init(capability: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(capability, filling: filler)
  }
}
