import Arch
import ExoABI

/// The address space of every environment slot, allocated once at boot so
/// that creating an environment never runs out of kernel memory:
///
///     PML4[0]   the kernel's identity map (supervisor only)
///     PML4[1] → PDPT:  [0]   → PD → PT image   (program image)
///                      [64]  → PD → PT window  (the 512 window slots)
///                      [128] → PD → PT info    (kernel tables, read-only, shared)
///                      [255] → PD → PT stack   (initial stack, top at stackTop)
///
/// Per slot, a kernel page holds the physical addresses of its tables and
/// of its private data and stack pages (`Slot` words).
enum AddressSpaces {
  private enum Slot: UInt64 {
    case root = 0, imageTable, windowTable, stackTable, data, stack
  }

  nonisolated(unsafe) private static var slots: UInt64 = 0
  nonisolated(unsafe) private static var infoDirectory: UInt64 = 0

  /// Wrapping arithmetic: `e` is a slot the spec or the kernel checked.
  private static func word(_ e: UInt64, _ slot: Slot) -> UInt64 {
    PhysicalMemory.load64(slots &+ e &* 64 &+ slot.rawValue &* 8)
  }

  static func root(_ e: UInt64) -> UInt64 { word(e, .root) }
  static func windowTable(_ e: UInt64) -> UInt64 { word(e, .windowTable) }

  private static func index(_ va: UInt64, level: UInt64) -> UInt64 {
    (va >> (12 + 9 * level)) & 0x1FF
  }

  private static func link(_ table: UInt64, _ index: UInt64, to next: UInt64) {
    PhysicalMemory.store64(
      table + index * 8,
      PageTableEntry(frame: PhysicalAddress(rawValue: next), flags: [.present, .writable, .user])
        .rawValue)
  }

  /// Allocates the tables of every slot and the shared info mapping.
  static func prepare(_ allocator: inout PageAllocator) {
    slots = allocator.run(Info.environmentCount * 64 / pageSize + 1)
    // The info area, read-only and no-execute, shared by every slot.
    infoDirectory = allocator.run(1)
    let infoTable = allocator.run(1)
    link(infoDirectory, 0, to: infoTable)
    let infoPages = UInt64(Info.layout.size) / pageSize
    for i in 0..<infoPages {
      PhysicalMemory.store64(
        infoTable + i * 8,
        PageTableEntry(
          frame: PhysicalAddress(rawValue: Info.base + i * pageSize),
          flags: [.present, .user, .noExecute]
        ).rawValue)
    }
    for e in 0..<Info.environmentCount {
      let tables = allocator.run(8)  // PML4, PDPT, 3 PDs, 3 PTs
      let (pml4, pdpt) = (tables, tables + pageSize)
      let (pdImage, pdWindow, pdStack) = (
        tables + 2 * pageSize, tables + 3 * pageSize, tables + 4 * pageSize
      )
      let (ptImage, ptWindow, ptStack) = (
        tables + 5 * pageSize, tables + 6 * pageSize, tables + 7 * pageSize
      )
      PhysicalMemory.store64(pml4, PhysicalMemory.load64(arch_kernel_pml4()))
      link(pml4, 1, to: pdpt)
      link(pdpt, index(UserLayout.imageBase, level: 2), to: pdImage)
      link(pdpt, index(UserLayout.windowBase, level: 2), to: pdWindow)
      link(pdpt, index(UserLayout.infoBase, level: 2), to: infoDirectory)
      link(pdpt, index(UserLayout.stackTop - 1, level: 2), to: pdStack)
      link(pdImage, 0, to: ptImage)
      link(pdWindow, 0, to: ptWindow)
      link(pdStack, index(UserLayout.stackTop - 1, level: 1), to: ptStack)
      let base = slots + e * 64
      PhysicalMemory.store64(base + Slot.root.rawValue * 8, pml4)
      PhysicalMemory.store64(base + Slot.imageTable.rawValue * 8, ptImage)
      PhysicalMemory.store64(base + Slot.windowTable.rawValue * 8, ptWindow)
      PhysicalMemory.store64(base + Slot.stackTable.rawValue * 8, ptStack)
      // Not zeroed: their entries are not present yet, so the slot's first
      // `build` copies or zeroes every one.
      PhysicalMemory.store64(
        base + Slot.data.rawValue * 8, allocator.run(ProgramImage.writablePages, zeroed: false))
      PhysicalMemory.store64(
        base + Slot.stack.rawValue * 8, allocator.run(UserLayout.stackPages, zeroed: false))
    }
  }

