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
  while Timer.ticks < startTicks + 2 { arch_halt_with_interrupts() }
  Log("exo: timer running").end()

  var allocator = PageAllocator(bootInfo: boot)
  Log("exo: ").decimal(allocator.totalPages).text(" free pages").end()

  var name: (UnsafePointer<UInt8>, Int)
  if let option = boot.option("program") {
    name = option
  } else {
    let fallback: StaticString = "hello"
    name = (fallback.utf8Start, fallback.utf8CodeUnitCount)
  }
  guard let image = Programs.find(name.0, length: name.1) else {
    Log("exo: no user program named '").bytes(name.0, count: name.1).text("'; have:").end()
    Programs.listNames()
    exitMachine(.userFailure)
  }
  Log("exo: starting user program '").bytes(name.0, count: name.1).text("'").end()
  Programs.start(image, allocator: &allocator)
}
