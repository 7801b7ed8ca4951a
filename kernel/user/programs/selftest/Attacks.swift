import ExoABI
import ExoUser

/// Attacks environment 0 and the kernel from a child with nothing but its
/// own four pages. Statuses go to words 20...; word 1 is set when done.
/// The parameter is the slot of a call capability naming the child itself.
func childAttacker() {
  let b = childBox
  let zero = env(0)
  let fp = KernelInfo.firstPage
  let own = cap(b[Box.parameter])
  let ownMemory = cap(b[Box.parameter] - 1)  // its pages: read, write, grant
  b[20] =
    Kernel.pageMap(zero, via: cap(1), memory: cap(1), page: page(0), slot: 5, rights: rw).status
  b[21] = Kernel.pageMap(KernelInfo.me, memory: cap(1), page: page(0), slot: 10, rights: rw).status
  b[22] = Kernel.environmentDestroy(zero, via: cap(212)).status
  b[23] = Kernel.environmentStop(zero).status
  b[24] = Kernel.capabilityRevoke(cap(1)).status
  b[25] = Kernel.capabilityGrant(cap(1), to: KernelInfo.me).status
  b[26] = Kernel.capabilityDerive(cap(1), child: cap(250), rights: ro, base: fp, count: 1).status
  b[27] = Kernel.sliceFree(0).status
  b[28] = Kernel.environmentReclaim(zero).status
  b[29] = Kernel.pageAllocate(page(0), capability: cap(250)).status
  b[30] =
    Kernel.environmentSetEntries(
      zero, via: cap(0), handler: 0, handlerStack: 0, upcall: 0, callEntry: 0
    ).status
  b[31] =
    Kernel.pageMap(
      KernelInfo.me, memory: ownMemory, page: page(512 + 3 * 4), slot: 9,
      rights: [.read, .write, .execute]
    ).status
  b[32] =
    Kernel.capabilityDerive(
      ownMemory, child: cap(250), rights: [.read, .execute], base: fp + 512 + 12, count: 1
    ).status
  b[33] = Kernel.environmentCreate(zero, capability: cap(250)).status
  b[34] = Kernel.call(cap(212), Message()).failureStatus
  b[35] = Kernel.pageProtect(KernelInfo.me, slot: 0, rights: [.read, .write, .execute]).status
  b[36] = Kernel.pageUnmap(KernelInfo.me, slot: 9).status
  b[37] = Kernel.sliceAllocate(2, for: zero, via: cap(1)).status
  b[38] = Kernel.consoleWrite(address(UserLayout.infoBase), length: 8).status
  b[39] = Kernel.call(own, Message()).failureStatus
  b[40] = Kernel.capabilityDelete(cap(1)).status
  b[41] = Kernel.pageUnmap(zero, via: cap(212), slot: 0).status
  b[Box.progress] = 1
  _ = Kernel.yield()
  Kernel.exit(0)
}

