import ExoABI
import ExoUser

// Memory accesses the compiler cannot move or drop: each is a call.
@inline(never) func loadWord(_ a: UInt64) -> UInt64 {
  UserMemory.pointer(a, to: UInt64.self).pointee
}
@inline(never) func storeWord(_ a: UInt64, _ v: UInt64) {
  UserMemory.pointer(a, to: UInt64.self).pointee = v
}
@inline(never) func callAt(_ a: UInt64) {
  let f = unsafeBitCast(a, to: (@convention(c) () -> Void).self)
  f()
}

/// Environment 0's handler stack: window slots 0...3, pages 0...3.
var envZeroHandlerStack: UInt64 { windowAddress(4) }

/// What environment 0's exception handler saw and how it repairs faults.
/// Kept in raw memory (the bottom of window slot 0, below the handler
/// stack), not in Swift globals: the optimizer may assume that a store
/// through a pointer never touches a global, and would then move or drop
/// the updates around a faulting access.
enum Faults {
  enum Mode: UInt64 { case unexpected, map, protect, emulateReturn }
  private static var record: UnsafeMutablePointer<UInt64> { windowWords(0) }
  private enum Field: Int {
    case mode, count, vector, error, address, rip, rsp, frame, fixCapability, fixPage, fixStatus
  }
  private static func get(_ f: Field) -> UInt64 { record[f.rawValue] }
  private static func set(_ f: Field, _ v: UInt64) { record[f.rawValue] = v }

  static var mode: Mode {
    get { Mode(rawValue: get(.mode)) ?? .unexpected }
    set { set(.mode, newValue.rawValue) }
  }
  static var count: UInt64 {
    get { get(.count) }
    set { set(.count, newValue) }
  }
  static var vector: UInt64 {
    get { get(.vector) }
    set { set(.vector, newValue) }
  }
  static var error: UInt64 {
    get { get(.error) }
    set { set(.error, newValue) }
  }
  static var address: UInt64 {
    get { get(.address) }
    set { set(.address, newValue) }
  }
  static var rip: UInt64 {
    get { get(.rip) }
    set { set(.rip, newValue) }
  }
  static var rsp: UInt64 {
    get { get(.rsp) }
    set { set(.rsp, newValue) }
  }
  static var frame: UInt64 {
    get { get(.frame) }
    set { set(.frame, newValue) }
  }
  static var fixCapability: UInt64 {
    get { get(.fixCapability) }
    set { set(.fixCapability, newValue) }
  }
  static var fixPage: UInt64 {
    get { get(.fixPage) }
    set { set(.fixPage, newValue) }
  }
  static var fixStatus: UInt64 {
    get { get(.fixStatus) }
    set { set(.fixStatus, newValue) }
  }

  static func reset(_ mode: Mode) {
    self.mode = mode
    count = 0
    (vector, error, address, rip, rsp, frame, fixStatus) = (0, 0, 0, 0, 0, 0, 0)
  }
}

func envZeroHandler(_ frame: FaultFrame) {
  Faults.count += 1
  Faults.vector = frame[.vector]
  Faults.error = frame[.error]
  Faults.address = frame[.address]
  Faults.rip = frame[.rip]
  Faults.rsp = frame[.rsp]
  Faults.frame = UInt64(UInt(bitPattern: frame.base))
  let slot = (frame[.address] &- UserLayout.windowBase) / pageSize
  if Faults.count > 8 { Faults.mode = .unexpected }
  switch Faults.mode {
  case .map:
    Faults.fixStatus =
      Kernel.pageMap(
        me, memory: cap(Faults.fixCapability), page: PageNumber(rawValue: Faults.fixPage),
        slot: slot, rights: rw
      ).status
  case .protect:
    Faults.fixStatus = Kernel.pageProtect(me, slot: slot, rights: rw).status
  case .emulateReturn:
    frame[.rip] = loadWord(frame[.rsp])
    frame[.rsp] = frame[.rsp] &+ 8
  case .unexpected:
    print(
      "FAIL unexpected exception in environment 0: vector \(frame[.vector]) error \(frame[.error]) rip \(frame[.rip]) address \(frame[.address]) (delivery \(Faults.count), last repair \(statusName(Faults.fixStatus)))"
    )
    print("\(Tally.passed) passed, \(Tally.failed + 1) failed")
    Kernel.exit(1)
  }
}

