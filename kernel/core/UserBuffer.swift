import ExoABI

/// A claim on `length` bytes of user memory at `address` in an address
/// space, readable by the user. Only `claim` creates one, and it checks that
/// the range lies in user space without wrapping and that every page is
/// mapped user-accessible, so reading through it cannot fault.
struct UserBuffer {
  let space: AddressSpace
  let address: VirtualAddress
  let length: UInt64

  /// Checks the range; `.badAddress` if any byte is not readable user memory.
  static func claim(_ address: VirtualAddress, length: UInt64, in space: AddressSpace)
    -> Result<UserBuffer, ExoError>
  {
    let (end, overflow) = address.rawValue.addingReportingOverflow(length)
    guard !overflow, address.isUser, end <= UserLayout.end else { return .failure(.badAddress) }
    var page = address.pageBase.rawValue
    while page < end {
      guard space.userEntry(VirtualAddress(rawValue: page)) != nil else {
        return .failure(.badAddress)
      }
      page += pageSize
    }
    return .success(UserBuffer(space: space, address: address, length: length))
  }

  /// Calls `body` with each physically contiguous piece of the buffer.
  func forEachChunk(_ body: (UnsafePointer<UInt8>, Int) -> Void) {
    var va = address.rawValue
    let end = address.rawValue + length
    while va < end {
      guard let entry = space.userEntry(VirtualAddress(rawValue: va)) else { return }
      let offset = va & (pageSize - 1)
      let count = min(pageSize - offset, end - va)
      body(UnsafePointer(PhysicalMemory.bytes(entry.frame.rawValue + offset)), Int(count))
      va += count
    }
  }
}
