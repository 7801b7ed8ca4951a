import ExoABI

/// Loads a static ELF64 x86_64 executable into a user address space.
///
///     ELF header: 0 magic "\x7fELF"  4 class (2 = 64-bit)  5 data (1 = LE)
///       16 type (2 = EXEC)  18 machine (0x3E)  24 entry  32 phoff
///       54 phentsize  56 phnum
///     program header: 0 type (1 = LOAD)  4 flags (1 X, 2 W, 4 R)  8 offset
///       16 vaddr  32 filesz  40 memsz
enum ElfLoader {
  enum Failure: Error {
    case notElf, wrongMachine, badSegment, outOfMemory
    var name: StaticString {
      switch self {
      case .notElf: "not an ELF64 executable"
      case .wrongMachine: "not for x86_64"
      case .badSegment: "a segment lies outside user space or the file"
      case .outOfMemory: "out of memory"
      }
    }
  }

  /// Maps every PT_LOAD segment of `image` into `space`; returns the entry.
  static func load(
    _ image: UnsafePointer<UInt8>, size: UInt64, into space: inout AddressSpace,
    allocator: inout PageAllocator
  ) -> Result<VirtualAddress, Failure> {
    let raw = UnsafeRawPointer(image)
    guard size >= 64, image[0] == 0x7F, image[1] == 0x45, image[2] == 0x4C, image[3] == 0x46,
      image[4] == 2, image[5] == 1, raw.loadUnaligned(fromByteOffset: 16, as: UInt16.self) == 2
    else { return .failure(.notElf) }
    guard raw.loadUnaligned(fromByteOffset: 18, as: UInt16.self) == 0x3E else {
      return .failure(.wrongMachine)
    }
    let entry = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    let phoff = raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self)
    let phentsize = UInt64(raw.loadUnaligned(fromByteOffset: 54, as: UInt16.self))
    let phnum = UInt64(raw.loadUnaligned(fromByteOffset: 56, as: UInt16.self))
    guard phentsize >= 56, phoff <= size, phnum * phentsize <= size - phoff else {
      return .failure(.notElf)
    }
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
        VirtualAddress(rawValue: vaddr).isUser, segmentEnd <= UserLayout.end
      else { return .failure(.badSegment) }
      var page = vaddr & ~(pageSize - 1)
      while page < segmentEnd {
        guard let frame = allocator.allocate() else { return .failure(.outOfMemory) }
        // Copy the part of the file that falls in this page.
        let copyStart = max(page, vaddr)
        let copyEnd = min(page + pageSize, vaddr + filesz)
        if copyStart < copyEnd {
          PhysicalMemory.copy(
            to: frame.rawValue + (copyStart - page), from: image + Int(offset + copyStart - vaddr),
            count: Int(copyEnd - copyStart))
        }
        guard
          space.mapUserPage(
            VirtualAddress(rawValue: page), to: frame, writable: flags & 2 != 0,
            executable: flags & 1 != 0, allocator: &allocator)
        else { return .failure(.outOfMemory) }
        page += pageSize
      }
    }
    guard VirtualAddress(rawValue: entry).isUser else { return .failure(.badSegment) }
    return .success(VirtualAddress(rawValue: entry))
  }
}
