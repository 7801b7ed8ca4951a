/// The layout of every environment's address space, shared by the kernel,
/// the user runtime and the linker script of user programs.
///
///     0x0000_0000_0000 ..< 0x0080_0000_0000   kernel (identity map, supervisor only)
///     0x0080_0000_0000 ..< 0x0100_0000_0000   user: program image from `imageBase`,
///                                             stack below `stackTop`
public enum UserLayout {
  /// The first user virtual address (the second 512 GiB of the address space).
  public static let start: UInt64 = 0x0080_0000_0000
  /// One past the last user virtual address.
  public static let end: UInt64 = 0x0100_0000_0000
  /// Where user program images are linked.
  public static let imageBase: UInt64 = 0x0080_0000_0000
  /// The initial stack pointer of the first thread of a program.
  public static let stackTop: UInt64 = 0x00C0_0000_0000
  /// How many pages of stack the kernel maps below ``stackTop``.
  public static let stackPages: UInt64 = 16
}
