import ExoABI
import ExoUser

// Child environments: every child runs a fresh copy of this program,
// started at one of the `@convention(c)` entries below. Each child k gets
// four pages from environment 0: window slot 0 is a mailbox shared with
// environment 0 (which maps it at window slot 300 + k), slots 1 and 2 its
// handler stack, slot 3 a spare page.
//
// Mailbox words: 0 the parameter, 1 a progress counter, 2... results;
// 8...13 what the recording exception handler saw.

enum Box {
  static let parameter = 0
  static let progress = 1
  static let faults = 8
  static let vector = 9
  static let error = 10
  static let address = 11
  static let rip = 12
  static let frame = 13
  static let rsp = 14
}

/// The child's view of its mailbox.
var childBox: UnsafeMutablePointer<UInt64> {
  UserMemory.pointer(UserLayout.windowBase, to: UInt64.self)
}

/// The top of a child's handler stack (window slots 1 and 2).
var childHandlerStack: UInt64 { UserLayout.windowBase + 3 * 4096 }

func entryAddress(_ f: @convention(c) () -> Void) -> UInt64 { unsafeBitCast(f, to: UInt64.self) }

struct ChildOptions {
  var handler = true
  var callEntry = false
  /// The handler stack to register (0: none).
  var handlerStack = childHandlerStack
  /// Rights of the handler-stack bindings.
  var stackRights: Rights = [.read, .write]
  var start = true
}

/// A child environment of environment 0 and the resources it was given.
struct Child {
  let index: UInt64
  let id: EnvironmentID
  var e: UInt64 { UInt64(id.rawValue) }
  var envCap: CapabilitySlot { cap(200 + index * 4) }
  var rootCap: CapabilitySlot { cap(201 + index * 4) }
  var grantCap: CapabilitySlot { cap(202 + index * 4) }
  /// A slot environment 0 may use for the child's other capabilities.
  var spareCap: CapabilitySlot { cap(203 + index * 4) }
  var firstPageIndex: UInt64 { 512 + index * 4 }
  var mailboxSlot: UInt64 { 300 + index }
  /// Environment 0's view of the mailbox.
  var box: UnsafeMutablePointer<UInt64> { windowWords(mailboxSlot) }
  var state: EnvironmentState { KernelInfo.state(e) }
  var exitStatus: UInt64 { KernelInfo[environment: e, .exitStatus] }
  var caller: UInt64 { KernelInfo[environment: e, .caller] }
  func word(_ i: Int) -> UInt64 { load(box, i) }
}

/// Creates environment `id` as child `index`, gives it its pages and
/// entries, and starts it at `entry` (unless told not to). `nil` if any
/// step failed (counted as a failure).
func spawn(
  _ index: UInt64, _ id: UInt64, _ entry: @convention(c) () -> Void, parameter: UInt64 = 0,
  _ options: ChildOptions = ChildOptions()
) -> Child? {
  let c = Child(index: index, id: env(id))
  var status: UInt64 = 0
  func step(_ r: SyscallResult) { if status == 0 { status = r.status } }
  step(Kernel.environmentCreate(c.id, capability: c.envCap))
  step(Kernel.pageAllocate(page(c.firstPageIndex), count: 4, capability: c.rootCap))
  step(
    Kernel.pageMap(
      me, memory: c.rootCap, page: page(c.firstPageIndex), slot: c.mailboxSlot, rights: rw))
  if status == 0 {
    c.box[Box.parameter] = parameter
  }
  step(
    Kernel.capabilityDerive(
      c.rootCap, child: c.grantCap, rights: [.read, .write, .grant],
      base: page(c.firstPageIndex).rawValue,
      count: 4))
  step(Kernel.capabilityGrant(c.grantCap, to: c.id))
  for s in UInt64(0)..<4 {
    let rights = s == 1 || s == 2 ? options.stackRights : rw
    step(
      Kernel.pageMap(
        c.id, via: c.envCap, memory: c.grantCap, page: page(c.firstPageIndex + s), slot: s,
        rights: rights))
  }
  step(
    Kernel.environmentSetEntries(
      c.id, via: c.envCap, handler: options.handler ? Upcalls.exceptionEntry : 0,
      handlerStack: options.handlerStack, upcall: 0,
      callEntry: options.callEntry ? Upcalls.callEntry : 0))
  if options.start {
    step(
      Kernel.environmentStart(
        c.id, via: c.envCap, rip: entryAddress(entry), rsp: UserLayout.stackTop - 8))
  }
  if status != 0 {
    print("FAIL spawn child \(id): \(statusName(status))")
    fail()
    return nil
  }
  return c
}

