/// Which argument of a system call travels in which register: one type per
/// ``Syscall``, named after it (``PageMapArguments`` for `pageMap`), whose
/// stored properties are the call's parameters in register order and whose
/// `init(words:)` and `words(filling:)` are the only place that order is
/// written. The user library encodes through them, the kernel and the spec
/// decode through them, and the tools list a call's parameters from them
/// (``Syscall/parameters``, host only).
///
/// The types are generic over the word: `UInt64` in the kernel, the user
/// library and the libOS; the spec's domain word when it decodes symbolic
/// arguments. Nothing here allocates.

/// The six argument registers of a system call, in the order the calling
/// convention fills them (``Syscall``): what the user library loads before
/// `syscall` and what the kernel finds in the caller's saved frame.
public struct ArgumentWords<Word> {
  public var rdi, rsi, rdx, r10, r8, r9: Word

  public init(_ rdi: Word, _ rsi: Word, _ rdx: Word, _ r10: Word, _ r8: Word, _ r9: Word) {
    (self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9) = (rdi, rsi, rdx, r10, r8, r9)
  }

  /// The registers given, from `rdi` on, and `filler` in the rest.
  public init(
    _ rdi: Word? = nil, _ rsi: Word? = nil, _ rdx: Word? = nil, _ r10: Word? = nil,
    _ r8: Word? = nil, filling filler: Word
  ) {
    self.init(rdi ?? filler, rsi ?? filler, rdx ?? filler, r10 ?? filler, r8 ?? filler, filler)
  }

  /// The register at position `index` (0: `rdi` … 5: `r9`).
  public subscript(index: Int) -> Word {
    get {
      switch index {
      case 0: rdi
      case 1: rsi
      case 2: rdx
      case 3: r10
      case 4: r8
      case 5: r9
      default: preconditionFailure("a system call has six argument registers")
      }
    }
    set {
      switch index {
      case 0: rdi = newValue
      case 1: rsi = newValue
      case 2: rdx = newValue
      case 3: r10 = newValue
      case 4: r8 = newValue
      case 5: r9 = newValue
      default: preconditionFailure("a system call has six argument registers")
      }
    }
  }

  /// How many argument registers there are.
  public static var count: Int { 6 }
}

extension ArgumentWords: Equatable where Word: Equatable {}
extension ArgumentWords: Hashable where Word: Hashable {}
extension ArgumentWords: Sendable where Word: Sendable {}

/// A system call's arguments: the definition of which register carries
/// which of them. Each conforming type is a struct whose stored properties
/// are ``parameterNames``, in register order.
public protocol SyscallArguments<Word> {
  associatedtype Word
  /// The call these are the arguments of.
  static var call: Syscall { get }
  /// The call's parameters in register order (rdi, rsi, rdx, r10, r8, r9),
  /// named as the stored properties and as in docs/ABI.md.
  static var parameterNames: [StaticString] { get }
  /// Decodes the arguments from the registers (the unused ones ignored).
  init(words: ArgumentWords<Word>)
  /// Encodes the arguments into the registers, `filler` in the unused ones.
  func words(filling filler: Word) -> ArgumentWords<Word>
}

extension SyscallArguments where Word == UInt64 {
  /// The argument registers, 0 in those the call does not use.
  @inline(__always)
  public var words: ArgumentWords<UInt64> { words(filling: 0) }
}

// MARK: Console and time

/// `consoleWrite(address, length)`: writes `length` bytes at user address
/// `address` to the kernel console.
public struct ConsoleWriteArguments<Word>: SyscallArguments {
  public static var call: Syscall { .consoleWrite }
  public static var parameterNames: [StaticString] { ["address", "length"] }
  public var address, length: Word

  public init(address: Word, length: Word) { (self.address, self.length) = (address, length) }
  public init(words w: ArgumentWords<Word>) { self.init(address: w.rdi, length: w.rsi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(address, length, filling: filler)
  }
}

/// `exit(status)`.
public struct ExitArguments<Word>: SyscallArguments {
  public static var call: Syscall { .exit }
  public static var parameterNames: [StaticString] { ["status"] }
  public var status: Word

  public init(status: Word) { self.status = status }
  public init(words w: ArgumentWords<Word>) { self.init(status: w.rdi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(status, filling: filler)
  }
}

/// `ticks()`: no arguments.
public struct TicksArguments<Word>: SyscallArguments {
  public static var call: Syscall { .ticks }
  public static var parameterNames: [StaticString] { [] }

