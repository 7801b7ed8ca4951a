/// The arguments of the memory calls (``SyscallArguments``). `target` and
/// `envCap` name the environment whose window is changed and the authority
/// over it; `slot` is a window slot, except in `pageAllocate` (a
/// capability slot).

/// `pageAllocate(page, count, slot)`: allocates the free run of `count`
/// pages from `page`, with a root memory capability in the caller's `slot`.
public struct PageAllocateArguments<Word>: SyscallArguments {
  public static var call: Syscall { .pageAllocate }
  public static var parameterNames: [StaticString] { ["page", "count", "slot"] }
  public var page, count, slot: Word

  public init(page: Word, count: Word, slot: Word) {
    (self.page, self.count, self.slot) = (page, count, slot)
  }
  public init(words w: ArgumentWords<Word>) { self.init(page: w.rdi, count: w.rsi, slot: w.rdx) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(page, count, slot, filling: filler)
  }
}

/// `pageMap(target, envCap, memoryCap, page, slot, rights)`: binds `page`,
/// which memory capability `memoryCap` of `target` covers, at window slot
/// `slot` of `target` with `rights`.
public struct PageMapArguments<Word>: SyscallArguments {
  public static var call: Syscall { .pageMap }
  public static var parameterNames: [StaticString] {
    ["target", "envCap", "memoryCap", "page", "slot", "rights"]
  }
  public var target, envCap, memoryCap, page, slot, rights: Word

  public init(target: Word, envCap: Word, memoryCap: Word, page: Word, slot: Word, rights: Word) {
    (self.target, self.envCap, self.memoryCap, self.page, self.slot, self.rights) =
      (target, envCap, memoryCap, page, slot, rights)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(
      target: w.rdi, envCap: w.rsi, memoryCap: w.rdx, page: w.r10, slot: w.r8, rights: w.r9)
  }
  public func words(filling _: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, memoryCap, page, slot, rights)
  }
}

/// `pageUnmap(target, envCap, slot)`: removes the binding at window slot
/// `slot` of `target`.
public struct PageUnmapArguments<Word>: SyscallArguments {
  public static var call: Syscall { .pageUnmap }
  public static var parameterNames: [StaticString] { ["target", "envCap", "slot"] }
  public var target, envCap, slot: Word

  public init(target: Word, envCap: Word, slot: Word) {
    (self.target, self.envCap, self.slot) = (target, envCap, slot)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(target: w.rdi, envCap: w.rsi, slot: w.rdx)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, slot, filling: filler)
  }
}

/// `pageProtect(target, envCap, slot, rights)`: changes the rights of the
/// binding at window slot `slot` of `target`.
public struct PageProtectArguments<Word>: SyscallArguments {
  public static var call: Syscall { .pageProtect }
  public static var parameterNames: [StaticString] { ["target", "envCap", "slot", "rights"] }
  public var target, envCap, slot, rights: Word

  public init(target: Word, envCap: Word, slot: Word, rights: Word) {
    (self.target, self.envCap, self.slot, self.rights) = (target, envCap, slot, rights)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(target: w.rdi, envCap: w.rsi, slot: w.rdx, rights: w.r10)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(target, envCap, slot, rights, filling: filler)
  }
}
