import Arch
import ExoABI

/// The user programs linked into the kernel image (`exo build` generates
/// the table) and the one that is running.
enum Programs {
  nonisolated(unsafe) static var currentSpace = AddressSpace(unchecked: PhysicalAddress(rawValue: 0))
  nonisolated(unsafe) private static var userFrame = trap_frame()

  /// The image whose name equals `name[0..<length]`.
  static func find(_ name: UnsafePointer<UInt8>, length: Int) -> user_image? {
    for i in 0..<arch_user_image_count() {
      let image = arch_user_image(i).pointee
      var k = 0
      while k < length && image.name[k] != 0 && UInt8(bitPattern: image.name[k]) == name[k] {
        k += 1
      }
      if k == length && image.name[k] == 0 { return image }
    }
    return nil
  }

  static func listNames() {
    for i in 0..<arch_user_image_count() {
      let name = UnsafeRawPointer(arch_user_image(i).pointee.name)
        .assumingMemoryBound(to: UInt8.self)
      var length = 0
      while name[length] != 0 { length += 1 }
      Log(" ").bytes(name, count: length)
    }
    Log("").end()
  }

  /// Loads `image` into a fresh address space and enters it in ring 3.
  static func start(_ image: user_image, allocator: inout PageAllocator) -> Never {
    guard var space = AddressSpace(allocator: &allocator) else { panic("no memory for a PML4") }
    let entry: VirtualAddress
    switch ElfLoader.load(image.start, size: image.size, into: &space, allocator: &allocator) {
    case .success(let e): entry = e
    case .failure(let failure):
      Log("exo: cannot load the user program: ").text(failure.name).end()
      exitMachine(.userFailure)
    }
    for i in 1...UserLayout.stackPages {
      guard let frame = allocator.allocate(),
        space.mapUserPage(
          VirtualAddress(rawValue: UserLayout.stackTop - i * pageSize), to: frame, writable: true,
          executable: false, allocator: &allocator)
      else { panic("no memory for the user stack") }
    }
    currentSpace = space
    space.activate()
    userFrame = trap_frame()
    userFrame.rip = entry.rawValue
    userFrame.cs = UInt64(Selector.userCode)
    userFrame.ss = UInt64(Selector.userData)
    userFrame.rsp = UserLayout.stackTop
    userFrame.rflags = 0x202  // IF set: the timer keeps running in user mode
    exo_return_to(&userFrame)
  }

  /// Ends the running program; the machine exits with its verdict.
  static func exitCurrent(status: UInt64) -> Never {
    Log("exo: user program exited with status ").decimal(status).end()
    exitMachine(status == 0 ? .success : .userFailure)
  }
}

extension AddressSpace {
  /// An address space value for a root that is not yet set up.
  init(unchecked root: PhysicalAddress) { self.init(rootUnchecked: root) }
}
