import ExoABI

/// A claim on `length` bytes of user memory at `address` in environment
/// `environment`'s address space, readable by the user. Only `claim`
/// creates one, and it checks that the range lies in user space without
/// wrapping and that every page is mapped user-accessible, so reading
/// through it cannot fault.
struct UserBuffer {
  let environment: UInt64
  let address: UInt64
  let length: UInt64

  /// Checks the range; `.badAddress` if any byte is not readable user memory.
  static func claim(_ address: UInt64, length: UInt64, in environment: UInt64)
    -> Result<UserBuffer, ExoError>
  {
    let (end, overflow) = address.addingReportingOverflow(length)
    guard !overflow, address >= UserLayout.start, end <= UserLayout.end else {
      return .failure(.badAddress)
    }
    var page = address & ~(pageSize - 1)
    while page < end {
      guard AddressSpaces.userEntry(environment, page) != nil else { return .failure(.badAddress) }
      page += pageSize
    }
    return .success(UserBuffer(environment: environment, address: address, length: length))
  }

  /// Calls `body` with each physically contiguous piece of the buffer.
  func forEachChunk(_ body: (UnsafePointer<UInt8>, Int) -> Void) {
    var va = address
    let end = address + length
    while va < end {
      guard let entry = AddressSpaces.userEntry(environment, va) else { return }
      let offset = va & (pageSize - 1)
      let count = min(pageSize - offset, end - va)
      body(UnsafePointer(PhysicalMemory.bytes(entry.frame.rawValue + offset)), Int(count))
      va += count
    }
  }
}