  /// Gives slot `e` a fresh copy of the program: shared read-only pages,
  /// private data copied from the pristine image, a zeroed stack, an empty
  /// window. Bounded: at most `ProgramImage.maximumPages + stackPages +
  /// windowSlots` page-table writes and page copies.
  ///
  /// A private page (data or stack) is copied or zeroed only if it may
  /// differ from the pristine one: the slot's entry for it still maps the
  /// same frame (the image and stack tables of a slot map the same frames
  /// on every build) and the CPU has not set its dirty bit since the last
  /// build wrote the entry clean. User code writes these pages only through
  /// that entry; the kernel writes into user memory only in window slots
  /// (exception and upcall frames) and in `consoleRead`, which sets the
  /// dirty bit of the entry it writes through (`markWritten`). If the slot
  /// is the active address space, the TLB is flushed at the end so no
  /// cached translation writes past a clean entry.
  static func build(_ e: UInt64) {
    let ptImage = word(e, .imageTable)
    let ptWindow = word(e, .windowTable)
    let ptStack = word(e, .stackTable)
    PhysicalMemory.zeroPage(ptWindow)
    var data = word(e, .data)
    for i in 0..<ProgramImage.pageCount {
      let va = ProgramImage.virtualAddress(i)
      var pte = ProgramImage.mapping(i)
      let entry = ptImage + index(va, level: 0) * 8
      if pte.contains(.writable) {
        if !clean(PhysicalMemory.load64(entry), frame: data) {
          copyPage(to: data, from: pte.frame.rawValue)
        }
        pte = PageTableEntry(
          frame: PhysicalAddress(rawValue: data),
          flags: PageTableEntry(rawValue: pte.rawValue & ~PageTableEntry.frameMask))
        data += pageSize
      }
      PhysicalMemory.store64(entry, pte.rawValue)
    }
    let stack = word(e, .stack)
    for i in 0..<UserLayout.stackPages {
      let frame = stack + i * pageSize
      let va = UserLayout.stackTop - (i + 1) * pageSize
      let entry = ptStack + index(va, level: 0) * 8
      if !clean(PhysicalMemory.load64(entry), frame: frame) { PhysicalMemory.zeroPage(frame) }
      PhysicalMemory.store64(
        entry,
        PageTableEntry(
          frame: PhysicalAddress(rawValue: frame), flags: [.present, .writable, .user, .noExecute]
        ).rawValue)
    }
    if arch_read_cr3() == word(e, .root) { arch_write_cr3(word(e, .root)) }
  }

  /// Whether the entry `value` maps `frame` and was never written through
  /// since it was stored: the page still holds what the last build put there.
  private static func clean(_ value: UInt64, frame: UInt64) -> Bool {
    let entry = PageTableEntry(rawValue: value)
    return entry.contains(.present) && !entry.contains(.dirty) && entry.frame.rawValue == frame
  }

  /// Sets the dirty bit of the leaf entry mapping `va` in `e`'s address
  /// space, for a kernel write into that page through the identity map.
  @inline(never)
  static func markWritten(_ e: UInt64, _ va: UInt64) {
    guard va >= UserLayout.start, va < UserLayout.end else { return }
    var table = word(e, .root)
    for level in stride(from: UInt64(3), through: 0, by: -1) {
      let at = table + index(va, level: level) * 8
      let entry = PageTableEntry(rawValue: PhysicalMemory.load64(at))
      guard entry.contains([.present, .user]) else { return }
      if level == 0 {
        PhysicalMemory.store64(at, entry.rawValue | PageTableEntry.dirty.rawValue)
        return
      }
      guard !entry.contains(.largePage) else { return }
      table = entry.frame.rawValue
    }
  }

  private static func copyPage(to destination: UInt64, from source: UInt64) {
    PhysicalMemory.copy(
      to: destination, from: UnsafePointer(PhysicalMemory.bytes(source)), count: Int(pageSize))
  }

  /// Installs the hardware mapping of window slot `s` of `e` from its
  /// binding record (or clears it), then invalidates the TLB entry if `e`'s
  /// address space is the active one.
  static func syncWindow(_ e: UInt64, slot s: UInt64) {
    let page = Info[binding: e, slot: s, .page]
    var value: UInt64 = 0
    if page != none {
      let rights = Rights(rawValue: Info[binding: e, slot: s, .rights])
      var flags: PageTableEntry = [.present, .user]
      if rights.contains(.write) { flags.insert(.writable) }
      if !rights.contains(.execute) { flags.insert(.noExecute) }
      value =
        PageTableEntry(frame: PhysicalAddress(rawValue: page &* pageSize), flags: flags).rawValue
    }
    PhysicalMemory.store64(word(e, .windowTable) &+ s &* 8, value)
    if arch_read_cr3() == word(e, .root) {
      arch_invlpg(UserLayout.windowBase &+ s &* pageSize)
    }
  }

  /// The leaf entry mapping user address `va` in `e`'s address space, if it
  /// is present and user accessible at every level.
  static func userEntry(_ e: UInt64, _ va: UInt64) -> PageTableEntry? {
    guard va >= UserLayout.start, va < UserLayout.end else { return nil }
    var table = word(e, .root)
    for level in stride(from: UInt64(3), through: 0, by: -1) {
      let entry = PageTableEntry(
        rawValue: PhysicalMemory.load64(table + index(va, level: level) * 8))
      guard entry.contains([.present, .user]) else { return nil }
      if level == 0 { return entry }
      guard !entry.contains(.largePage) else { return nil }
      table = entry.frame.rawValue
    }
    return nil
  }

  static func activate(_ e: UInt64) {
    let root = word(e, .root)
    if arch_read_cr3() != root { arch_write_cr3(root) }
  }
}
