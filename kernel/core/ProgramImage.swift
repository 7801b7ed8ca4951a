import Arch
import ExoABI

/// The boot program's image, loaded once: every page of every PT_LOAD
/// segment, with its pristine contents. Each environment maps the read-only
/// pages shared and gets a private copy of the writable ones
/// (`AddressSpaces.build`).
///
/// The page list lives in one kernel page: entry i is two words,
/// the virtual address and the frame with `PageTableEntry` flags.
enum ProgramImage {
  static let maximumPages: UInt64 = 256
  nonisolated(unsafe) static var table: UInt64 = 0
  nonisolated(unsafe) static var pageCount: UInt64 = 0
  nonisolated(unsafe) static var writablePages: UInt64 = 0
  nonisolated(unsafe) static var entry: UInt64 = 0

  static func virtualAddress(_ i: UInt64) -> UInt64 { PhysicalMemory.load64(table + i * 16) }
  static func mapping(_ i: UInt64) -> PageTableEntry {
    PageTableEntry(rawValue: PhysicalMemory.load64(table + i * 16 + 8))
  }

  /// Loads a static ELF64 x86_64 executable linked inside the image region
  /// (`imageBase ..< windowBase`, at most `maximumPages` pages).
  ///
  ///     ELF header: 0 magic "\x7fELF"  4 class (2 = 64-bit)  5 data (1 = LE)
  ///       16 type (2 = EXEC)  18 machine (0x3E)  24 entry  32 phoff
  ///       54 phentsize  56 phnum
  ///     program header: 0 type (1 = LOAD)  4 flags (1 X, 2 W, 4 R)  8 offset
  ///       16 vaddr  32 filesz  40 memsz
  static func load(_ image: UnsafePointer<UInt8>, size: UInt64, allocator: inout PageAllocator)
    -> StaticString?
  {
    guard let page = allocator.allocate() else { return "out of memory" }
    table = page.rawValue
    let raw = UnsafeRawPointer(image)
    guard size >= 64, image[0] == 0x7F, image[1] == 0x45, image[2] == 0x4C, image[3] == 0x46,
      image[4] == 2, image[5] == 1, raw.loadUnaligned(fromByteOffset: 16, as: UInt16.self) == 2,
      raw.loadUnaligned(fromByteOffset: 18, as: UInt16.self) == 0x3E
    else { return "not an ELF64 x86_64 executable" }
    entry = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    let phoff = raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self)
    let phentsize = UInt64(raw.loadUnaligned(fromByteOffset: 54, as: UInt16.self))
    let phnum = UInt64(raw.loadUnaligned(fromByteOffset: 56, as: UInt16.self))
    guard phentsize >= 56, phoff <= size, phnum * phentsize <= size - phoff else {
      return "bad program headers"
    }
    let regionEnd = UserLayout.imageBase + 2 * 1024 * 1024
    for i in 0..<phnum {
      let ph = Int(phoff + i * phentsize)
      guard raw.loadUnaligned(fromByteOffset: ph, as: UInt32.self) == 1 else { continue }
      let flags = raw.loadUnaligned(fromByteOffset: ph + 4, as: UInt32.self)
      let offset = raw.loadUnaligned(fromByteOffset: ph + 8, as: UInt64.self)
      let vaddr = raw.loadUnaligned(fromByteOffset: ph + 16, as: UInt64.self)
      let filesz = raw.loadUnaligned(fromByteOffset: ph + 32, as: UInt64.self)
      let memsz = raw.loadUnaligned(fromByteOffset: ph + 40, as: UInt64.self)
      let (segmentEnd, wraps) = vaddr.addingReportingOverflow(memsz)
      guard !wraps, filesz <= memsz, offset <= size, filesz <= size - offset,
        vaddr >= UserLayout.imageBase, segmentEnd <= regionEnd
      else { return "a segment lies outside the image region or the file" }
      var va = vaddr & ~(pageSize - 1)
      while va < segmentEnd {
        guard pageCount < maximumPages, let frame = allocator.allocate() else {
          return "image too large"
        }
        let copyStart = max(va, vaddr)
        let copyEnd = min(va + pageSize, vaddr + filesz)
        if copyStart < copyEnd {
          PhysicalMemory.copy(
            to: frame.rawValue + (copyStart - va), from: image + Int(offset + copyStart - vaddr),
            count: Int(copyEnd - copyStart))
        }
        var pte: PageTableEntry = [.present, .user]
        if flags & 2 != 0 {
          pte.insert(.writable)
          writablePages += 1
        }
        if flags & 1 == 0 { pte.insert(.noExecute) }
        PhysicalMemory.store64(table + pageCount * 16, va)
        PhysicalMemory.store64(
          table + pageCount * 16 + 8, PageTableEntry(frame: frame, flags: pte).rawValue)
        pageCount += 1
        va += pageSize
      }
    }
    guard entry >= UserLayout.imageBase, entry < regionEnd else { return "entry outside the image" }
    return nil
  }
}
