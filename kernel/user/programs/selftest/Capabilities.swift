import ExoABI
import ExoUser

/// Reads window slot 5 (mapped through a capability environment 0 will
/// revoke), yields, then tries to map through the revoked capability and
/// reads slot 5 again, which must fault.
func childRevokeVictim() {
  let b = childBox
  b[2] = loadWord(windowAddress(5))
  b[Box.progress] = 1
  _ = Kernel.yield()
  b[3] =
    Kernel.pageMap(
      KernelInfo.me, memory: cap(b[Box.parameter]), page: PageNumber(rawValue: b[4]), slot: 6,
      rights: ro
    ).status
  installRecorder()
  b[5] = loadWord(windowAddress(5))
  b[6] = 1
  Kernel.exit(1)
}

func capabilityTests() {
  let fp = KernelInfo.firstPage
  expectSuccess(
    "allocate 8 pages as root 40", Kernel.pageAllocate(page(64), count: 8, capability: cap(40)))

  // capabilityDerive
  expect("derive: slot out of range", .outOfRange) {
    Kernel.capabilityDerive(cap(256), child: cap(41), rights: ro, base: fp + 64, count: 1)
  }
  expect("derive: huge slot", .outOfRange) {
    Kernel.call(
      CapabilityDeriveArguments(
        capability: 1 << 32 | 40, child: 41, rights: 1, base: fp + 64, count: 1))
  }
  expect("derive: empty capability", .invalidCapability) {
    Kernel.capabilityDerive(cap(47), child: cap(41), rights: ro, base: fp + 64, count: 1)
  }
  expect("derive: undefined rights bit", .invalidArgument) {
    Kernel.capabilityDerive(
      cap(40), child: cap(41), rights: Rights(rawValue: 1 << 6), base: fp + 64, count: 1)
  }
  expect("derive: child slot out of range", .outOfRange) {
    Kernel.capabilityDerive(cap(40), child: cap(256), rights: ro, base: fp + 64, count: 1)
  }
  expect("derive: rights are checked before the child slot", .invalidArgument) {
    Kernel.capabilityDerive(
      cap(40), child: cap(256), rights: Rights(rawValue: 1 << 7), base: fp + 64, count: 1)
  }
  expect("derive: child slot in use", .slotInUse) {
    Kernel.capabilityDerive(cap(40), child: cap(1), rights: ro, base: fp + 64, count: 1)
  }
  expect("derive: a right the parent lacks", .insufficientRights) {
    Kernel.capabilityDerive(
      cap(40), child: cap(41), rights: [.read, .control], base: fp + 64, count: 1)
  }
  expect("derive: count 0", .insufficientRights) {
    Kernel.capabilityDerive(cap(40), child: cap(41), rights: ro, base: fp + 64, count: 0)
  }
  expect("derive: base below the parent", .insufficientRights) {
    Kernel.capabilityDerive(cap(40), child: cap(41), rights: ro, base: fp + 63, count: 1)
  }
  expect("derive: run past the parent", .insufficientRights) {
    Kernel.capabilityDerive(cap(40), child: cap(41), rights: ro, base: fp + 70, count: 3)
  }
  expect("derive: a run that wraps", .insufficientRights) {
    Kernel.capabilityDerive(cap(40), child: cap(41), rights: ro, base: UInt64.max, count: 2)
  }
  expect("derive: a huge count", .insufficientRights) {
    Kernel.capabilityDerive(cap(40), child: cap(41), rights: ro, base: fp + 65, count: UInt64.max)
  }
  expectSuccess(
    "derive A (41): read, write, grant over pages 64..<68",
    Kernel.capabilityDerive(
      cap(40), child: cap(41), rights: [.read, .write, .grant], base: fp + 64, count: 4))
  expectTrue(
    "derived: record",
    capField(41, .kind) == CapabilityKind.memory.rawValue && capField(41, .owner) == 0
      && capField(41, .parent) == 40 && capField(41, .depth) == 1
      && capField(41, .rights) == Rights([.read, .write, .grant]).rawValue
      && capField(41, .base) == fp + 64 && capField(41, .count) == 4
      && capField(41, .children) == 0 && capField(41, .bindings) == 0)
  expectEqual("derived: the parent counts its child", capField(40, .children), 1)
  expectTrue(
    "derived: pages keep their root", pageField(64, .root) == 40 && pageField(64, .owner) == 0)
  expectSuccess(
    "derive B (42) from A: read, grant over page 65",
    Kernel.capabilityDerive(
      cap(41), child: cap(42), rights: [.read, .grant], base: fp + 65, count: 1))
  expectSuccess(
    "derive C (43) from B: read",
    Kernel.capabilityDerive(cap(42), child: cap(43), rights: ro, base: fp + 65, count: 1))
  expectSuccess(
    "derive D (44) from B: read, grant",
    Kernel.capabilityDerive(
      cap(42), child: cap(44), rights: [.read, .grant], base: fp + 65, count: 1))
  expectTrue(
    "derived: depths 2 and 3", capField(42, .depth) == 2 && capField(44, .depth) == 3)
  expect("derive: without grant", .insufficientRights) {
    Kernel.capabilityDerive(cap(43), child: cap(45), rights: ro, base: fp + 65, count: 1)
  }
  expect("derive: grant is checked before the rights' bits", .insufficientRights) {
    Kernel.capabilityDerive(
      cap(43), child: cap(45), rights: Rights(rawValue: 1 << 9), base: fp + 65, count: 1)
  }
  expect("derive: beyond the maximum depth", .invalidArgument) {
    Kernel.capabilityDerive(cap(44), child: cap(45), rights: ro, base: fp + 65, count: 1)
  }
  expect("derive: the child slot is checked before the depth", .slotInUse) {
    Kernel.capabilityDerive(cap(44), child: cap(40), rights: ro, base: fp + 65, count: 1)
  }
  expect("derive: B cannot widen to A's run", .insufficientRights) {
    Kernel.capabilityDerive(cap(42), child: cap(45), rights: ro, base: fp + 64, count: 2)
  }
  expect("derive: B cannot add write", .insufficientRights) {
    Kernel.capabilityDerive(cap(42), child: cap(45), rights: rw, base: fp + 65, count: 1)
  }

  guard let c = spawn(2, 5, childRevokeVictim, parameter: 42, ChildOptions(start: false)) else {
    return
  }
  c.box[4] = fp + 65
  let envCapSlot = UInt64(c.envCap.rawValue)
  expect("derive: an environment capability for another environment", .insufficientRights) {
    Kernel.capabilityDerive(c.envCap, child: cap(46), rights: [.call], base: 6, count: 1)
  }
  expect("derive: an environment capability with count 2", .insufficientRights) {
    Kernel.capabilityDerive(c.envCap, child: cap(46), rights: [.call], base: c.e, count: 2)
  }
  expect("derive: memory rights from an environment capability", .insufficientRights) {
    Kernel.capabilityDerive(c.envCap, child: cap(46), rights: ro, base: c.e, count: 1)
  }
  expectSuccess(
    "derive a call, grant environment capability (46)",
    Kernel.capabilityDerive(c.envCap, child: cap(46), rights: [.call, .grant], base: c.e, count: 1))
  expectTrue(
    "derived environment capability record",
    capField(46, .kind) == CapabilityKind.environment.rawValue
      && capField(46, .parent) == envCapSlot
      && capField(46, .base) == c.e && capField(46, .count) == 1 && capField(46, .depth) == 1)

  // capabilityGrant
  expect("grant: slot out of range", .outOfRange) { Kernel.capabilityGrant(cap(256), to: c.id) }
  expect("grant: empty capability", .invalidCapability) {
    Kernel.capabilityGrant(cap(47), to: c.id)
  }
  expect("grant: without the grant right", .insufficientRights) {
    Kernel.capabilityGrant(cap(43), to: c.id)
  }
  expect("grant: the right is checked before the target", .insufficientRights) {
    Kernel.capabilityGrant(cap(43), to: env(16))
  }
  expect("grant: target out of range", .outOfRange) { Kernel.capabilityGrant(cap(41), to: env(16)) }
  expect("grant: a free target", .wrongState) { Kernel.capabilityGrant(cap(41), to: env(11)) }
  expectSuccess(
    "map A's page 64 at environment 0's slot 20",
    Kernel.pageMap(me, memory: cap(41), page: page(64), slot: 20, rights: rw))
  expect("grant: a capability with bindings", .busy) { Kernel.capabilityGrant(cap(41), to: c.id) }
  expectSuccess("grant B to the child", Kernel.capabilityGrant(cap(42), to: c.id))
  expectTrue(
    "granted: the child holds B; pages keep their owner",
    capField(42, .owner) == c.e && capField(42, .parent) == 41 && pageField(65, .owner) == 0)
  expect("derive: from a capability granted away", .invalidCapability) {
    Kernel.capabilityDerive(cap(42), child: cap(45), rights: ro, base: fp + 65, count: 1)
  }
  expect("delete: a capability granted away", .invalidCapability) {
    Kernel.capabilityDelete(cap(42))
  }
  expect("revoke: a capability granted away", .invalidCapability) {
    Kernel.capabilityRevoke(cap(42))
  }
  expect("grant: a capability granted away", .invalidCapability) {
    Kernel.capabilityGrant(cap(42), to: me)
  }
  expect("map: a capability granted away, into environment 0", .invalidCapability) {
    Kernel.pageMap(me, memory: cap(42), page: page(65), slot: 21, rights: ro)
  }
  expectSuccess(
    "map B's page into the child's slot 5",
    Kernel.pageMap(c.id, via: c.envCap, memory: cap(42), page: page(65), slot: 5, rights: ro))
  // Page 65 through A: environment 0 maps it and writes a pattern.
  expectSuccess(
    "map A's page 65 at slot 21",
    Kernel.pageMap(me, memory: cap(41), page: page(65), slot: 21, rights: rw))
  windowWords(21)[0] = 0x5EC2_E7

  // capabilityDelete
  expect("delete: slot out of range", .outOfRange) { Kernel.capabilityDelete(cap(256)) }
  expect("delete: empty capability", .invalidCapability) { Kernel.capabilityDelete(cap(47)) }
  expect("delete: a capability with children", .busy) { Kernel.capabilityDelete(cap(40)) }
  expectSuccess(
    "map C's page at slot 22",
    Kernel.pageMap(me, memory: cap(43), page: page(65), slot: 22, rights: ro))
  expect("delete: a capability with a binding", .busy) { Kernel.capabilityDelete(cap(43)) }
  expectSuccess("unmap slot 22", Kernel.pageUnmap(me, slot: 22))
  expectSuccess("delete C", Kernel.capabilityDelete(cap(43)))
  expectTrue(
    "deleted: empty record, parent counts down",
    isEmptyCapability(43) && capField(42, .children) == 1)
  expectSuccess("delete D", Kernel.capabilityDelete(cap(44)))
  expectEqual("deleted: B has no children", capField(42, .children), 0)

  // The child sees the page through B, then environment 0 revokes.
  expectSuccess(
    "start the child",
    Kernel.environmentStart(
      c.id, via: c.envCap, rip: entryAddress(childRevokeVictim), rsp: UserLayout.stackTop - 8))
  runUntilProgress(c, 1)
  expectTrue(
    "the child reads the shared page through B", c.word(Box.progress) == 1 && c.word(2) == 0x5EC2_E7
  )

  expect("revoke: slot out of range", .outOfRange) { Kernel.capabilityRevoke(cap(256)) }
  expect("revoke: empty capability", .invalidCapability) { Kernel.capabilityRevoke(cap(47)) }
  expectSuccess("revoke step 1", Kernel.capabilityRevoke(cap(40)), value: 1)
  expectTrue(
    "revoke removes the leaf's binding in the other environment first",
    isEmptyBinding(c.e, 5) && capField(42, .kind) == CapabilityKind.memory.rawValue
      && capField(42, .bindings) == 0 && pageField(65, .mappings) == 1)
  expectSuccess("revoke step 2", Kernel.capabilityRevoke(cap(40)), value: 1)
  expectTrue("revoke deletes the leaf", isEmptyCapability(42) && capField(41, .children) == 0)
  expectSuccess("revoke step 3", Kernel.capabilityRevoke(cap(40)), value: 1)
  expectTrue(
    "revoke removes the lowest binding of the next leaf",
    isEmptyBinding(0, 20) && bindingField(0, 21, .page) == fp + 65)
  expectSuccess("revoke step 4", Kernel.capabilityRevoke(cap(40)), value: 1)
  expectSuccess("revoke step 5", Kernel.capabilityRevoke(cap(40)), value: 1)
  expectTrue("revoke deletes A", isEmptyCapability(41) && isEmptyBinding(0, 21))
  expectSuccess("revoke ends with 0", Kernel.capabilityRevoke(cap(40)), value: 0)
  expectTrue(
    "revoke keeps the root and its pages",
    capField(40, .kind) == CapabilityKind.memory.rawValue && capField(40, .children) == 0
      && pageField(64, .owner) == 0 && pageField(65, .mappings) == 0)
  expect("map: through a revoked capability", .invalidCapability) {
    Kernel.pageMap(me, memory: cap(41), page: page(64), slot: 20, rights: rw)
  }
  expect("derive: from a revoked capability", .invalidCapability) {
    Kernel.capabilityDerive(cap(41), child: cap(45), rights: ro, base: fp + 64, count: 1)
  }
  run(c)
  expectStatus("the child's map through its revoked capability", c.word(3), .invalidCapability)
  expectTrue(
    "the child's access through the revoked binding faults",
    c.state == .dying && c.exitStatus == 0xE00E && c.word(Box.address) == windowAddress(5)
      && c.word(Box.error) == 4 && c.word(6) == 0)

  // A full capability table: derive into every empty slot.
  var derived: UInt64 = 0
  var empty: UInt64 = 0
  for s in 0..<C where capField(s, .kind) == 0 {
    empty += 1
    if Kernel.capabilityDerive(cap(40), child: cap(s), rights: ro, base: fp + 64, count: 1).status
      == 0
    {
      derived += 1
    }
  }
  expectTrue("fill every empty capability slot", derived == empty && derived > 100)
  var full = true
  for s in 0..<C where capField(s, .kind) == 0 { full = false }
  expectTrue("the capability table is full", full)
  expect("derive: full table", .slotInUse) {
    Kernel.capabilityDerive(cap(40), child: cap(0), rights: ro, base: fp + 64, count: 1)
  }
  expect("allocate: full capability table", .slotInUse) {
    Kernel.pageAllocate(page(80), capability: cap(0))
  }
  expect("create: full capability table", .slotInUse) {
    Kernel.environmentCreate(env(12), capability: cap(255))
  }
  expectEqual("the root counts every child", capField(40, .children), derived)
  var steps: UInt64 = 0
  while Kernel.capabilityRevoke(cap(40)).value == 1 && steps < 1000 { steps += 1 }
  expectEqual("revoke takes one step per child", steps, derived)
  expectEqual("revoked: no children", capField(40, .children), 0)
  expectSuccess("delete the root", Kernel.capabilityDelete(cap(40)))
  expectTrue("deleted: pages free", isFreePage(64) && isFreePage(71))
  reap(c)
  expectTrue("reclaim deleted the derived environment capability", isEmptyCapability(46))
}