  public init() {}
  public init(words _: ArgumentWords<Word>) {}
  public func words(filling filler: Word) -> ArgumentWords<Word> { ArgumentWords(filling: filler) }
}

/// `consoleRead(address, length)`: reads at most `length` waiting bytes to
/// user address `address`.
public struct ConsoleReadArguments<Word>: SyscallArguments {
  public static var call: Syscall { .consoleRead }
  public static var parameterNames: [StaticString] { ["address", "length"] }
  public var address, length: Word

  public init(address: Word, length: Word) { (self.address, self.length) = (address, length) }
  public init(words w: ArgumentWords<Word>) { self.init(address: w.rdi, length: w.rsi) }
  public func words(filling filler: Word) -> ArgumentWords<Word> {
    ArgumentWords(address, length, filling: filler)
  }
}

#if !hasFeature(Embedded)
  // MARK: Host: the tools' view (a list of words per call)

  extension ArgumentWords {
    /// `words` in the first registers, `filler` in the rest.
    public init(_ words: [Word], filling filler: Word) {
      precondition(words.count <= Self.count, "a system call has six argument registers")
      self.init(filling: filler)
      for (i, word) in words.enumerated() { self[i] = word }
    }

    /// The first `count` registers.
    public func prefix(_ count: Int) -> [Word] { (0..<count).map { self[$0] } }
  }

  extension SyscallArguments {
    /// Decodes arguments listed as the spec, the replay files and the tools
    /// list them: one word per parameter, in order.
    public init(arguments: [Word], filling filler: Word) {
      precondition(
        arguments.count == Self.parameterNames.count,
        "\(Self.call) takes \(Self.parameterNames.count) arguments")
      self.init(words: ArgumentWords(arguments, filling: filler))
    }
  }

  extension SyscallArguments where Word == UInt64 {
    /// Decodes arguments listed one word per parameter, in order.
    public init(arguments: [UInt64]) { self.init(arguments: arguments, filling: 0) }

    /// The arguments listed one word per parameter, in order: the form the
    /// spec, the replay files and the tools take.
    public var arguments: [UInt64] { words.prefix(Self.parameterNames.count) }
  }

  extension Syscall {
    /// The type that defines the call's arguments.
    public var argumentsType: any SyscallArguments<UInt64>.Type {
      switch self {
      case .consoleWrite: ConsoleWriteArguments<UInt64>.self
      case .exit: ExitArguments<UInt64>.self
      case .ticks: TicksArguments<UInt64>.self
      case .consoleRead: ConsoleReadArguments<UInt64>.self
      case .environmentCreate: EnvironmentCreateArguments<UInt64>.self
      case .environmentSetEntries: EnvironmentSetEntriesArguments<UInt64>.self
      case .environmentStart: EnvironmentStartArguments<UInt64>.self
      case .environmentStop: EnvironmentStopArguments<UInt64>.self
      case .environmentDestroy: EnvironmentDestroyArguments<UInt64>.self
      case .environmentReclaim: EnvironmentReclaimArguments<UInt64>.self
      case .pageAllocate: PageAllocateArguments<UInt64>.self
      case .pageMap: PageMapArguments<UInt64>.self
      case .pageUnmap: PageUnmapArguments<UInt64>.self
      case .pageProtect: PageProtectArguments<UInt64>.self
      case .capabilityDerive: CapabilityDeriveArguments<UInt64>.self
      case .capabilityGrant: CapabilityGrantArguments<UInt64>.self
      case .capabilityDelete: CapabilityDeleteArguments<UInt64>.self
      case .capabilityRevoke: CapabilityRevokeArguments<UInt64>.self
      case .sliceAllocate: SliceAllocateArguments<UInt64>.self
      case .sliceFree: SliceFreeArguments<UInt64>.self
      case .yield: YieldArguments<UInt64>.self
      case .yieldTo: YieldToArguments<UInt64>.self
      case .call: CallArguments<UInt64>.self
      case .reply: ReplyArguments<UInt64>.self
      case .send: SendArguments<UInt64>.self
      case .revocationRequest: RevocationRequestArguments<UInt64>.self
      case .revocationReturn: RevocationReturnArguments<UInt64>.self
      case .filterTest: FilterTestArguments<UInt64>.self
      case .filterInstall: FilterInstallArguments<UInt64>.self
      case .filterRelease: FilterReleaseArguments<UInt64>.self
      case .filterRemove: FilterRemoveArguments<UInt64>.self
      case .frameTransmit: FrameTransmitArguments<UInt64>.self
      }
    }

    /// The call's arguments in register order (rdi, rsi, rdx, r10, r8, r9),
    /// named as in docs/ABI.md: the stored properties of its arguments type.
    public var parameters: [String] { argumentsType.parameterNames.map { "\($0)" } }
  }
#endif
