import Arch
import ExoABI

/// Hands out zeroed physical pages from the RAM regions of the boot memory
/// map that lie above the kernel image and inside the identity map.
///
/// A bump allocator over at most `maximumRegions` regions; pages are not
/// returned yet.
struct PageAllocator {
  static let maximumRegions = 8
  private var regionStart = InlineArray<8, UInt64>(repeating: 0)
  private var regionEnd = InlineArray<8, UInt64>(repeating: 0)
  private var regionCount = 0
  private var current = 0
  private var next: UInt64 = 0
  /// Usable pages found in the memory map.
  private(set) var totalPages: UInt64 = 0
  /// Pages handed out so far.
  private(set) var allocatedPages: UInt64 = 0

  init(bootInfo: BootInfo) {
    let floor = (arch_kernel_end() + pageSize - 1) & ~(pageSize - 1)
    for i in 0..<bootInfo.regionCount where regionCount < PageAllocator.maximumRegions {
      let r = bootInfo.region(i)
      guard r.type == BootInfo.ramType else { continue }
      let start = max((r.start + pageSize - 1) & ~(pageSize - 1), floor)
      let end = min((r.start &+ r.size) & ~(pageSize - 1), PhysicalMemory.identityMapEnd)
      guard start < end else { continue }
      regionStart[regionCount] = start
      regionEnd[regionCount] = end
      totalPages += (end - start) / pageSize
      regionCount += 1
    }
    next = regionStart[0]
  }

  /// A fresh zeroed page, or `nil` when memory is exhausted.
  mutating func allocate() -> PhysicalAddress? { allocate(zeroed: true) }

  /// A fresh page, zeroed if `zeroed`, or `nil` when memory is exhausted.
  mutating func allocate(zeroed: Bool) -> PhysicalAddress? {
    while current < regionCount && next >= regionEnd[current] {
      current += 1
      if current < regionCount { next = regionStart[current] }
    }
    guard current < regionCount else { return nil }
    let page = next
    next += pageSize
    allocatedPages += 1
    if zeroed { PhysicalMemory.zeroPage(page) }
    return PhysicalAddress(rawValue: page)
  }

  /// Moves on to `address` (page aligned) if it lies ahead in the current
  /// region; the pages skipped are not used. Whether it did.
  mutating func skip(to address: UInt64) -> Bool {
    guard current < regionCount, next <= address, address < regionEnd[current] else {
      return false
    }
    next = address
    return true
  }

  /// `count` pages that are physically contiguous, zeroed unless `zeroed`
  /// is false (for pages whose every use writes them first); panics if
  /// memory is exhausted or not contiguous (boot-time configuration only).
  /// Taken in one step from the current region (what `count` calls of
  /// `allocate` would give, or a panic where they would not be contiguous),
  /// and zeroed with one `memset`.
  mutating func run(_ count: UInt64, zeroed: Bool = true) -> UInt64 {
    guard count > 0 else { return 0 }
    while current < regionCount && next >= regionEnd[current] {
      current += 1
      if current < regionCount { next = regionStart[current] }
    }
    guard current < regionCount else { panic("out of memory at boot") }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: pageSize)
    guard !overflow, bytes <= regionEnd[current] - next else {
      panic("boot memory is not contiguous")
    }
    let first = next
    next += bytes
    allocatedPages += count
    if zeroed {
      arch_pointer(first).initializeMemory(as: UInt8.self, repeating: 0, count: Int(bytes))
    }
    return first
  }
}
