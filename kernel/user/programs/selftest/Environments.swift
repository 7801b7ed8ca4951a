import ExoABI
import ExoUser

/// The exported state at boot (docs/ABI.md "Initial state"), read before
/// the selftest changes anything.
func infoTests() {
  expectEqual("info: magic", KernelInfo[header: .magic], InfoHeader.magicValue)
  expectEqual("info: version", KernelInfo[header: .version], InfoHeader.currentVersion)
  let b = Bounds.kernel
  expectTrue(
    "info: bounds are the kernel's",
    KernelInfo[header: .environments] == UInt64(b.environments)
      && KernelInfo[header: .pages] == UInt64(b.pages)
      && KernelInfo[header: .capabilities] == UInt64(b.capabilities)
      && KernelInfo[header: .windowSlots] == UInt64(b.windowSlots)
      && KernelInfo[header: .slices] == UInt64(b.slices)
      && KernelInfo[header: .maximumDepth] == UInt64(b.maximumDepth)
      && KernelInfo[header: .maximumRun] == UInt64(b.maximumRun))
  expectTrue("info: firstPage is above the kernel", KernelInfo.firstPage > 256)
  expectEqual("info: current is environment 0", KernelInfo[header: .current], 0)
  expectEqual("info: current slice is 0", KernelInfo[header: .currentSlice], 0)
  expectEqual("info: environment 0 runnable", state(0), EnvironmentState.runnable.rawValue)
  expectTrue(
    "info: environment 0 has no parent, entries or caller",
    KernelInfo[environment: 0, .parent] == none && KernelInfo[environment: 0, .handler] == 0
      && KernelInfo[environment: 0, .handlerStack] == 0
      && KernelInfo[environment: 0, .callEntry] == 0
      && KernelInfo[environment: 0, .caller] == none)
  var free = true
  for e in 1..<E where !isFreeEnvironment(e) { free = false }
  expectTrue("info: every other environment is a free record", free)
  var slices = KernelInfo[slice: 0] == 0
  for p in 1..<S where KernelInfo[slice: p] != none { slices = false }
  expectTrue("info: slice 0 is environment 0's, the rest none", slices)
  var caps = true
  for c in 0..<C where !isEmptyCapability(c) { caps = false }
  expectTrue("info: every capability is empty", caps)
  var pages = true
  for i in 0..<P where !isFreePage(i) { pages = false }
  expectTrue("info: every page is free", pages)
  var bindings = true
  for s in 0..<W where !isEmptyBinding(0, s) { bindings = false }
  expectTrue("info: environment 0's window is empty", bindings)
}

func childExit42() { Kernel.exit(42) }

/// A word of the program's data that a child writes (`childDirtiesImage`).
nonisolated(unsafe) var imageMarker: UInt64 = 0

/// Reads a data word and a word deep in the initial stack, writes both, and
/// exits with 5 if both were still as the program image and a fresh stack
/// have them (zero), else with 6.
func childDirtiesImage() {
  let deep = UserMemory.pointer(
    UserLayout.stackTop - UserLayout.stackPages * 4096 + 8, to: UInt64.self)
  let pristine = imageMarker == 0 && deep.pointee == 0
  imageMarker = 0x5EED
  deep.pointee = 0x5EED
  Kernel.exit(pristine ? 5 : 6)
}

/// Stops itself; word 3 would show that it went on.
func childStopSelf() {
  let b = childBox
  b[Box.progress] = 1
  _ = Kernel.environmentStop(KernelInfo.me)
  b[3] = 1
  Kernel.exit(1)
}

/// Destroys itself.
func childDestroySelf() {
  let b = childBox
  b[Box.progress] = 1
  _ = Kernel.environmentDestroy(KernelInfo.me)
  b[3] = 1
  Kernel.exit(1)
}

/// Creates a grandchild (environment and capability slot from the
/// parameter), gives it slice 5, destroys it, tries its parent's things,
/// yields, then exits with 7.
func childParent() {
  let b = childBox
  let g = env(b[Box.parameter] >> 16)
  let gc = cap(b[Box.parameter] & 0xFFFF)
  b[2] = Kernel.environmentCreate(g, capability: gc).status
  b[3] = Kernel.sliceAllocate(5, for: g, via: gc).status
  b[4] = Kernel.environmentDestroy(g, via: gc).status
  b[5] = Kernel.sliceFree(0).status
  b[6] = Kernel.environmentReclaim(me).status
  b[Box.progress] = 1
  _ = Kernel.yield()
  Kernel.exit(7)
}

