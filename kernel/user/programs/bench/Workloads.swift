import ExoABI
import ExoUser
import UserArch

/// One function per kernel path. Each prepares what it needs untimed, then
/// times `n` iterations of the path with `Measure.run`, which prints its
/// `BENCH` line. To add a row: a function here, a call in `main`, and a row
/// in the host's `BenchRows`.
enum Workloads {
  /// The null system call: `ticks()` (number 3), which checks nothing and
  /// returns a counter — the cheapest call the kernel has.
  static func nullCall(_ n: Int) {
    var sum: UInt64 = 0
    Measure.run("exo.null", n) { _ in sum &+= Kernel.ticks() }
    if sum == .max { print("") }  // keeps the calls' results alive
  }

  /// A write to a read-only bound page: the kernel delivers the page fault
  /// to environment 0's handler, which makes the page writable with
  /// `pageProtect` and returns; the exception entry resumes the write.
  /// The read-only protection before each write is not timed.
  static func exception(_ n: Int) {
    let p = UserMemory.pointer(windowAddress(Resources.faultSlot), to: UInt64.self)
    for i in 0..<n {
      let r = Kernel.pageProtect(me, slot: Resources.faultSlot, rights: [.read])
      if r.status != 0 { benchFail("exo.exception", "pageProtect", r.status) }
      Profile.begin()
      let t0 = exo_rdtsc()
      store(p, UInt64(i))
      let t1 = exo_rdtsc()
      Profile.end()
      Measure.samples[i] = t1 &- t0
    }
    if p.pointee != UInt64(n - 1) { benchFail("exo.exception", "the write was lost", 0) }
    Measure.report("exo.exception", n)
  }

  /// The dispatch alone: an invalid opcode reaches the handler, which
  /// skips it by editing the frame's rip; the exception entry resumes.
  static func exceptionDispatch(_ n: Int) {
    Measure.run("exo.dispatch", n) { _ in exo_ud2() }
  }

  @inline(never) static func store(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) {
    p.pointee = v
  }

  /// A protected control transfer round trip: `call` into environment 1,
  /// whose entry replies at once with the message, back to the caller.
  static func controlTransfer(_ n: Int) {
    startServer()
    // Until the server has run its first code, its handler is not in
    // place and calls get an empty reply: donate the CPU until one echoes.
    var ready = false
    for _ in 0..<100 where !ready {
      _ = Kernel.yieldTo(Resources.server)
      ready = Kernel.call(Resources.serverCapability, Message(7)) == .success(Message(7))
    }
    if !ready { benchFail("exo.pct", "the server never echoed", 0) }
    Measure.run("exo.pct", n) { i in
      switch Kernel.call(Resources.serverCapability, Message(UInt64(i), 2, 3, 4)) {
      case .success(let m) where m.m0 == UInt64(i): break
      case .success: benchFail("exo.pct", "wrong reply", 0)
      case .failure(let e): benchFail("exo.pct", "call", e.rawValue)
      }
    }
  }

  /// `pageAllocate` + `pageMap` + a write to the page + `pageUnmap` +
  /// `capabilityDelete` (which frees the page): the life of one page.
  static func pageCycle(_ n: Int) {
    let address = windowAddress(Resources.cycleSlot)
    let c = Resources.cycleCapability
    let physical = page(Resources.cyclePageIndex)
    var failed: UInt64 = 0
    Measure.run("exo.page", n) { i in
      failed |= Kernel.pageAllocate(physical, count: 1, capability: c).status
      failed |=
        Kernel.pageMap(
          me, memory: c, page: physical, slot: Resources.cycleSlot, rights: [.read, .write]
        )
        .status
      store(UserMemory.pointer(address, to: UInt64.self), UInt64(i))
      failed |= Kernel.pageUnmap(me, slot: Resources.cycleSlot).status
      failed |= Kernel.capabilityDelete(c).status
    }
    if failed != 0 { benchFail("exo.page", "a call failed", failed) }
  }

