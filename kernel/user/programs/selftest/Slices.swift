import ExoABI
import ExoUser

func sliceTests() {
  let t0 = Kernel.ticks()
  waitTicks(2)
  expectTrue("ticks advance while environment 0 runs", Kernel.ticks() >= t0 + 2)
  expectTrue(
    "environment 0 runs in its slice 0",
    KernelInfo[header: .current] == 0 && KernelInfo[header: .currentSlice] == 0)
  expectSuccess("yield with nothing else to run", Kernel.yield())
  expectSuccess("yieldTo itself", Kernel.yieldTo(me))

  guard let c = spawn(0, 3, childSpinner) else { return }
  waitTicks(3)
  expectEqual("a started child without a slice does not run", c.word(Box.progress), 0)
  expectSuccess("yieldTo the child", Kernel.yieldTo(c.id))
  runUntilProgress(c, 1)
  let afterDonation = c.word(Box.progress)
  expectTrue("yieldTo runs the child for the rest of the slice", afterDonation > 0)
  waitTicks(3)
  expectEqual("without a slice the child stops running", c.word(Box.progress), afterDonation)

  // sliceAllocate
  expect("sliceAllocate: position out of range", .outOfRange) {
    Kernel.sliceAllocate(16, for: c.id, via: c.envCap)
  }
  expect("sliceAllocate: position is checked before the target", .outOfRange) {
    Kernel.sliceAllocate(16, for: env(16), via: cap(256))
  }
  expect("sliceAllocate: target out of range", .outOfRange) {
    Kernel.sliceAllocate(1, for: env(16), via: c.envCap)
  }
  expect("sliceAllocate: empty capability", .invalidCapability) {
    Kernel.sliceAllocate(1, for: c.id, via: cap(80))
  }
  expect("sliceAllocate: capability for another environment", .invalidCapability) {
    Kernel.sliceAllocate(1, for: env(4), via: c.envCap)
  }
  expectSuccess(
    "derive a call-only capability for the child",
    Kernel.capabilityDerive(c.envCap, child: c.spareCap, rights: [.call], base: c.e, count: 1))
  expect("sliceAllocate: capability without control", .insufficientRights) {
    Kernel.sliceAllocate(1, for: c.id, via: c.spareCap)
  }
  expect("sliceAllocate: position in use", .slotInUse) {
    Kernel.sliceAllocate(0, for: c.id, via: c.envCap)
  }
  expectSuccess("give the child slice 1", Kernel.sliceAllocate(1, for: c.id, via: c.envCap))
  expectEqual("slices[1] is the child", KernelInfo[slice: 1], c.e)
  let before = c.word(Box.progress)
  // On a loaded host a tick may fall due the moment the child is entered,
  // so its turn can end before it counts: wait for several turns.
  var waited: UInt64 = 0
  while c.word(Box.progress) == before && waited < 64 {
    waitTicks(2)
    waited += 2
  }
  expectTrue("a child owning a slice runs without donation", c.word(Box.progress) > before)
  let beforeYield = c.word(Box.progress)
  expectSuccess("yield", Kernel.yield())
  // The child's turn lasts until the next tick, which may come at once:
  // allow several turns. Each yield returns only after the child's turn, so
  // a yield that never hands over the CPU still fails here.
  var yields = 1
  while c.word(Box.progress) == beforeYield && yields < 32 {
    _ = Kernel.yield()
    yields += 1
  }
  expectTrue("yield runs the next slice's owner", c.word(Box.progress) > beforeYield)
  expectTrue(
    "after the child's slice, environment 0 runs in slice 0 again",
    KernelInfo[header: .current] == 0 && KernelInfo[header: .currentSlice] == 0)

  // sliceFree
  expect("sliceFree: position out of range", .outOfRange) { Kernel.sliceFree(16) }
  expect("sliceFree: huge position", .outOfRange) { Kernel.sliceFree(UInt64.max) }
  expect("sliceFree: empty position", .slotEmpty) { Kernel.sliceFree(2) }
  expectSuccess("free the child's slice", Kernel.sliceFree(1))
  expectEqual("slices[1] is none", KernelInfo[slice: 1], none)
  waitTicks(2)
  let stopped = c.word(Box.progress)
  waitTicks(4)
  expectEqual("a child without its slice no longer runs", c.word(Box.progress), stopped)

  // Environment 0 can hold several slices.
  expectSuccess("environment 0 takes slice 15 for itself", Kernel.sliceAllocate(15, for: me))
  expectSuccess("environment 0 frees its own slice", Kernel.sliceFree(15))

  // yieldTo
  expect("yieldTo: out of range", .outOfRange) { Kernel.yieldTo(env(16)) }
  expect("yieldTo: huge environment", .outOfRange) {
    Kernel.call(YieldToArguments(target: 1 << 32))
  }
  expect("yieldTo: a free environment", .wrongState) { Kernel.yieldTo(env(13)) }
  expectSuccess("stop the spinner", Kernel.environmentStop(c.id, via: c.envCap))
  expect("yieldTo: a stopped environment", .wrongState) { Kernel.yieldTo(c.id) }
  expectSuccess("destroy the spinner", Kernel.environmentDestroy(c.id, via: c.envCap))
  expect("sliceAllocate: a dying environment", .wrongState) {
    Kernel.sliceAllocate(1, for: c.id, via: c.envCap)
  }
  reap(c)

  // A child yields back: yield advances to slice 0.
  if let y = spawn(0, 3, childYielder) {
    runUntilProgress(y, 1)
    expectEqual("a donated child's yield returns the CPU", y.word(Box.progress), 1)
    runUntilProgress(y, 2)
    expectEqual("and it resumes after its yield", y.word(Box.progress), 2)
    reap(y)
  }
  expectEqual("every slice but 0 is free again", KernelInfo[slice: 1], none)
}
