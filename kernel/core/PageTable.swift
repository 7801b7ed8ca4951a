import Arch
import ExoABI

/// The bits of an x86_64 page-table entry (Intel SDM vol. 3, 4.5), declared
/// once for every level.
///
///     63  62..52  51..12           11..9  8  7   6  5  4    3    2    1    0
///     NX  avail   physical frame   avail  G  PS  D  A  PCD  PWT  U/S  R/W  P
struct PageTableEntry: OptionSet {
  let rawValue: UInt64

  static let present = PageTableEntry(rawValue: 1 << 0)
  static let writable = PageTableEntry(rawValue: 1 << 1)
  static let user = PageTableEntry(rawValue: 1 << 2)
  static let largePage = PageTableEntry(rawValue: 1 << 7)
  static let noExecute = PageTableEntry(rawValue: 1 << 63)

  static let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000

  init(rawValue: UInt64) { self.rawValue = rawValue }

  init(frame: PhysicalAddress, flags: PageTableEntry) {
    rawValue = (frame.rawValue & PageTableEntry.frameMask) | flags.rawValue
  }

  var frame: PhysicalAddress { PhysicalAddress(rawValue: rawValue & PageTableEntry.frameMask) }
}

/// One environment's address space: a PML4 whose first entry shares the
/// kernel's identity map (supervisor only) and whose user half is private.
struct AddressSpace {
  let root: PhysicalAddress

  init(rootUnchecked root: PhysicalAddress) { self.root = root }

  /// A new address space with the kernel mapped and no user pages.
  init?(allocator: inout PageAllocator) {
    guard let root = allocator.allocate() else { return nil }
    self.root = root
    PhysicalMemory.store64(root.rawValue, PhysicalMemory.load64(arch_kernel_pml4()))
  }

  private static func index(_ va: VirtualAddress, level: Int) -> UInt64 {
    (va.rawValue >> UInt64(12 + 9 * level)) & 0x1FF
  }

  /// Maps the user page at `va` to `frame`. Intermediate tables are created
  /// user-accessible and writable; the leaf carries the restriction.
  /// Fails with `.badAddress` outside user space, `nil` allocation aside.
  mutating func mapUserPage(
    _ va: VirtualAddress, to frame: PhysicalAddress, writable: Bool, executable: Bool,
    allocator: inout PageAllocator
  ) -> Bool {
    guard va.isUser, va.isPageAligned else { return false }
    var table = root.rawValue
    for level in stride(from: 3, to: 0, by: -1) {
      let slot = table + AddressSpace.index(va, level: level) * 8
      var entry = PageTableEntry(rawValue: PhysicalMemory.load64(slot))
      if !entry.contains(.present) {
        guard let fresh = allocator.allocate() else { return false }
        entry = PageTableEntry(frame: fresh, flags: [.present, .writable, .user])
        PhysicalMemory.store64(slot, entry.rawValue)
      }
      table = entry.frame.rawValue
    }
    var flags: PageTableEntry = [.present, .user]
    if writable { flags.insert(.writable) }
    if !executable { flags.insert(.noExecute) }
    PhysicalMemory.store64(
      table + AddressSpace.index(va, level: 0) * 8,
      PageTableEntry(frame: frame, flags: flags).rawValue)
    return true
  }

  /// The leaf entry mapping user address `va`, if present and user
  /// accessible at every level.
  func userEntry(_ va: VirtualAddress) -> PageTableEntry? {
    guard va.isUser else { return nil }
    var table = root.rawValue
    for level in stride(from: 3, through: 0, by: -1) {
      let entry = PageTableEntry(
        rawValue: PhysicalMemory.load64(table + AddressSpace.index(va, level: level) * 8))
      guard entry.contains([.present, .user]) else { return nil }
      if level == 0 { return entry }
      guard !entry.contains(.largePage) else { return nil }
      table = entry.frame.rawValue
    }
    return nil
  }

  func activate() { arch_write_cr3(root.rawValue) }
}