  /// `environmentCreate` (a fresh address space with the program image),
  /// then, timed separately, its teardown: `environmentDestroy` and
  /// `environmentReclaim` until the slot is free.
  static func environmentCreate(_ n: Int) {
    let e = Resources.created
    let c = Resources.createdCapability
    var failed: UInt64 = 0
    Measure.run("exo.envcreate", n) { _ in
      failed |= Kernel.environmentCreate(e, capability: c).status
      teardown(e, c)
    }
    if failed != 0 { benchFail("exo.envcreate", "environmentCreate", failed) }
    // The same again, timing only the creation.
    for i in 0..<n {
      Profile.begin()
      let t0 = exo_rdtsc()
      failed |= Kernel.environmentCreate(e, capability: c).status
      let t1 = exo_rdtsc()
      Profile.end()
      teardown(e, c)
      Measure.samples[i] = t1 &- t0
    }
    if failed != 0 { benchFail("exo.envcreate", "environmentCreate", failed) }
    Measure.report("exo.envcreateonly", n)
  }

  static func teardown(_ e: EnvironmentID, _ c: CapabilitySlot) {
    let d = Kernel.environmentDestroy(e, via: c)
    if d.status != 0 { benchFail("exo.envcreate", "environmentDestroy", d.status) }
    var steps = 0
    while true {
      let r = Kernel.environmentReclaim(e)
      if r.status != 0 { benchFail("exo.envcreate", "environmentReclaim", r.status) }
      if r.value == 0 { break }
      steps += 1
      if steps > 10_000 { benchFail("exo.envcreate", "reclaim does not finish", 0) }
    }
  }

  /// Creates environment 1 with a handler stack (its window slots 0...3),
  /// a call entry that replies with the message, and slice 1 (a callee
  /// preempted mid-call needs a slice of its own to finish).
  static func startServer() {
    startChild(
      "exo.pct", Resources.server, capability: Resources.serverCapability,
      stackMemory: Resources.serverMemory, stackGrant: Resources.serverGrant,
      stackIndex: Resources.serverPageIndex, upcall: 0, callEntry: Upcalls.callEntry,
      main: serverMain)
    let r = Kernel.sliceAllocate(1, for: Resources.server, via: Resources.serverCapability)
    if r.status != 0 { benchFail("exo.pct", "sliceAllocate", r.status) }
  }

  /// Creates and starts environment `e` at `main`, with a handler stack of
  /// four pages (page indices `stackIndex`..., its window slots 0...3)
  /// granted through a derived capability, and the entries given.
  static func startChild(
    _ name: StaticString, _ e: EnvironmentID, capability: CapabilitySlot,
    stackMemory: CapabilitySlot, stackGrant: CapabilitySlot, stackIndex: UInt64,
    upcall: UInt64, callEntry: UInt64, main: @convention(c) () -> Void
  ) {
    func check(_ what: StaticString, _ r: SyscallResult) {
      if r.status != 0 { benchFail(name, what, r.status) }
    }
    check("environmentCreate", Kernel.environmentCreate(e, capability: capability))
    check(
      "pageAllocate", Kernel.pageAllocate(page(stackIndex), count: 4, capability: stackMemory))
    check(
      "capabilityDerive",
      Kernel.capabilityDerive(
        stackMemory, child: stackGrant, rights: [.read, .write, .grant],
        base: page(stackIndex).rawValue, count: 4))
    check("capabilityGrant", Kernel.capabilityGrant(stackGrant, to: e))
    for i in UInt64(0)..<4 {
      check(
        "pageMap",
        Kernel.pageMap(
          e, via: capability, memory: stackGrant, page: page(stackIndex + i), slot: i,
          rights: [.read, .write]))
    }
    check(
      "environmentSetEntries",
      Kernel.environmentSetEntries(
        e, via: capability, handler: 0, handlerStack: windowAddress(4), upcall: upcall,
        callEntry: callEntry))
    check(
      "environmentStart",
      Kernel.environmentStart(
        e, via: capability, rip: unsafeBitCast(main, to: UInt64.self),
        rsp: UserLayout.stackTop - 8))
  }