/// Donates the CPU to `c` until it is no longer runnable (at most `rounds`
/// donations).
func run(_ c: Child, rounds: Int = 1000) {
  var n = 0
  while c.state == .runnable && n < rounds {
    _ = Kernel.yieldTo(c.id)
    n += 1
  }
}

/// Donates the CPU to the first runnable of `children` until `done` holds
/// (at most `rounds` donations): a donation lasts only for the rest of the
/// current slice, so one may end before the child gets far.
func settle(_ children: [Child], rounds: Int = 1000, until done: () -> Bool) {
  var n = 0
  while !done() && n < rounds {
    for c in children where c.state == .runnable {
      _ = Kernel.yieldTo(c.id)
      break
    }
    n += 1
  }
}

/// Donates the CPU to `c` until its progress word reaches `value`.
func runUntilProgress(_ c: Child, _ value: UInt64) {
  settle([c]) { c.word(Box.progress) >= value }
}

/// Destroys (if live) and reclaims `c`, then takes back environment 0's
/// pages. Returns the number of reclaim steps that returned 1; a teardown
/// that goes wrong counts as a failure.
@discardableResult
func reap(_ c: Child) -> Int {
  if c.state == .runnable || c.state == .stopped || c.state == .waiting {
    _ = Kernel.environmentDestroy(c.id, via: c.envCap)
  }
  var steps = 0
  var last = SyscallResult.success(0)
  if c.state == .dying {
    last = Kernel.environmentReclaim(c.id)
    while last.status == 0 && last.value == 1 && steps < 5000 {
      steps += 1
      last = Kernel.environmentReclaim(c.id)
    }
  }
  var ok = last.status == 0 && last.value == 0 && isFreeEnvironment(c.e)
  ok = ok && Kernel.pageUnmap(me, slot: c.mailboxSlot).status == 0
  var revokes = 0
  while Kernel.capabilityRevoke(c.rootCap).value == 1 && revokes < 1000 { revokes += 1 }
  ok = ok && Kernel.capabilityDelete(c.rootCap).status == 0
  ok = ok && isEmptyCapability(UInt64(c.envCap.rawValue))
  ok = ok && isEmptyCapability(UInt64(c.grantCap.rawValue))
  for i in 0..<UInt64(4) { ok = ok && isFreePage(c.firstPageIndex + i) }
  ok = ok && ownsNothing(c.e)
  if !ok {
    print("FAIL teardown of child \(c.id.rawValue): reclaim \(statusName(last.status))")
    fail()
  }
  return steps
}

// MARK: Code that runs in the children

/// Installs an exception handler that records the frame in the mailbox and
/// exits with 0xE000 + vector.
func installRecorder() {
  Upcalls.exceptionHandler = { frame in
    let b = childBox
    b[Box.faults] = b[Box.faults] &+ 1
    b[Box.vector] = frame[.vector]
    b[Box.error] = frame[.error]
    b[Box.address] = frame[.address]
    b[Box.rip] = frame[.rip]
    b[Box.rsp] = frame[.rsp]
    b[Box.frame] = UInt64(UInt(bitPattern: frame.base))
    Kernel.exit(0xE000 + frame[.vector])
  }
}

/// Exits with the parameter.
func childExit() {
  Kernel.exit(childBox[Box.parameter])
}

/// Counts in word 1 forever, making a call each round.
func childSpinner() {
  let b = childBox
  while true {
    b[Box.progress] = b[Box.progress] &+ 1
    _ = Kernel.ticks()
  }
}

/// Counts in word 1 and yields, forever.
func childYielder() {
  let b = childBox
  while true {
    b[Box.progress] = b[Box.progress] &+ 1
    _ = Kernel.yield()
  }
}
