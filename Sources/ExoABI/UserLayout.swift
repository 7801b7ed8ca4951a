/// The layout of every environment's address space, shared by the kernel,
/// the user runtime and the linker script of user programs.
///
///     0x0000_0000_0000 ..< 0x0080_0000_0000   kernel (identity map, supervisor only)
///     0x0080_0000_0000                        program image (shared text, private data)
///     0x0090_0000_0000                        window: windowSlots pages the
///                                             environment binds with pageMap
///     0x00A0_0000_0000                        kernel tables, read-only (InfoLayout)
///     0x00C0_0000_0000                        top of the initial stack (stackPages)
///     0x0100_0000_0000                        end of user space
public enum UserLayout {
  /// The first user virtual address (the second 512 GiB of the address space).
  public static let start: UInt64 = 0x0080_0000_0000
  /// One past the last user virtual address.
  public static let end: UInt64 = 0x0100_0000_0000
  /// Where user program images are linked.
  public static let imageBase: UInt64 = 0x0080_0000_0000
  /// The virtual address of window slot 0; slot `i` is `windowBase + i * pageSize`.
  public static let windowBase: UInt64 = 0x0090_0000_0000
  /// Where the kernel's tables are mapped read-only.
  public static let infoBase: UInt64 = 0x00A0_0000_0000
  /// The initial stack pointer of an environment's first thread.
  public static let stackTop: UInt64 = 0x00C0_0000_0000
  /// How many pages of stack the kernel maps below ``stackTop``.
  public static let stackPages: UInt64 = 16

  /// The virtual address of window slot `slot`.
  public static func windowAddress(slot: Int) -> VirtualAddress {
    VirtualAddress(rawValue: windowBase + UInt64(slot) * pageSize)
  }

  /// The window slot that contains `address`, if it lies in a window of
  /// `slots` slots.
  public static func windowSlot(of address: VirtualAddress, slots: Int) -> Int? {
    guard address.rawValue >= windowBase else { return nil }
    let slot = (address.rawValue - windowBase) / pageSize
    return slot < UInt64(slots) ? Int(slot) : nil
  }
}

/// The segment selectors user code runs with (GDT order: kernel code 0x08,
/// kernel data 0x10, user data 0x18, user code 0x20, RPL 3).
public enum UserSelectors {
  public static let code: UInt64 = 0x20 | 3
  public static let data: UInt64 = 0x18 | 3
}
