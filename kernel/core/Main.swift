import Arch
import ExoABI

/// The kernel's entry from boot.S, on the boot stack, interrupts off.
/// `startInfo` is the physical address of the PVH start-info structure.
@_cdecl("exo_kmain")
func kmain(_ startInfo: UInt64) -> Never {
  Console.initialize()
  Log("exo: booting").end()
  guard let boot = BootInfo(address: startInfo) else { panic("no PVH start info (bad magic)") }

  var ramBytes: UInt64 = 0
  for i in 0..<boot.regionCount {
    let r = boot.region(i)
    if r.type == BootInfo.ramType { ramBytes += r.size }
  }
  Log("exo: memory map: ").decimal(UInt64(boot.regionCount)).text(" regions, ")
    .decimal(ramBytes >> 20).text(" MiB RAM").end()

  Descriptors.install()
  Timer.start()
  exo_selftest_hook()

  // Prove the timer reaches its handler before anything depends on it.
  let startTicks = Timer.ticks
  // The time spent halted is reported: under -icount it is clock time the
  // guest skipped, not instructions (exo bench takes it off the boot count).
  var halted: UInt64 = 0
  while Timer.ticks < startTicks + 2 {
    let before = arch_rdtsc()
    arch_halt_with_interrupts()
    halted &+= arch_rdtsc() &- before
  }
  Log("exo: timer running (halted for ").decimal(halted).text(" cycles)").end()

  var allocator = PageAllocator(bootInfo: boot)
  Log("exo: ").decimal(allocator.totalPages).text(" pages of RAM for the kernel and users").end()

  // The pages users allocate by name, and the exported tables.
  let difftest = boot.option("difftest").map { $0.1 == 1 && $0.0[0] == UInt8(ascii: "1") } ?? false
  if difftest {
    guard allocator.skip(to: DiffProtocol.ringBase) else {
      panic("the difftest rings cannot be placed at DiffProtocol.ringBase")
    }
    _ = allocator.run(DiffProtocol.ringPages)
  }
  guard allocator.skip(to: InfoHeader.kernelFirstPage * pageSize) else {
    panic("the managed pages cannot start at InfoHeader.kernelFirstPage")
  }
  // Not zeroed here: a user page is first used when `pageAllocate` gives
  // it to an owner, and that transition's hook (`pageAllocated`) zeroes it.
  let userPages = allocator.run(Info.pageCount, zeroed: false)
  let infoArea = allocator.run(UInt64(Info.layout.size) / pageSize)
  Info.initialize(base: infoArea, firstPage: userPages / pageSize)
  checkExceptionFrameLayout()
  Log("exo: user pages ").decimal(userPages / pageSize).text("..<")
    .decimal(userPages / pageSize + Info.pageCount).end()

  var name: (UnsafePointer<UInt8>, Int)
  if let option = boot.option("program") {
    name = option
  } else {
    let fallback: StaticString = "hello"
    name = (fallback.utf8Start, fallback.utf8CodeUnitCount)
  }
  guard let image = findProgram(name.0, length: name.1) else {
    Log("exo: no user program named '").bytes(name.0, count: name.1).text("'; have:").end()
    listPrograms()
    exitMachine(.userFailure)
  }
  if let failure = ProgramImage.load(image.start, size: image.size, allocator: &allocator) {
    Log("exo: cannot load the user program: ").text(failure).end()
    exitMachine(.userFailure)
  }
  AddressSpaces.prepare(&allocator)
  if difftest { DiffMode.enable(&allocator) }
  if boot.option("loopback").map({ $0.1 == 1 && $0.0[0] == UInt8(ascii: "1") }) ?? false {
    Loopback.enabled = true
    Log("exo: loopback: diffLoopback makes a caller's frame arrive").end()
  }
  Scheduler.fpuTemplate = allocator.run(1)
  arch_fpu_reset()
  arch_fxsave(arch_pointer(Scheduler.fpuTemplate))
  VirtioNet.start(boot, &allocator)
  if boot.option("nicselftest").map({ $0.1 == 1 && $0.0[0] == UInt8(ascii: "1") }) ?? false {
    NICSelfTest.run()
  }
  #if INVARIANTS
    Invariants.prepare(&allocator)
    Log("exo: checking invariants after every call").end()
  #endif

  AddressSpaces.build(0)
  Scheduler.reset(0, rip: ProgramImage.entry, rsp: UserLayout.stackTop)
  // `arg=N` (decimal): a number for the first program, in its rdi
  // (`exo bench --profile` asks the bench program for fewer iterations).
  if let (digits, length) = boot.option("arg") {
    var value: UInt64 = 0
    for i in 0..<length {
      let digit = digits[i] &- UInt8(ascii: "0")
      guard digit < 10, length <= 19 else {
        Log("exo: arg= takes a decimal number below 10^19").end()
        exitMachine(.userFailure)
      }
      value = value &* 10 &+ UInt64(digit)
    }
    Scheduler.frame(0).pointee.rdi = value
  }
  Scheduler.resetFPU(0)
  Log("exo: starting user program '").bytes(name.0, count: name.1).text("' as environment 0")
    .end()
  exo_return_to(Scheduler.resume())
}

/// The image whose name equals `name[0..<length]`.
private func findProgram(_ name: UnsafePointer<UInt8>, length: Int) -> user_image? {
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

private func listPrograms() {
  for i in 0..<arch_user_image_count() {
    let name = UnsafeRawPointer(arch_user_image(i).pointee.name)
      .assumingMemoryBound(to: UInt8.self)
    var length = 0
    while name[length] != 0 { length += 1 }
    Log(" ").bytes(name, count: length)
  }
  Log("").end()
}