/// Gives environment 0 a handler stack and its exception handler.
func installEnvZeroHandler() {
  expectSuccess(
    "allocate environment 0's handler stack",
    Kernel.pageAllocate(page(0), count: 4, capability: cap(1)))
  var mapped = true
  for s in UInt64(0)..<4
  where Kernel.pageMap(me, memory: cap(1), page: page(s), slot: s, rights: rw).status != 0 {
    mapped = false
  }
  expectTrue("map environment 0's handler stack", mapped)
  Upcalls.exceptionHandler = envZeroHandler
  expectSuccess(
    "register environment 0's exception handler",
    Kernel.environmentSetEntries(
      me, handler: Upcalls.exceptionEntry, handlerStack: envZeroHandlerStack, upcall: 0,
      callEntry: 0))
  expectTrue(
    "environment 0's entries recorded",
    KernelInfo[environment: 0, .handler] == Upcalls.exceptionEntry
      && KernelInfo[environment: 0, .handlerStack] == envZeroHandlerStack)
}

// MARK: Probes that run in children

enum Probe: UInt64 {
  case readKernel = 1
  case writeInfo
  case readNonCanonical
  case executeInfo
  case readUnmappedWindow
  case invalidOpcode
  case writeText
  case writeKernel
  case executeStack
}

/// Runs the probe in the low byte of the parameter; bit 8 installs the
/// recording handler first. Word 2: reached the probe; word 3: went on.
func childProbe() {
  let b = childBox
  let p = b[Box.parameter]
  if p & 0x100 != 0 { installRecorder() }
  b[2] = 1
  switch Probe(rawValue: p & 0xFF) {
  case .readKernel: b[4] = loadWord(0x10_0000)
  case .writeInfo: storeWord(UserLayout.infoBase + 8 * InfoHeader.current.rawValue, 5)
  case .readNonCanonical: b[4] = loadWord(0x8000_0000_0000_0000)
  case .executeInfo: callAt(UserLayout.infoBase)
  case .readUnmappedWindow: b[4] = loadWord(windowAddress(50))
  case .invalidOpcode: fatalError()
  case .writeText: storeWord(entryAddress(childExit), 0xCC)
  case .writeKernel: storeWord(0x10_0000, 0)
  case .executeStack: callAt(UserLayout.stackTop - 4096)
  case nil: break
  }
  b[3] = 1
  Kernel.exit(1)
}

/// Spawns a probe child, runs it until it stops or exits.
func probe(_ kind: Probe, handler: Bool = true, _ options: ChildOptions = ChildOptions()) -> Child?
{
  guard
    let c = spawn(
      0, 8, childProbe, parameter: kind.rawValue | (handler ? 0x100 : 0), options)
  else { return nil }
  run(c)
  return c
}

/// The child's handler saw `vector`, `error` and `address` and exited.
func expectDelivered(
  _ label: StaticString, _ c: Child, vector: UInt64, error: UInt64, address: UInt64
) {
  let ok =
    c.state == .dying && c.exitStatus == 0xE000 + vector && c.word(Box.vector) == vector
    && c.word(Box.error) == error && c.word(Box.address) == address && c.word(Box.faults) == 1
    && c.word(2) == 1 && c.word(3) == 0
  if !ok {
    print(
      "FAIL \(label): got state \(c.state.rawValue) status \(c.exitStatus) vector \(c.word(Box.vector)) error \(c.word(Box.error)) address \(c.word(Box.address)) expected vector \(vector) error \(error) address \(address)"
    )
    fail()
  } else {
    pass()
  }
}