  /// A revocation round trip, request and voluntary return. Environment 0
  /// is the resource manager of environment 3, which holds one page (a
  /// one-page root run, mapped in its window). Timed, per iteration:
  ///
  /// 1. `revocationRequest(3, cap, 1, 1000 ticks)` in the manager (the
  ///    kernel writes the request upcall's frame on the child's handler
  ///    stack);
  /// 2. `yieldTo(3)`: the child enters its upcall entry, its handler (a
  ///    Swift closure) calls `revocationReturn` on the run (the binding is
  ///    broken, the page freed, the request met) ...
  /// 3. ... and hands the CPU straight back with `yieldTo(0)`, where the
  ///    manager's `yieldTo` returns and it reads the exported record's
  ///    `phase` (`none`: the request is over).
  ///
  /// Not timed: the manager yields to the child again, whose handler
  /// returns (the exception entry resumes its loop), and the child takes
  /// and maps a page again before it yields back.
  static func revocation(_ n: Int) {
    let child = Resources.revokee
    let c = Resources.revokeeCapability
    startChild(
      "exo.revoke", child, capability: c, stackMemory: Resources.revokeeStackMemory,
      stackGrant: Resources.revokeeStackGrant, stackIndex: Resources.revokeeStackIndex,
      upcall: Upcalls.exceptionEntry, callEntry: 0, main: revokeeMain)
    let held = page(Resources.revokeeRunIndex)
    func holds() -> Bool { KernelInfo[page: held.rawValue, .owner] == UInt64(child.rawValue) }
    func pending() -> Bool {
      KernelInfo[revocation: UInt64(child.rawValue), .phase] != RevocationPhase.none.rawValue
    }
    // The child sets itself up and takes its page on the turns it is given.
    for _ in 0..<100 where !holds() { _ = Kernel.yieldTo(child) }
    if !holds() { benchFail("exo.revoke", "the child never took its page", 0) }
    for i in 0..<n {
      Profile.begin()
      let t0 = exo_rdtsc()
      let r = Kernel.revocationRequest(child, via: c, count: 1, ticks: 1000)
      // One turn is enough unless a timer tick ended the slice inside it.
      var turns = 0
      repeat {
        _ = Kernel.yieldTo(child)
        turns += 1
      } while pending() && turns < 100
      let t1 = exo_rdtsc()
      Profile.end()
      Measure.samples[i] = t1 &- t0
      if r.status != 0 { benchFail("exo.revoke", "revocationRequest", r.status) }
      if pending() || holds() { benchFail("exo.revoke", "the child did not return its page", 0) }
      for _ in 0..<100 where !holds() { _ = Kernel.yieldTo(child) }
      if !holds() { benchFail("exo.revoke", "the child did not take its page again", 0) }
    }
    Measure.report("exo.revoke", n)
    let d = Kernel.environmentDestroy(child, via: c)
    if d.status != 0 { benchFail("exo.revoke", "environmentDestroy", d.status) }
    var steps = 0
    while Kernel.environmentReclaim(child).value == 1 && steps < 10_000 { steps += 1 }
  }
}

/// The revocation child's code: on a request upcall it returns its run and
/// hands the CPU back to the manager at once; otherwise it keeps one page
/// (the run `Resources.revokeeRun`, mapped in its slot 8) and yields to the
/// manager.
let revokeeMain: @convention(c) () -> Void = {
  let me = Resources.revokee
  let manager = EnvironmentID(rawValue: 0)
  Upcalls.upcallHandler = { reason, _, _ in
    guard reason == .revocationRequest else { return }
    _ = Kernel.revocationReturn(Resources.revokeeRun)
    _ = Kernel.yieldTo(manager)
  }
  let held = page(Resources.revokeeRunIndex)
  while true {
    if KernelInfo[page: held.rawValue, .owner] != UInt64(me.rawValue) {
      _ = Kernel.pageAllocate(held, count: 1, capability: Resources.revokeeRun)
      _ = Kernel.pageMap(
        me, memory: Resources.revokeeRun, page: held, slot: Resources.revokeeRunSlot,
        rights: [.read, .write])
    }
    _ = Kernel.yieldTo(manager)
  }
}

/// Environment 1's first code: installs the echoing call handler, then
/// yields whenever it runs on its own slice.
let serverMain: @convention(c) () -> Void = {
  Upcalls.callHandler = { _, message, _ in message }
  while true { _ = Kernel.yield() }
}