func attackTests() {
  let fp = KernelInfo.firstPage

  // Call numbers.
  expect("call number 0", .noSuchCall) { Kernel.raw(0) }
  expect("call number 9 (between groups)", .noSuchCall) { Kernel.raw(9) }
  expect("call number 53", .noSuchCall) { Kernel.raw(53) }
  expect("call number UInt64.max", .noSuchCall) { Kernel.raw(UInt64.max) }

  // Revocation (docs/ABI.md "Revocation"): hostile requests and returns.
  expect("call number 62 (revocation, undefined)", .noSuchCall) { Kernel.raw(62) }
  expect("revocationRequest on the caller itself", .invalidArgument) {
    Kernel.revocationRequest(me, via: .none, count: 1, ticks: 1)
  }
  expect("revocationRequest of an environment out of range", .outOfRange) {
    Kernel.call(RevocationRequestArguments(target: 16, envCap: 0, count: 1, ticks: 1))
  }
  expect("revocationRequest with a capability slot out of range", .outOfRange) {
    Kernel.call(RevocationRequestArguments(target: 3, envCap: .max, count: 1, ticks: 1))
  }
  let notNamingThree =
    (UInt64(0)..<256).first {
      KernelInfo[capability: $0, .kind] != CapabilityKind.environment.rawValue
        || KernelInfo[capability: $0, .base] != 3
    } ?? 0
  expect("revocationRequest with a capability that does not name the target", .invalidCapability) {
    Kernel.call(
      RevocationRequestArguments(target: 3, envCap: notNamingThree, count: .max, ticks: .max))
  }
  expect("revocationReturn with no request pending", .wrongState) {
    Kernel.revocationReturn(cap(0))
  }
  expect("revocationReturn of a slot out of range, nothing pending", .wrongState) {
    Kernel.call(RevocationReturnArguments(capability: .max))
  }

  // consoleWrite: only the caller's readable memory.
  expect("console: kernel address", .badAddress) {
    Kernel.consoleWrite(address(0x10_0000), length: 8)
  }
  expect("console: non-canonical address", .badAddress) {
    Kernel.consoleWrite(address(0x8000_0000_0000_0000), length: 1)
  }
  expect("console: the info area", .badAddress) {
    Kernel.consoleWrite(address(UserLayout.infoBase), length: 8)
  }
  expect("console: an unmapped window slot", .badAddress) {
    Kernel.consoleWrite(address(windowAddress(77)), length: 8)
  }
  expect("console: running off the top of the stack", .badAddress) {
    Kernel.consoleWrite(address(UserLayout.stackTop - 4), length: 8)
  }
  expect("console: a range that wraps", .badAddress) {
    Kernel.consoleWrite(address(UInt64.max - 3), length: 8)
  }
  expect("console: longer than the maximum", .invalidArgument) {
    Kernel.consoleWrite(address(UserLayout.imageBase), length: ConsoleLimits.maximumWrite + 1)
  }
  expect("console: length is checked before the address", .invalidArgument) {
    Kernel.consoleWrite(address(0x10_0000), length: UInt64.max)
  }
  expectSuccess(
    "console: zero bytes from anywhere", Kernel.consoleWrite(address(0x10_0000), length: 0),
    value: 0)
  expectSuccess(
    "allocate a page for console text", Kernel.pageAllocate(page(100), capability: cap(3)))
  _ = Kernel.pageMap(me, memory: cap(3), page: page(100), slot: 60, rights: rw)
  let line: StaticString = "attacks: console write from a window page\n"
  let bytes = UserMemory.pointer(windowAddress(60), to: UInt8.self)
  for i in 0..<line.utf8CodeUnitCount { bytes[i] = line.utf8Start[i] }
  _ = Kernel.pageProtect(me, slot: 60, rights: ro)
  expectSuccess(
    "console: from a read-only window page",
    Kernel.consoleWrite(address(windowAddress(60)), length: UInt64(line.utf8CodeUnitCount)),
    value: UInt64(line.utf8CodeUnitCount))
  _ = Kernel.pageUnmap(me, slot: 60)
  expect("console: the same page once unmapped", .badAddress) {
    Kernel.consoleWrite(address(windowAddress(60)), length: 8)
  }
  _ = Kernel.capabilityDelete(cap(3))

  // Forged slot numbers: the kernel compares full words, never truncates.
  expect("forged: capability slot 2^32 + 1 (environment 0 holds 1)", .outOfRange) {
    Kernel.call(
      PageMapArguments(target: 0, envCap: 0, memoryCap: 1 << 32 | 1, page: fp, slot: 8, rights: 1))
  }
  expect("forged: window slot 2^32 + 8", .outOfRange) {
    Kernel.call(
      PageMapArguments(target: 0, envCap: 0, memoryCap: 1, page: fp, slot: 1 << 32 | 8, rights: 1))
  }
  expect("forged: page 2^52 + firstPage", .outOfRange) {
    Kernel.call(PageAllocateArguments(page: 1 << 52 | fp + 200, count: 1, slot: 5))
  }
  expect("forged: environment 2^32", .outOfRange) {
    Kernel.call(EnvironmentCreateArguments(environment: 1 << 32 | 3, slot: 5))
  }
  expect("forged: slice 2^32", .outOfRange) {
    Kernel.call(SliceAllocateArguments(position: 1 << 32, target: 0, envCap: 0))
  }
  expect("forged: reclaim environment 2^32 + 1", .outOfRange) {
    Kernel.call(EnvironmentReclaimArguments(target: 1 << 32 | 1))
  }
  expect("forged: delete slot UInt64.max", .outOfRange) {
    Kernel.call(CapabilityDeleteArguments(capability: UInt64.max))
  }
  expect("forged: revoke slot 2^63 + 1", .outOfRange) {
    Kernel.call(CapabilityRevokeArguments(capability: 1 << 63 | 1))
  }
  expect("forged: grant to environment 2^32", .outOfRange) {
    Kernel.call(CapabilityGrantArguments(capability: 1, target: 1 << 32))
  }

  // Page tables, the kernel and devices can never be named.
  var unnamed = true
  for n in [0, 1, 0x9F, 0xB8, 0x100, 0xFEE00, fp - 1, fp + P, fp + P + 1, fp + P + 64, 1 << 40]
    as [UInt64]
  where Kernel.pageAllocate(rawPage(n), capability: cap(5)).status != ExoError.outOfRange.rawValue {
    unnamed = false
  }
  expectTrue(
    "no page outside [firstPage, firstPage + P) can be allocated", unnamed && isEmptyCapability(5))
  var aboveTable = true
  for k in UInt64(0)..<64
  where Kernel.pageAllocate(rawPage(fp + P + k * 7), count: 1, capability: cap(5)).status
    != ExoError.outOfRange.rawValue
  {
    aboveTable = false
  }
  expectTrue("the page tables and tables above the user pages cannot be allocated", aboveTable)
  expect("map: the kernel's page 0 through a real capability", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(1), page: rawPage(0), slot: 8, rights: ro)
  }
  expect("map: the page below firstPage through a real capability", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(1), page: rawPage(fp - 1), slot: 8, rights: ro)
  }
  expect("map: the info area's page numbers", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(1), page: rawPage(fp + P), slot: 8, rights: ro)
  }

  // A hostile child.
  guard let c = spawn(3, 10, childAttacker, parameter: 215) else { return }
  _ = Kernel.capabilityDerive(
    c.envCap, child: c.spareCap, rights: [.call, .grant], base: c.e, count: 1)
  expectSuccess(
    "grant the attacker a call capability to itself", Kernel.capabilityGrant(c.spareCap, to: c.id))
  let before = tablesDigest()
  runUntilProgress(c, 1)
  let after = tablesDigest()
  expectEqual("the attacker ran", c.word(Box.progress), 1)
  expectTrue("the attacks changed nothing", before == after)
  expectStatus(
    "attack: map into environment 0 with its memory capability", c.word(20), .invalidCapability)
  expectStatus(
    "attack: map environment 0's page with its capability", c.word(21), .invalidCapability)
  expectStatus("attack: destroy environment 0 with its capability", c.word(22), .invalidCapability)
  expectStatus("attack: stop environment 0 with no capability", c.word(23), .outOfRange)
  expectStatus("attack: revoke environment 0's root", c.word(24), .invalidCapability)
  expectStatus("attack: grant environment 0's root to itself", c.word(25), .invalidCapability)
  expectStatus("attack: derive from environment 0's root", c.word(26), .invalidCapability)
  expectStatus("attack: free environment 0's slice", c.word(27), .notPermitted)
  expectStatus("attack: reclaim live environment 0", c.word(28), .wrongState)
  expectStatus("attack: allocate environment 0's page", c.word(29), .slotInUse)
  expectStatus("attack: set environment 0's entries", c.word(30), .invalidCapability)
  expectStatus("attack: map its page executable beyond its rights", c.word(31), .insufficientRights)
  expectStatus("attack: derive a right it lacks", c.word(32), .insufficientRights)
  expectStatus("attack: create over environment 0", c.word(33), .slotInUse)
  expectStatus("attack: call with environment 0's capability", c.word(34), .invalidCapability)
  expectStatus("attack: protect beyond its rights", c.word(35), .insufficientRights)
  expectStatus("attack: unmap an empty slot", c.word(36), .slotEmpty)
  expectStatus("attack: give environment 0 a slice", c.word(37), .invalidCapability)
  expectStatus("attack: print the info area", c.word(38), .badAddress)
  expectStatus("attack: call itself", c.word(39), .invalidArgument)
  expectStatus("attack: delete environment 0's root", c.word(40), .invalidCapability)
  expectStatus("attack: unmap environment 0's handler stack", c.word(41), .invalidCapability)
  expectTrue(
    "environment 0's handler stack is intact",
    bindingField(0, 0, .page) == fp && bindingField(0, 3, .page) == fp + 3
      && capField(1, .owner) == 0 && KernelInfo[slice: 0] == 0)
  run(c)
  expectTrue("the attacker exits normally", c.state == .dying && c.exitStatus == 0)
  reap(c)
}
