import ExoABI

/// What the boot loader (QEMU's PVH loader) tells the kernel: the physical
/// memory map and the command line, read from the `hvm_start_info` structure
/// whose physical address arrives in %ebx.
///
///     hvm_start_info (version 1)            hvm_memmap_table_entry
///     0  u32 magic = 0x336ec578             0  u64 addr
///     4  u32 version                        8  u64 size
///     8  u32 flags                         16  u32 type (1 = RAM)
///    12  u32 nr_modules                    20  u32 reserved
///    16  u64 modlist_paddr
///    24  u64 cmdline_paddr
///    32  u64 rsdp_paddr
///    40  u64 memmap_paddr
///    48  u32 memmap_entries
struct BootInfo {
  static let magic: UInt32 = 0x336E_C578
  static let maximumRegions = 32
  static let ramType: UInt32 = 1

  let address: UInt64

  /// Validates the structure; `nil` if the magic or version is wrong.
  init?(address: UInt64) {
    guard address != 0, address < PhysicalMemory.identityMapEnd,
      PhysicalMemory.load32(address) == BootInfo.magic,
      PhysicalMemory.load32(address + 4) >= 1
    else { return nil }
    self.address = address
  }

  var regionCount: Int {
    min(Int(PhysicalMemory.load32(address + 48)), BootInfo.maximumRegions)
  }

  /// Region `index`: its start, size in bytes and type.
  func region(_ index: Int) -> (start: UInt64, size: UInt64, type: UInt32) {
    let entry = PhysicalMemory.load64(address + 40) + UInt64(index) * 24
    return (
      PhysicalMemory.load64(entry), PhysicalMemory.load64(entry + 8),
      PhysicalMemory.load32(entry + 16)
    )
  }

  /// The command line as a NUL-terminated string, or `nil` if there is none.
  var commandLine: UnsafePointer<UInt8>? {
    let p = PhysicalMemory.load64(address + 24)
    guard p != 0, p < PhysicalMemory.identityMapEnd else { return nil }
    return UnsafePointer(PhysicalMemory.bytes(p))
  }

  /// The value of `key=value` on the command line, as (start, length).
  func option(_ key: StaticString) -> (UnsafePointer<UInt8>, Int)? {
    guard let line = commandLine else { return nil }
    var i = 0
    while line[i] != 0 {
      // At the start of a word: compare the key.
      var matches = true
      let keyLength = key.utf8CodeUnitCount
      for k in 0..<keyLength where line[i + k] != key.utf8Start[k] {
        matches = false
        break
      }
      if matches && line[i + keyLength] == UInt8(ascii: "=") {
        let start = line + i + keyLength + 1
        var length = 0
        while start[length] != 0 && start[length] != UInt8(ascii: " ") { length += 1 }
        return (start, length)
      }
      while line[i] != 0 && line[i] != UInt8(ascii: " ") { i += 1 }
      while line[i] == UInt8(ascii: " ") { i += 1 }
    }
    return nil
  }
}
