/// The arguments of the packet-filter calls (``SyscallArguments``;
/// docs/network.md, docs/ABI.md "Packet filters").

/// `filterTest(filter, index, first, second)`: writes test `index` of the
/// caller's filter slot `filter`; `first` and `second` are the test's two
/// words of the ``PacketFilter`` encoding (offset and width; value and
/// mask).
public struct FilterTestArguments<Word>: SyscallArguments {
  public static var call: Syscall { .filterTest }
  public static var parameterNames: [StaticString] { ["filter", "index", "first", "second"] }
  public var filter, index, first, second: Word

  public init(filter: Word, index: Word, first: Word, second: Word) {
    (self.filter, self.index, self.first, self.second) = (filter, index, first, second)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(filter: w.rdi, index: w.rsi, first: w.rdx, second: w.r10)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(filter, index, first, second, filling: filler)
  }
}

/// `filterInstall(filter, count, slot)`: installs the caller's filter slot
/// `filter` with its first `count` tests; matching frames go to the page
/// the caller has bound writable at window slot `slot`.
public struct FilterInstallArguments<Word>: SyscallArguments {
  public static var call: Syscall { .filterInstall }
  public static var parameterNames: [StaticString] { ["filter", "count", "slot"] }
  public var filter, count, slot: Word

  public init(filter: Word, count: Word, slot: Word) {
    (self.filter, self.count, self.slot) = (filter, count, slot)
  }
  public init(words w: ArgumentWords<Word>) {
    self.init(filter: w.rdi, count: w.rsi, slot: w.rdx)
  }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(filter, count, slot, filling: filler)
  }
}

/// `filterRelease(filter)`: the caller has consumed the frame delivered to
/// its filter `filter`; the next matching frame may be delivered.
public struct FilterReleaseArguments<Word>: SyscallArguments {
  public static var call: Syscall { .filterRelease }
  public static var parameterNames: [StaticString] { ["filter"] }
  public var filter: Word

  public init(filter: Word) { self.filter = filter }
  public init(words w: ArgumentWords<Word>) { self.init(filter: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(filter, filling: filler)
  }
}

/// `filterRemove(filter)`: frees the caller's filter slot `filter`.
public struct FilterRemoveArguments<Word>: SyscallArguments {
  public static var call: Syscall { .filterRemove }
  public static var parameterNames: [StaticString] { ["filter"] }
  public var filter: Word

  public init(filter: Word) { self.filter = filter }
  public init(words w: ArgumentWords<Word>) { self.init(filter: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(filter, filling: filler)
  }
}

/// `frameTransmit(slot, length)`: sends the first `length` bytes of the
/// page the caller has bound readable at window slot `slot` as one
/// Ethernet frame (without check sequence), if the transmit rule
/// (docs/ABI.md) allows the caller to send it.
public struct FrameTransmitArguments<Word>: SyscallArguments {
  public static var call: Syscall { .frameTransmit }
  public static var parameterNames: [StaticString] { ["slot", "length"] }
  public var slot, length: Word

  public init(slot: Word, length: Word) { (self.slot, self.length) = (slot, length) }
  public init(words w: ArgumentWords<Word>) { self.init(slot: w.rdi, length: w.rsi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(slot, length, filling: filler)
  }
}
