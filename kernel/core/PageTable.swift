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
  /// Set by the CPU when it writes through the entry (leaf entries).
  static let dirty = PageTableEntry(rawValue: 1 << 6)
  static let largePage = PageTableEntry(rawValue: 1 << 7)
  static let noExecute = PageTableEntry(rawValue: 1 << 63)

  static let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000

  init(rawValue: UInt64) { self.rawValue = rawValue }

  init(frame: PhysicalAddress, flags: PageTableEntry) {
    rawValue = (frame.rawValue & PageTableEntry.frameMask) | flags.rawValue
  }

  var frame: PhysicalAddress { PhysicalAddress(rawValue: rawValue & PageTableEntry.frameMask) }
}
