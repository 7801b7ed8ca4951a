import ExoABI
import ExoUser

/// The selftest's harness: counts passes and failures and prints one
/// `FAIL <label>: ...` line per failure.
enum Tally {
  nonisolated(unsafe) static var passed = 0
  nonisolated(unsafe) static var failed = 0
}

/// The name of a raw status word: `success` or the `ExoError` name.
func statusName(_ status: UInt64) -> StaticString {
  status == 0 ? "success" : ExoError(rawValue: status).name
}

func pass() { Tally.passed += 1 }

func fail() { Tally.failed += 1 }

/// A fingerprint of every table of the exported state: environments,
/// slices, pages, capabilities and bindings. The header is left out: its
/// `ticks`, `current` and `currentSlice` move with the timer.
@inline(never)
func tablesDigest() -> UInt64 {
  let layout = KernelInfo.layout
  let words = UnsafePointer(UserMemory.pointer(UserLayout.infoBase, to: UInt64.self))
  var h: UInt64 = 0xcbf2_9ce4_8422_2325
  var i = layout.environmentsOffset / 8
  let end = layout.size / 8
  while i < end {
    h = (h ^ words[i]) &* 0x100_0000_01b3
    i += 1
  }
  return h
}

/// A call that must fail with `error` and leave every table unchanged.
func expect(_ label: StaticString, _ error: ExoError, _ call: () -> SyscallResult) {
  let before = tablesDigest()
  let r = call()
  judgeDenial(label, error, r, changed: before != tablesDigest())
}

/// The verdict of `expect`, out of line so that the closure-specialized
/// copies of `expect` stay small.
@inline(never)
func judgeDenial(_ label: StaticString, _ error: ExoError, _ r: SyscallResult, changed: Bool) {
  if r.status != error.rawValue {
    print("FAIL \(label): got \(statusName(r.status)) expected \(error.name)")
    fail()
  } else if r.value != 0 {
    print("FAIL \(label): got \(error.name) with value \(r.value) expected value 0")
    fail()
  } else if changed {
    print(
      "FAIL \(label): got \(error.name) expected \(error.name) and no change, but the tables changed"
    )
    fail()
  } else {
    pass()
  }
}

/// A call that must succeed with `value`.
@inline(never)
func expectSuccess(_ label: StaticString, _ r: SyscallResult, value: UInt64 = 0) {
  if r.status != 0 {
    print("FAIL \(label): got \(statusName(r.status)) expected success")
    fail()
  } else if r.value != value {
    print("FAIL \(label): got success value \(r.value) expected value \(value)")
    fail()
  } else {
    pass()
  }
}

/// A status word (reported by a child, or a `Result`) that must be
/// `expected` (`nil`: success).
@inline(never)
func expectStatus(_ label: StaticString, _ status: UInt64, _ expected: ExoError?) {
  let want = expected?.rawValue ?? 0
  if status != want {
    print("FAIL \(label): got \(statusName(status)) expected \(statusName(want))")
    fail()
  } else {
    pass()
  }
}

@inline(never)
func expectEqual(_ label: StaticString, _ got: UInt64, _ expected: UInt64) {
  if got != expected {
    print("FAIL \(label): got \(got) expected \(expected)")
    fail()
  } else {
    pass()
  }
}

@inline(never)
func expectTrue(_ label: StaticString, _ condition: Bool) {
  if !condition {
    print("FAIL \(label): got false expected true")
    fail()
  } else {
    pass()
  }
}

/// Runs one area and prints its line.
func area(_ name: StaticString, _ body: () -> Void) {
  let (passed, failed) = (Tally.passed, Tally.failed)
  body()
  let p = Tally.passed - passed
  let f = Tally.failed - failed
  print("\(name): \(p + f) checks, \(p) passed, \(f) failed")
}

// MARK: Names for the kernel's tables

let E: UInt64 = 16
let C: UInt64 = 256
let W: UInt64 = 512
let S: UInt64 = 16
let P: UInt64 = 1024