func environmentTests() {
  let stackTop8 = UserLayout.stackTop - 8
  let windowEnd = UserLayout.windowBase + W * pageSize

  // environmentCreate
  expect("create: environment out of range", .outOfRange) {
    Kernel.environmentCreate(env(16), capability: cap(10))
  }
  expect("create: huge environment number", .outOfRange) {
    Kernel.call(EnvironmentCreateArguments(environment: UInt64.max, slot: 10))
  }
  expect("create: capability slot out of range", .outOfRange) {
    Kernel.environmentCreate(env(1), capability: cap(256))
  }
  expect("create: environment 0 is in use", .slotInUse) {
    Kernel.environmentCreate(me, capability: cap(10))
  }
  expect("create: capability slot in use", .slotInUse) {
    Kernel.environmentCreate(env(1), capability: cap(1))
  }
  expectSuccess("create environment 1", Kernel.environmentCreate(env(1), capability: cap(10)))
  expectEqual("created: stopped", state(1), EnvironmentState.stopped.rawValue)
  expectTrue(
    "created: parent 0, no entries, no caller, status 0",
    KernelInfo[environment: 1, .parent] == 0 && KernelInfo[environment: 1, .handler] == 0
      && KernelInfo[environment: 1, .handlerStack] == 0
      && KernelInfo[environment: 1, .upcall] == 0 && KernelInfo[environment: 1, .callEntry] == 0
      && KernelInfo[environment: 1, .caller] == none
      && KernelInfo[environment: 1, .exitStatus] == 0)
  expectTrue(
    "created: environment capability record",
    capField(10, .kind) == CapabilityKind.environment.rawValue && capField(10, .owner) == 0
      && capField(10, .parent) == none && capField(10, .depth) == 0
      && capField(10, .rights) == Rights([.grant, .control, .call]).rawValue
      && capField(10, .base) == 1 && capField(10, .count) == 1 && capField(10, .children) == 0
      && capField(10, .bindings) == 0)
  expectEqual("create does not switch", KernelInfo[header: .current], 0)
  expect("create: environment 1 again", .slotInUse) {
    Kernel.environmentCreate(env(1), capability: cap(11))
  }
  expect("create: slot range is checked before the environment's state", .outOfRange) {
    Kernel.environmentCreate(env(1), capability: cap(300))
  }
  expectSuccess(
    "derive a call-only capability for environment 1",
    Kernel.capabilityDerive(cap(10), child: cap(11), rights: [.call], base: 1, count: 1))

  // environmentSetEntries
  let h = Upcalls.exceptionEntry
  let ce = Upcalls.callEntry
  expect("setEntries: target out of range", .outOfRange) {
    Kernel.environmentSetEntries(
      env(16), via: cap(10), handler: h, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("setEntries: capability out of range", .outOfRange) {
    Kernel.environmentSetEntries(
      env(1), via: cap(256), handler: h, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("setEntries: empty capability", .invalidCapability) {
    Kernel.environmentSetEntries(
      env(1), via: cap(12), handler: h, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("setEntries: capability names another environment", .invalidCapability) {
    Kernel.environmentSetEntries(
      env(2), via: cap(10), handler: h, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("setEntries: memory capability", .invalidCapability) {
    Kernel.environmentSetEntries(
      env(1), via: cap(1), handler: h, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("setEntries: capability without control", .insufficientRights) {
    Kernel.environmentSetEntries(
      env(1), via: cap(11), handler: h, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("setEntries: authority is checked before addresses", .invalidCapability) {
    Kernel.environmentSetEntries(
      env(1), via: cap(12), handler: 0x10_0000, handlerStack: 8, upcall: 0, callEntry: 0)
  }
  expect("setEntries: handler in the kernel", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: 0x10_0000, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("setEntries: non-canonical handler", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: 0x8000_0000_0000_0000, handlerStack: 0, upcall: 0,
      callEntry: 0)
  }
  expect("setEntries: upcall at the end of user space", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: 0, handlerStack: 0, upcall: UserLayout.end, callEntry: 0)
  }
  expect("setEntries: call entry just below user space", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: 0, handlerStack: 0, upcall: 0,
      callEntry: UserLayout.start - 1)
  }
  expect("setEntries: misaligned handler stack", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: h, handlerStack: UserLayout.windowBase + 4096 + 8, upcall: 0,
      callEntry: 0)
  }
  expect("setEntries: handler stack at the window base", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: h, handlerStack: UserLayout.windowBase, upcall: 0,
      callEntry: 0)
  }
  expect("setEntries: handler stack past the window", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: h, handlerStack: windowEnd + 16, upcall: 0, callEntry: 0)
  }
  expect("setEntries: handler stack in the info area", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: h, handlerStack: UserLayout.infoBase + 4096, upcall: 0,
      callEntry: 0)
  }
  expect("setEntries: handler stack in the kernel", .badAddress) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: h, handlerStack: 0x20_0000, upcall: 0, callEntry: 0)
  }
  expectSuccess(
    "setEntries on a stopped child",
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: h, handlerStack: windowEnd, upcall: UserLayout.imageBase,
      callEntry: ce))
  expectTrue(
    "setEntries: the four fields are recorded",
    KernelInfo[environment: 1, .handler] == h
      && KernelInfo[environment: 1, .handlerStack] == windowEnd
      && KernelInfo[environment: 1, .upcall] == UserLayout.imageBase
      && KernelInfo[environment: 1, .callEntry] == ce)
  expectSuccess(
    "setEntries on itself ignores the capability",
    Kernel.environmentSetEntries(
      me, via: cap(4000), handler: h, handlerStack: envZeroHandlerStack, upcall: 0, callEntry: 0))

  // environmentStart
  let rip = entryAddress(childExit42)
  expect("start: target out of range", .outOfRange) {
    Kernel.environmentStart(env(16), via: cap(10), rip: rip, rsp: stackTop8)
  }
  expect("start: capability without control", .insufficientRights) {
    Kernel.environmentStart(env(1), via: cap(11), rip: rip, rsp: stackTop8)
  }
  expect("start: itself, which is runnable", .wrongState) {
    Kernel.environmentStart(me, rip: rip, rsp: stackTop8)
  }
  expect("start: rip in the kernel", .badAddress) {
    Kernel.environmentStart(env(1), via: cap(10), rip: 0x10_0000, rsp: stackTop8)
  }
  expect("start: rip 0", .badAddress) {
    Kernel.environmentStart(env(1), via: cap(10), rip: 0, rsp: stackTop8)
  }
  expect("start: non-canonical rip", .badAddress) {
    Kernel.environmentStart(env(1), via: cap(10), rip: 0xFFFF_8000_0010_0000, rsp: stackTop8)
  }
  expect("start: rsp past the end of user space", .badAddress) {
    Kernel.environmentStart(env(1), via: cap(10), rip: rip, rsp: UserLayout.end + 16)
  }
  expect("start: rsp in the kernel", .badAddress) {
    Kernel.environmentStart(env(1), via: cap(10), rip: rip, rsp: 0x8_0000)
  }
  expectSuccess(
    "start with rsp at the end of user space",
    Kernel.environmentStart(env(1), via: cap(10), rip: rip, rsp: UserLayout.end))
  expectEqual("started: runnable", state(1), EnvironmentState.runnable.rawValue)
  expectEqual("start does not switch", KernelInfo[header: .current], 0)
  expect("start: already runnable", .wrongState) {
    Kernel.environmentStart(env(1), via: cap(10), rip: rip, rsp: stackTop8)
  }

  // environmentStop
  expect("stop: target out of range", .outOfRange) { Kernel.environmentStop(env(16), via: cap(10)) }
  expect("stop: empty capability", .invalidCapability) {
    Kernel.environmentStop(env(1), via: cap(12))
  }
  expect("stop: capability without control", .insufficientRights) {
    Kernel.environmentStop(env(1), via: cap(11))
  }
  expectSuccess("stop a runnable child", Kernel.environmentStop(env(1), via: cap(10)))
  expectEqual("stopped: state", state(1), EnvironmentState.stopped.rawValue)
  expect("stop: already stopped", .wrongState) { Kernel.environmentStop(env(1), via: cap(10)) }
  expect("yieldTo: a stopped environment", .wrongState) { Kernel.yieldTo(env(1)) }

  // exit
  expectSuccess(
    "restart the stopped child",
    Kernel.environmentStart(env(1), via: cap(10), rip: rip, rsp: stackTop8))
  var rounds = 0
  while state(1) == EnvironmentState.runnable.rawValue && rounds < 100 {
    _ = Kernel.yieldTo(env(1))
    rounds += 1
  }
  expectEqual("exit: dying", state(1), EnvironmentState.dying.rawValue)
  expectEqual("exit: status recorded", KernelInfo[environment: 1, .exitStatus], 42)

  // Calls on a dying environment.
  expect("stop: dying", .wrongState) { Kernel.environmentStop(env(1), via: cap(10)) }
  expect("destroy: dying", .wrongState) { Kernel.environmentDestroy(env(1), via: cap(10)) }
  expect("start: dying", .wrongState) {
    Kernel.environmentStart(env(1), via: cap(10), rip: rip, rsp: stackTop8)
  }
  expect("setEntries: dying", .wrongState) {
    Kernel.environmentSetEntries(
      env(1), via: cap(10), handler: 0, handlerStack: 0, upcall: 0, callEntry: 0)
  }
  expect("yieldTo: dying", .wrongState) { Kernel.yieldTo(env(1)) }

  // environmentReclaim
  expect("reclaim: out of range", .outOfRange) { Kernel.environmentReclaim(env(16)) }
  expect("reclaim: a free environment", .wrongState) { Kernel.environmentReclaim(env(5)) }
  expect("reclaim: a live environment", .wrongState) { Kernel.environmentReclaim(me) }
  expectSuccess("reclaim step 1", Kernel.environmentReclaim(env(1)), value: 1)
  expectTrue(
    "reclaim deletes the lowest leaf of the domain first",
    isEmptyCapability(11) && capField(10, .kind) == CapabilityKind.environment.rawValue
      && capField(10, .children) == 0)
  expectSuccess("reclaim step 2", Kernel.environmentReclaim(env(1)), value: 1)
  expectSuccess("reclaim finishes with 0", Kernel.environmentReclaim(env(1)), value: 0)
  expectTrue("reclaimed: the slot is a free record", isFreeEnvironment(1))
  expectTrue(
    "reclaimed: capabilities naming it are deleted", isEmptyCapability(10) && isEmptyCapability(11))
  expect("reclaim: already free", .wrongState) { Kernel.environmentReclaim(env(1)) }
  expect("start: stale environment capability", .invalidCapability) {
    Kernel.environmentStart(env(1), via: cap(10), rip: rip, rsp: stackTop8)
  }

  // Destroy and reclaim a child holding a binding, a capability and a slice.
  if let c = spawn(0, 2, childYielder, ChildOptions(start: false)) {
    expectSuccess("give the child slice 3", Kernel.sliceAllocate(3, for: c.id, via: c.envCap))
    expectSuccess("destroy a stopped child", Kernel.environmentDestroy(c.id, via: c.envCap))
    expectEqual("destroyed: dying", state(c.e), EnvironmentState.dying.rawValue)
    expectEqual("destroyed: exit status none", c.exitStatus, none)
    expectSuccess("reclaim removes the bindings", Kernel.environmentReclaim(c.id), value: 1)
    expectTrue(
      "reclaim's first step removes every bound slot",
      isEmptyBinding(c.e, 0) && isEmptyBinding(c.e, 1) && isEmptyBinding(c.e, 2)
        && isEmptyBinding(c.e, 3) && capField(UInt64(c.grantCap.rawValue), .bindings) == 0
        && KernelInfo[environment: c.e, .bindings] == 0)
    var steps = 1
    while Kernel.environmentReclaim(c.id).value == 1 && steps < 100 { steps += 1 }
    expectEqual(
      "reclaim steps: the bindings, both capabilities (leaves) at once, 1 slice", UInt64(steps), 3)
    expectTrue(
      "reclaimed: free record, no slice, no capability",
      isFreeEnvironment(c.e) && KernelInfo[slice: 3] == none
        && isEmptyCapability(UInt64(c.envCap.rawValue))
        && isEmptyCapability(UInt64(c.grantCap.rawValue))
        && capField(UInt64(c.rootCap.rawValue), .children) == 0)
    var window = true
    for s in 0..<W where !isEmptyBinding(c.e, s) { window = false }
    expectTrue("reclaimed: the window is empty", window)
    expectTrue("reclaimed: it owns nothing", ownsNothing(c.e))
    reap(c)
  }

  // Each environment created in a slot starts from the program image and a
  // zero stack, although the kernel copies and zeroes only the pages the
  // slot's last environment wrote (their page-table entries' dirty bits).
  if let c = spawn(0, 2, childDirtiesImage) {
    run(c)
    expectTrue("fresh slot: pristine data and stack", c.state == .dying && c.exitStatus == 5)
    reap(c)
  }
  if let c = spawn(0, 2, childDirtiesImage) {
    run(c)
    expectTrue(
      "reused slot: pristine data and stack again", c.state == .dying && c.exitStatus == 5)
    reap(c)
  }

  // A child stops itself; environment 0 restarts it elsewhere.
  if let c = spawn(0, 2, childStopSelf) {
    run(c)
    expectTrue(
      "stop itself: stopped before going on",
      c.state == .stopped && c.word(Box.progress) == 1 && c.word(3) == 0)
    c.box[Box.parameter] = 11
    expectSuccess(
      "restart a self-stopped child",
      Kernel.environmentStart(c.id, via: c.envCap, rip: entryAddress(childExit), rsp: stackTop8))
    run(c)
    expectTrue("restarted child ran and exited", c.state == .dying && c.exitStatus == 11)
    reap(c)
  }

  // A child destroys itself.
  if let c = spawn(0, 2, childDestroySelf) {
    run(c)
    expectTrue(
      "destroy itself: dying, status none",
      c.state == .dying && c.exitStatus == none && c.word(3) == 0)
    reap(c)
  }

  // Orphans: a grandchild can be reclaimed by anyone once its parent dies.
  if let a = spawn(0, 3, childParent, parameter: (9 << 16) | 230) {
    runUntilProgress(a, 1)
    expectTrue(
      "child creates, gives a slice to and destroys a grandchild",
      a.word(2) == 0 && a.word(3) == 0 && a.word(4) == 0)
    expectTrue(
      "grandchild: dying, parent is the child, holds slice 5",
      state(9) == EnvironmentState.dying.rawValue && KernelInfo[environment: 9, .parent] == 3
        && KernelInfo[slice: 5] == 9)
    expectStatus("child cannot free its parent's slice", a.word(5), .notPermitted)
    expectStatus("child cannot reclaim live environment 0", a.word(6), .wrongState)
    expect("sliceFree: a grandchild's slice", .notPermitted) { Kernel.sliceFree(5) }
    expect("reclaim: a grandchild whose parent lives", .notPermitted) {
      Kernel.environmentReclaim(env(9))
    }
    run(a)
    expectTrue("child exits after yielding", a.state == .dying && a.exitStatus == 7)
    expectSuccess("reclaim an orphan", Kernel.environmentReclaim(env(9)), value: 1)
    expectSuccess("reclaim an orphan: its slice", Kernel.environmentReclaim(env(9)), value: 1)
    expectSuccess("reclaim an orphan: done", Kernel.environmentReclaim(env(9)), value: 0)
    expectTrue(
      "orphan reclaimed",
      isFreeEnvironment(9) && KernelInfo[slice: 5] == none && isEmptyCapability(230))
    reap(a)
  }

  // A full environment table.
  var created: UInt64 = 0
  for e in 1..<E where Kernel.environmentCreate(env(e), capability: cap(20 + e)).status == 0 {
    created += 1
  }
  expectEqual("fill the environment table", created, 15)
  expect("create: full table", .slotInUse) { Kernel.environmentCreate(env(7), capability: cap(60)) }
  var everyInUse = true
  for e in 0..<E
  where Kernel.environmentCreate(env(e), capability: cap(60)).status != ExoError.slotInUse.rawValue
  {
    everyInUse = false
  }
  expectTrue("create: every slot reports slotInUse", everyInUse && isEmptyCapability(60))
  var emptied = true
  for e in 1..<E {
    if Kernel.environmentDestroy(env(e), via: cap(20 + e)).status != 0 { emptied = false }
    var n = 0
    while Kernel.environmentReclaim(env(e)).value == 1 && n < 100 { n += 1 }
    if n != 1 || !isFreeEnvironment(e) || !isEmptyCapability(20 + e) { emptied = false }
  }
  expectTrue("destroy and reclaim all 15 (one step each)", emptied)
}
