import ExoABI
import ExoUser

/// Every word of window slot `s` is zero.
func windowIsZero(_ s: UInt64) -> Bool {
  let p = windowWords(s)
  for i in 0..<512 where p[i] != 0 { return false }
  return true
}

func memoryTests() {
  let fp = KernelInfo.firstPage

  // pageAllocate
  expect("allocate: count 0", .invalidArgument) {
    Kernel.pageAllocate(page(16), count: 0, capability: cap(20))
  }
  expect("allocate: count above the maximum run", .invalidArgument) {
    Kernel.pageAllocate(page(16), count: 17, capability: cap(20))
  }
  expect("allocate: count is checked before the range", .invalidArgument) {
    Kernel.pageAllocate(rawPage(0), count: 0, capability: cap(20))
  }
  expect("allocate: page 0 (kernel)", .outOfRange) {
    Kernel.pageAllocate(rawPage(0), count: 1, capability: cap(20))
  }
  expect("allocate: the page below firstPage", .outOfRange) {
    Kernel.pageAllocate(rawPage(fp - 1), count: 1, capability: cap(20))
  }
  expect("allocate: a run straddling firstPage", .outOfRange) {
    Kernel.pageAllocate(rawPage(fp - 1), count: 2, capability: cap(20))
  }
  expect("allocate: the page past the table", .outOfRange) {
    Kernel.pageAllocate(page(P), count: 1, capability: cap(20))
  }
  expect("allocate: a run crossing the end", .outOfRange) {
    Kernel.pageAllocate(page(P - 1), count: 2, capability: cap(20))
  }
  expect("allocate: a page number that wraps", .outOfRange) {
    Kernel.pageAllocate(rawPage(UInt64.max - 1), count: 16, capability: cap(20))
  }
  expect("allocate: capability slot out of range", .outOfRange) {
    Kernel.pageAllocate(page(16), count: 1, capability: cap(256))
  }
  expect("allocate: range is checked before the slot", .outOfRange) {
    Kernel.pageAllocate(rawPage(0), count: 1, capability: cap(1))
  }
  expect("allocate: capability slot in use", .slotInUse) {
    Kernel.pageAllocate(page(16), count: 1, capability: cap(1))
  }
  expect("allocate: a page environment 0 already owns", .slotInUse) {
    Kernel.pageAllocate(page(0), count: 1, capability: cap(20))
  }
  expectSuccess("allocate 4 pages", Kernel.pageAllocate(page(16), count: 4, capability: cap(20)))
  expectTrue(
    "allocated: root memory capability record",
    capField(20, .kind) == CapabilityKind.memory.rawValue && capField(20, .owner) == 0
      && capField(20, .parent) == none && capField(20, .depth) == 0
      && capField(20, .rights) == Rights.memory.rawValue && capField(20, .base) == fp + 16
      && capField(20, .count) == 4 && capField(20, .children) == 0 && capField(20, .bindings) == 0)
  var owned = true
  for i in UInt64(16)..<20
  where pageField(i, .owner) != 0 || pageField(i, .root) != 20 || pageField(i, .mappings) != 0 {
    owned = false
  }
  expectTrue("allocated: pages owned by 0, rooted at the capability, unmapped", owned)
  expectTrue("allocated: the next page is still free", isFreePage(20))
  expect("allocate: a run overlapping an allocated page", .slotInUse) {
    Kernel.pageAllocate(page(19), count: 2, capability: cap(21))
  }

  // pageMap (into environment 0's own window)
  expect("map: target out of range", .outOfRange) {
    Kernel.pageMap(env(16), via: cap(20), memory: cap(20), page: page(16), slot: 8, rights: rw)
  }
  expect("map: undefined rights bit", .invalidArgument) {
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: 8, rights: Rights(rawValue: 0x401))
  }
  expect("map: no rights", .invalidArgument) {
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: 8, rights: [])
  }
  expect("map: write without read", .invalidArgument) {
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: 8, rights: [.write])
  }
  expect("map: grant is not a binding right", .invalidArgument) {
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: 8, rights: [.read, .grant])
  }
  expect("map: window slot out of range", .outOfRange) {
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: W, rights: rw)
  }
  expect("map: rights are checked before the window slot", .invalidArgument) {
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: W, rights: [])
  }
  expect("map: capability slot out of range", .outOfRange) {
    Kernel.pageMap(me, memory: cap(256), page: page(16), slot: 8, rights: rw)
  }
  expect("map: empty capability", .invalidCapability) {
    Kernel.pageMap(me, memory: cap(21), page: page(16), slot: 8, rights: rw)
  }
  expect("map: page below the capability's run", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(20), page: page(15), slot: 8, rights: rw)
  }
  expect("map: page past the capability's run", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(20), page: page(20), slot: 8, rights: rw)
  }
  expect("map: a kernel page through a memory capability", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(20), page: rawPage(0x100), slot: 8, rights: rw)
  }
  expectSuccess(
    "derive a read-only capability for page 17",
    Kernel.capabilityDerive(cap(20), child: cap(21), rights: [.read], base: fp + 17, count: 1))
  expect("map: write through a read-only capability", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(21), page: page(17), slot: 10, rights: rw)
  }
  expect("map: execute through a read-only capability", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(21), page: page(17), slot: 10, rights: [.read, .execute])
  }
  expectSuccess(
    "map page 16 read-write at slot 8",
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: 8, rights: rw))
  expectTrue(
    "mapped: binding record",
    bindingField(0, 8, .page) == fp + 16 && bindingField(0, 8, .capability) == 20
      && bindingField(0, 8, .rights) == rw.rawValue)
  expectTrue(
    "mapped: counts", capField(20, .bindings) == 1 && pageField(16, .mappings) == 1)
  expectTrue("mapped: a fresh page reads as zero", windowIsZero(8))
  windowWords(8)[0] = 0xDEAD_BEEF
  windowWords(8)[511] = 0x1234
  expect("map: window slot in use", .slotInUse) {
    Kernel.pageMap(me, memory: cap(20), page: page(17), slot: 8, rights: rw)
  }
  expectSuccess(
    "map page 16 again, read-only, at slot 9",
    Kernel.pageMap(me, memory: cap(20), page: page(16), slot: 9, rights: ro))
  expectTrue(
    "aliased mappings share the page",
    windowWords(9)[0] == 0xDEAD_BEEF && windowWords(9)[511] == 0x1234)
  expectEqual("a page counts both mappings", pageField(16, .mappings), 2)
  expectSuccess(
    "map through the derived capability",
    Kernel.pageMap(me, memory: cap(21), page: page(17), slot: 10, rights: ro))
  expectTrue(
    "derived capability counts its own binding",
    capField(21, .bindings) == 1 && capField(20, .bindings) == 2)

  // pageProtect
  expect("protect: target out of range", .outOfRange) {
    Kernel.pageProtect(env(16), via: cap(20), slot: 8, rights: ro)
  }
  expect("protect: write without read", .invalidArgument) {
    Kernel.pageProtect(me, slot: 8, rights: [.write])
  }
  expect("protect: undefined rights bit", .invalidArgument) {
    Kernel.pageProtect(me, slot: 8, rights: Rights(rawValue: 0x81))
  }
  expect("protect: window slot out of range", .outOfRange) {
    Kernel.pageProtect(me, slot: W, rights: ro)
  }
  expect("protect: empty slot", .slotEmpty) { Kernel.pageProtect(me, slot: 11, rights: ro) }
  expect("protect: more than the capability allows", .insufficientRights) {
    Kernel.pageProtect(me, slot: 10, rights: rw)
  }
  expectSuccess("protect slot 8 read-only", Kernel.pageProtect(me, slot: 8, rights: ro))
  expectEqual("protected: binding rights", bindingField(0, 8, .rights), ro.rawValue)
  expectSuccess("protect slot 8 back to read-write", Kernel.pageProtect(me, slot: 8, rights: rw))
  expectSuccess(
    "protect slot 9 read-execute", Kernel.pageProtect(me, slot: 9, rights: [.read, .execute]))
  expectEqual("protected: execute recorded", bindingField(0, 9, .rights), 5)

  // pageUnmap
  expect("unmap: target out of range", .outOfRange) {
    Kernel.pageUnmap(env(16), via: cap(20), slot: 8)
  }
  expect("unmap: window slot out of range", .outOfRange) { Kernel.pageUnmap(me, slot: W) }
  expect("unmap: huge window slot", .outOfRange) { Kernel.pageUnmap(me, slot: UInt64.max) }
  expect("unmap: empty slot", .slotEmpty) { Kernel.pageUnmap(me, slot: 11) }
  expectSuccess("unmap slot 9", Kernel.pageUnmap(me, slot: 9))
  expectTrue(
    "unmapped: empty slot, counts down",
    isEmptyBinding(0, 9) && pageField(16, .mappings) == 1 && capField(20, .bindings) == 1)

  // capabilityDelete of memory, and zeroing.
  expect("delete: a capability with bindings", .busy) { Kernel.capabilityDelete(cap(21)) }
  expect("delete: a capability with children", .busy) { Kernel.capabilityDelete(cap(20)) }
  expectSuccess("unmap slot 10", Kernel.pageUnmap(me, slot: 10))
  expectSuccess("delete the derived capability", Kernel.capabilityDelete(cap(21)))
  expectTrue(
    "deleting a derived capability keeps the pages",
    isEmptyCapability(21) && capField(20, .children) == 0 && pageField(17, .owner) == 0
      && pageField(17, .root) == 20)
  expectSuccess("unmap slot 8", Kernel.pageUnmap(me, slot: 8))
  expectSuccess("delete the root", Kernel.capabilityDelete(cap(20)))
  expectTrue(
    "deleting the root frees its pages",
    isEmptyCapability(20) && isFreePage(16) && isFreePage(17) && isFreePage(18) && isFreePage(19))
  expectSuccess("allocate the freed page again", Kernel.pageAllocate(page(16), capability: cap(20)))
  _ = Kernel.pageMap(me, memory: cap(20), page: page(16), slot: 8, rights: rw)
  expectTrue("a reallocated page is zeroed", windowIsZero(8))
  _ = Kernel.pageUnmap(me, slot: 8)

  // Another environment's pages and window.
  guard let c = spawn(1, 4, childYielder, ChildOptions(start: false)) else { return }
  expectSuccess("allocate page 24", Kernel.pageAllocate(page(24), capability: cap(22)))
  expectSuccess("grant the root of page 24 to the child", Kernel.capabilityGrant(cap(22), to: c.id))
  expectTrue(
    "granting a root moves its pages",
    capField(22, .owner) == c.e && pageField(24, .owner) == c.e && pageField(24, .root) == 22)
  expect("allocate: a page the child owns", .slotInUse) {
    Kernel.pageAllocate(page(24), capability: cap(23))
  }
  expect("map: the child's page through environment 0's capability", .insufficientRights) {
    Kernel.pageMap(me, memory: cap(20), page: page(24), slot: 12, rights: ro)
  }
  expect("map: the child's capability into environment 0", .invalidCapability) {
    Kernel.pageMap(me, memory: cap(22), page: page(24), slot: 12, rights: ro)
  }
  expect("map: environment 0's capability into the child", .invalidCapability) {
    Kernel.pageMap(c.id, via: c.envCap, memory: cap(20), page: page(16), slot: 12, rights: ro)
  }
  expect("map: an environment capability as memory", .invalidCapability) {
    Kernel.pageMap(me, memory: c.envCap, page: page(16), slot: 12, rights: ro)
  }
  expect("map: into the child with a memory capability as authority", .invalidCapability) {
    Kernel.pageMap(c.id, via: cap(20), memory: cap(22), page: page(24), slot: 7, rights: ro)
  }
  expect("delete: the child's capability", .invalidCapability) { Kernel.capabilityDelete(cap(22)) }
  expect("grant: the child's capability back", .invalidCapability) {
    Kernel.capabilityGrant(cap(22), to: me)
  }
  expectSuccess(
    "map the child's page into its window with its capability",
    Kernel.pageMap(c.id, via: c.envCap, memory: cap(22), page: page(24), slot: 7, rights: rw))
  expectTrue(
    "the child's binding record",
    bindingField(c.e, 7, .page) == fp + 24 && bindingField(c.e, 7, .capability) == 22
      && bindingField(c.e, 7, .rights) == rw.rawValue && isEmptyBinding(0, 7))
  expectSuccess(
    "derive a call-only capability for the child",
    Kernel.capabilityDerive(c.envCap, child: c.spareCap, rights: [.call], base: c.e, count: 1))
  expect("protect: the child's slot with a call-only capability", .insufficientRights) {
    Kernel.pageProtect(c.id, via: c.spareCap, slot: 7, rights: ro)
  }
  expect("unmap: the child's slot with a call-only capability", .insufficientRights) {
    Kernel.pageUnmap(c.id, via: c.spareCap, slot: 7)
  }
  expectSuccess(
    "protect the child's slot read-only",
    Kernel.pageProtect(c.id, via: c.envCap, slot: 7, rights: ro))
  expectEqual("the child's binding is read-only", bindingField(c.e, 7, .rights), ro.rawValue)
  expectSuccess("unmap the child's slot", Kernel.pageUnmap(c.id, via: c.envCap, slot: 7))
  expectTrue("the child's slot is empty", isEmptyBinding(c.e, 7) && pageField(24, .mappings) == 0)
  expectSuccess("destroy the child", Kernel.environmentDestroy(c.id, via: c.envCap))
  expect("map: into a dying child", .wrongState) {
    Kernel.pageMap(c.id, via: c.envCap, memory: cap(22), page: page(24), slot: 7, rights: ro)
  }
  expect("unmap: in a dying child", .wrongState) { Kernel.pageUnmap(c.id, via: c.envCap, slot: 0) }
  expect("protect: in a dying child", .wrongState) {
    Kernel.pageProtect(c.id, via: c.envCap, slot: 0, rights: ro)
  }
  expect("grant: to a dying environment", .wrongState) { Kernel.capabilityGrant(cap(20), to: c.id) }
  reap(c)
  expectTrue("reclaiming the child freed its pages", isFreePage(24) && isEmptyCapability(22))
  _ = Kernel.capabilityDelete(cap(20))
}