/// Environment 0, the selftest itself.
var me: EnvironmentID { EnvironmentID(rawValue: 0) }

func env(_ e: UInt64) -> EnvironmentID { EnvironmentID(rawValue: UInt32(truncatingIfNeeded: e)) }
func cap(_ c: UInt64) -> CapabilitySlot { CapabilitySlot(rawValue: UInt32(truncatingIfNeeded: c)) }
/// Page index `i` of the pages users allocate.
func page(_ i: UInt64) -> PageNumber { PageNumber(rawValue: KernelInfo.firstPage &+ i) }
func rawPage(_ n: UInt64) -> PageNumber { PageNumber(rawValue: n) }
func address(_ a: UInt64) -> VirtualAddress { VirtualAddress(rawValue: a) }

/// The address of window slot `s`.
func windowAddress(_ s: UInt64) -> UInt64 { UserLayout.windowBase + s * pageSize }
/// Window slot `s` as words.
func windowWords(_ s: UInt64) -> UnsafeMutablePointer<UInt64> {
  UserMemory.pointer(windowAddress(s), to: UInt64.self)
}

func state(_ e: UInt64) -> UInt64 { KernelInfo[environment: e, .state] }
func capField(_ c: UInt64, _ f: CapabilityField) -> UInt64 { KernelInfo[capability: c, f] }
func pageField(_ i: UInt64, _ f: PageField) -> UInt64 {
  KernelInfo[page: KernelInfo.firstPage + i, f]
}
func bindingField(_ e: UInt64, _ s: UInt64, _ f: BindingField) -> UInt64 {
  KernelInfo[binding: e, slot: s, f]
}
func isEmptyCapability(_ c: UInt64) -> Bool {
  capField(c, .kind) == 0 && capField(c, .owner) == none && capField(c, .parent) == none
    && capField(c, .depth) == 0 && capField(c, .rights) == 0 && capField(c, .base) == 0
    && capField(c, .count) == 0 && capField(c, .children) == 0 && capField(c, .bindings) == 0
}
func isFreeEnvironment(_ e: UInt64) -> Bool {
  KernelInfo[environment: e, .state] == EnvironmentState.free.rawValue
    && KernelInfo[environment: e, .parent] == none && KernelInfo[environment: e, .handler] == 0
    && KernelInfo[environment: e, .handlerStack] == 0 && KernelInfo[environment: e, .upcall] == 0
    && KernelInfo[environment: e, .callEntry] == 0 && KernelInfo[environment: e, .caller] == none
    && KernelInfo[environment: e, .exitStatus] == 0
}
func isEmptyBinding(_ e: UInt64, _ s: UInt64) -> Bool {
  bindingField(e, s, .page) == none && bindingField(e, s, .capability) == none
    && bindingField(e, s, .rights) == 0
}
func isFreePage(_ i: UInt64) -> Bool {
  pageField(i, .owner) == none && pageField(i, .root) == none && pageField(i, .mappings) == 0
}

/// No page, capability, binding or slice belongs to environment `e`.
func ownsNothing(_ e: UInt64) -> Bool {
  for i in 0..<P where pageField(i, .owner) == e { return false }
  for c in 0..<C where capField(c, .owner) == e { return false }
  for c in 0..<C
  where capField(c, .kind) == CapabilityKind.environment.rawValue && capField(c, .base) == e {
    return false
  }
  for s in 0..<W where !isEmptyBinding(e, s) { return false }
  for p in 0..<S where KernelInfo[slice: p] == e { return false }
  return true
}

/// Spins (making calls, so the timer can preempt) until `n` more slices
/// have ended.
func waitTicks(_ n: UInt64) {
  let start = Kernel.ticks()
  var spins: UInt64 = 0
  while Kernel.ticks() < start + n && spins < 200_000_000 { spins &+= 1 }
}

/// Loads a word the compiler may not cache (the syscall clobbers memory).
func load(_ p: UnsafeMutablePointer<UInt64>, _ i: Int) -> UInt64 { p[i] }

var rw: Rights { [.read, .write] }
var ro: Rights { [.read] }