func exceptionTests() {
  let fp = KernelInfo.firstPage
  expectSuccess(
    "allocate 8 scratch pages", Kernel.pageAllocate(page(4), count: 8, capability: cap(2)))
  Faults.fixCapability = 2

  // A write fault in the window, repaired by mapping, resumed.
  Faults.reset(.map)
  Faults.fixPage = fp + 4
  storeWord(windowAddress(40) + 24, 0xC0FFEE)
  Faults.mode = .unexpected
  expectEqual("window write fault: delivered once", Faults.count, 1)
  expectEqual("window write fault: vector 14", Faults.vector, 14)
  expectEqual("window write fault: the faulting address", Faults.address, windowAddress(40) + 24)
  expectEqual("window write fault: error user|write, not present", Faults.error, 6)
  expectEqual(
    "window write fault: the frame is just below the handler stack", Faults.frame,
    envZeroHandlerStack - ExceptionFrame.size)
  expectTrue(
    "window write fault: rip in the program text",
    Faults.rip >= UserLayout.imageBase && Faults.rip < UserLayout.windowBase)
  expectTrue(
    "window write fault: rsp on the initial stack",
    Faults.rsp < UserLayout.stackTop && Faults.rsp >= UserLayout.stackTop - 16 * pageSize)
  expectStatus("window write fault: the handler's pageMap", Faults.fixStatus, nil)
  _ = Kernel.pageMap(me, memory: cap(2), page: page(4), slot: 45, rights: ro)
  expectEqual(
    "window write fault: the resumed store reached the page", loadWord(windowAddress(45) + 24),
    0xC0FFEE)
  expectEqual("window write fault: the binding is recorded", bindingField(0, 40, .page), fp + 4)

  // A read fault.
  Faults.reset(.map)
  Faults.fixPage = fp + 5
  let v = loadWord(windowAddress(42) + 8)
  Faults.mode = .unexpected
  expectTrue(
    "window read fault: vector 14, error user|read, address",
    Faults.count == 1 && Faults.vector == 14 && Faults.error == 4
      && Faults.address == windowAddress(42) + 8)
  expectEqual("window read fault: the resumed load reads the zeroed page", v, 0)

  // A write to a read-only binding, repaired by pageProtect.
  _ = Kernel.pageMap(me, memory: cap(2), page: page(6), slot: 43, rights: ro)
  Faults.reset(.protect)
  storeWord(windowAddress(43) + 16, 77)
  Faults.mode = .unexpected
  expectTrue(
    "read-only write fault: error present|write|user",
    Faults.count == 1 && Faults.vector == 14 && Faults.error == 7
      && Faults.address == windowAddress(43) + 16)
  expectTrue(
    "read-only write fault: upgraded and resumed",
    bindingField(0, 43, .rights) == rw.rawValue && loadWord(windowAddress(43) + 16) == 77)

  // Downgrading must invalidate the TLB: the next write faults.
  Faults.reset(.protect)
  storeWord(windowAddress(43) + 16, 78)
  expectEqual("a writable binding does not fault", Faults.count, 0)
  _ = Kernel.pageProtect(me, slot: 43, rights: ro)
  storeWord(windowAddress(43) + 16, 79)
  Faults.mode = .unexpected
  expectTrue(
    "after pageProtect to read-only a write faults", Faults.count == 1 && Faults.error == 7)

  // Unmapping must invalidate the TLB: the old page is gone.
  storeWord(windowAddress(42), 0xAB)
  expectEqual("write through slot 42", loadWord(windowAddress(42)), 0xAB)
  _ = Kernel.pageUnmap(me, slot: 42)
  Faults.reset(.map)
  Faults.fixPage = fp + 7
  let w = loadWord(windowAddress(42))
  Faults.mode = .unexpected
  expectTrue(
    "after pageUnmap the slot faults and maps the new page",
    Faults.count == 1 && Faults.error == 4 && w == 0)

  // Execution: a binding without execute is no-execute.
  _ = Kernel.pageMap(me, memory: cap(2), page: page(8), slot: 44, rights: rw)
  storeWord(windowAddress(44), 0xC3)  // ret
  Faults.reset(.emulateReturn)
  callAt(windowAddress(44))
  Faults.mode = .unexpected
  expectTrue(
    "executing a no-execute binding faults: present|user|fetch",
    Faults.count == 1 && Faults.vector == 14 && Faults.error == 0x15
      && Faults.address == windowAddress(44) && Faults.rip == windowAddress(44))
  expectSuccess(
    "protect the page read-execute", Kernel.pageProtect(me, slot: 44, rights: [.read, .execute]))
  Faults.reset(.unexpected)
  callAt(windowAddress(44))
  expectEqual("an executable binding runs", Faults.count, 0)

  for s in [40, 42, 43, 44, 45] as [UInt64] { _ = Kernel.pageUnmap(me, slot: s) }
  expectSuccess("delete the scratch pages", Kernel.capabilityDelete(cap(2)))

  // Faults in children.
  if let c = probe(.readKernel) {
    expectDelivered(
      "reading kernel memory faults to the handler", c, vector: 14, error: 5, address: 0x10_0000)
    reap(c)
  }
  if let c = probe(.writeKernel) {
    expectDelivered(
      "writing kernel memory faults to the handler", c, vector: 14, error: 7, address: 0x10_0000)
    reap(c)
  }
  let currentWord = UserLayout.infoBase + 8 * InfoHeader.current.rawValue
  if let c = probe(.writeInfo) {
    expectDelivered(
      "writing the info area faults to the handler", c, vector: 14, error: 7, address: currentWord)
    expectEqual("the info area is unchanged", KernelInfo[header: .current], 0)
    reap(c)
  }
  if let c = probe(.executeInfo) {
    expectDelivered(
      "executing the info area faults", c, vector: 14, error: 0x15, address: UserLayout.infoBase)
    reap(c)
  }
  if let c = probe(.executeStack) {
    expectDelivered(
      "executing the stack faults", c, vector: 14, error: 0x15, address: UserLayout.stackTop - 4096)
    reap(c)
  }
  let text = entryAddress(childExit)
  let textWord = loadWord(text)
  if let c = probe(.writeText) {
    expectDelivered(
      "writing the shared program text faults", c, vector: 14, error: 7, address: text)
    expectEqual("the shared text is unchanged", loadWord(text), textWord)
    reap(c)
  }
  if let c = probe(.readNonCanonical) {
    expectDelivered(
      "a non-canonical address is a general protection fault", c, vector: 13, error: 0, address: 0)
    reap(c)
  }
  if let c = probe(.invalidOpcode) {
    expectDelivered("an invalid opcode is delivered", c, vector: 6, error: 0, address: 0)
    reap(c)
  }
  if let c = probe(.readUnmappedWindow) {
    expectDelivered(
      "an unmapped window slot faults to the handler", c, vector: 14, error: 4,
      address: windowAddress(50))
    expectEqual(
      "the frame is just below the child's handler stack", c.word(Box.frame),
      childHandlerStack - ExceptionFrame.size)
    reap(c)
  }

  // Undeliverable faults stop the environment, not the kernel.
  if let c = probe(.readUnmappedWindow, handler: false, ChildOptions(handler: false)) {
    expectTrue(
      "no handler: the environment is stopped",
      c.state == .stopped && c.word(2) == 1 && c.word(3) == 0 && c.word(Box.faults) == 0)
    c.box[Box.parameter] = 33
    expectSuccess(
      "a stopped faulting environment can be restarted",
      Kernel.environmentStart(
        c.id, via: c.envCap, rip: entryAddress(childExit), rsp: UserLayout.stackTop - 8))
    run(c)
    expectTrue("the restarted environment runs and exits", c.state == .dying && c.exitStatus == 33)
    reap(c)
  }
  if let c = probe(.readUnmappedWindow, ChildOptions(handlerStack: windowAddress(100))) {
    expectTrue(
      "handler stack unmapped: the environment is stopped",
      c.state == .stopped && c.word(2) == 1 && c.word(3) == 0 && c.word(Box.faults) == 0)
    reap(c)
  }
  if let c = probe(.readUnmappedWindow, ChildOptions(stackRights: ro)) {
    expectTrue(
      "handler stack read-only: the environment is stopped",
      c.state == .stopped && c.word(2) == 1 && c.word(3) == 0 && c.word(Box.faults) == 0)
    reap(c)
  }
  if let c = probe(.readUnmappedWindow, ChildOptions(handlerStack: 0)) {
    expectTrue(
      "no handler stack: the environment is stopped",
      c.state == .stopped && c.word(2) == 1 && c.word(3) == 0 && c.word(Box.faults) == 0)
    reap(c)
  }
  if let c = probe(.readKernel, handler: false, ChildOptions(handler: false)) {
    expectTrue(
      "reading kernel memory without a handler stops the environment",
      c.state == .stopped && c.word(2) == 1 && c.word(3) == 0)
    reap(c)
  }
}
