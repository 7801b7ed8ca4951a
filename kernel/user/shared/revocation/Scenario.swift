import ExoABI
import ExoUser

// A revocation scenario (docs/ABI.md "Revocation"), shared by the rev*
// programs. Environment 0 is the resource manager; environment 1, its
// child, is the libOS under test. The child owns three runs of two pages
// (page indices 100–105 from firstPage; root capabilities 20, 21, 22) and
// maps them in window slots 0–5; slots 4 and 5 are its handler stack, which
// its upcalls run on. The manager asks for 3 pages within a deadline, waits
// until the request has ended (or the child can no longer run), and prints
// the exported revocation state in one `REVSTATE` line that the host test
// compares with the spec run of the same scenario.

// Each rev* program defines what its child's libOS does (the child runs a
// fresh copy of the program, so this must not be state set at run time):
//   `childHasExceptionHandler`: whether the child registers an exception
//     handler (without one, a fault stops it);
//   `childUpcall(reason, a, b)`: runs in the child on each upcall;
//   `managerAfterRequest()`: runs in the manager right after its request.

enum Scenario {
  static let child = EnvironmentID(rawValue: 1)
  static let childCap = CapabilitySlot(rawValue: 10)
  static let firstIndex: UInt64 = 100
  static let runs: [CapabilitySlot] = [20, 21, 22].map { CapabilitySlot(rawValue: $0) }
  static let asked: UInt64 = 3
  static let deadline: UInt64 = 100

  static func page(_ i: UInt64) -> PageNumber { PageNumber(rawValue: KernelInfo.firstPage + i) }

  /// Runs the manager's side. With `pressure`, the manager does not call
  /// `revocationRequest`: it takes every other free page, then asks for the
  /// child's first run, and the kernel's memory pressure makes the request.
  static func run(pressure: Bool = false) -> Never {
    setUp()
    if pressure {
      exhaustMemory()
    } else {
      let r = Kernel.revocationRequest(child, via: childCap, count: asked, ticks: deadline)
      let due = KernelInfo[revocation: 1, .deadline]
      print(
        "manager: revocationRequest(1, count \(asked), \(deadline) ticks) -> \(describe(r)), deadline tick \(due)"
      )
    }
    managerAfterRequest()
    let start = Kernel.ticks()
    while KernelInfo[revocation: 1, .phase] != RevocationPhase.none.rawValue
      && Kernel.ticks() < start + 1000
    {
      _ = Kernel.yield()
    }
    print("manager: the request ended at tick \(Kernel.ticks())")
    // Let the child see its last upcall before the state is printed.
    for _ in 0..<5 where KernelInfo.state(1) == .runnable { _ = Kernel.yieldTo(child) }
    printState()
    teardown()
    Kernel.exit(0)
  }

  /// Creates, starts and gives a slice to the child, and waits until it
  /// has set itself up.
  static func setUp() {
    let entry = unsafeBitCast(childMain as @convention(c) () -> Void, to: UInt64.self)
    require("environmentCreate", Kernel.environmentCreate(child, capability: childCap))
    require(
      "environmentStart",
      Kernel.environmentStart(child, via: childCap, rip: entry, rsp: UserLayout.stackTop - 8))
    require("sliceAllocate", Kernel.sliceAllocate(1, for: child, via: childCap))
    var tries = 0
    while KernelInfo[environment: 1, .upcall] == 0 && tries < 1000 {
      _ = Kernel.yieldTo(child)
      tries += 1
    }
    guard KernelInfo[environment: 1, .upcall] != 0 else {
      print("manager: the child did not set up")
      Kernel.exit(1)
    }
    print("manager: environment 1 holds pages 100-105 in three runs")
  }

  /// Takes every page except the child's in runs of up to maximumRun
  /// (capability slots from 30), then asks for the child's first run.
  static func exhaustMemory() {
    let pages = UInt64(KernelInfo.layout.bounds.pages)
    let run = UInt64(KernelInfo.layout.bounds.maximumRun)
    var slot: UInt32 = 30
    var i: UInt64 = 0
    while i < pages {
      if i >= firstIndex && i < firstIndex + 6 {
        i = firstIndex + 6
        continue
      }
      let count = min(run, i < firstIndex ? firstIndex - i : pages - i)
      require(
        "pageAllocate",
        Kernel.pageAllocate(page(i), count: count, capability: CapabilitySlot(rawValue: slot)))
      slot += 1
      i += count
    }
    print("manager: took every free page (\(slot - 30) runs)")
    let r = Kernel.pageAllocate(
      page(firstIndex), count: 2, capability: CapabilitySlot(rawValue: slot))
    print("manager: pageAllocate(100, 2) -> \(describe(r)); the kernel asks environment 1")
  }

  static func require(_ what: String, _ r: SyscallResult) {
    guard r.status == 0 else {
      print("manager: \(what) failed: \(describe(r))")
      Kernel.exit(1)
    }
  }

  static func describe(_ r: SyscallResult) -> String {
    r.status == 0 ? "ok \(r.value)" : "\(ExoError(rawValue: r.status).name)"
  }

  /// The exported state of the scenario, one parseable line: the child's
  /// revocation record (without the deadline, which depends on real time),
  /// its vector as page indices, the owner of each of its pages, its state.
  static func printState() {
    var line = "REVSTATE"
    let fields: [(String, RevocationField)] = [
      ("phase", .phase), ("requested", .requested), ("returned", .returned), ("held", .held),
      ("repossessed", .repossessed),
    ]
    for (name, field) in fields { line += " \(name)=\(KernelInfo[revocation: 1, field])" }
    let n = KernelInfo[revocation: 1, .repossessed]
    var vector: [String] = []
    for i in 0..<n {
      vector.append("\(KernelInfo[repossession: 1, entry: i] - KernelInfo.firstPage)")
    }
    line += " vector=" + (vector.isEmpty ? "-" : vector.joined(separator: ","))
    var owners: [String] = []
    for i in firstIndex..<(firstIndex + 6) {
      let owner = KernelInfo[page: page(i).rawValue, .owner]
      owners.append(owner == none ? "none" : "\(owner)")
    }
    line += " owners=" + owners.joined(separator: ",")
    line += " state=\(KernelInfo[environment: 1, .state])"
    print(line)
  }

  /// Destroys (if live) and reclaims the child.
  static func teardown() {
    let state = KernelInfo.state(1)
    if state == .runnable || state == .stopped || state == .waiting {
      require("environmentDestroy", Kernel.environmentDestroy(child, via: childCap))
    }
    var steps = 0
    while Kernel.environmentReclaim(child).value == 1 && steps < 100_000 { steps += 1 }
    guard KernelInfo.state(1) == .free else {
      print("manager: the child was not reclaimed")
      Kernel.exit(1)
    }
  }
}

/// The child: takes its pages, maps them, registers its entries, then
/// loops, yielding.
@_cdecl("exo_revocation_child")
func childMain() {
  let me = Scenario.child
  for (i, run) in Scenario.runs.enumerated() {
    let first = Scenario.firstIndex + UInt64(i) * 2
    guard Kernel.pageAllocate(Scenario.page(first), count: 2, capability: run).status == 0 else {
      print("child: pageAllocate failed")
      Kernel.exit(1)
    }
    for j in UInt64(0)..<2 {
      let slot = UInt64(i) * 2 + j
      _ = Kernel.pageMap(
        me, memory: run, page: Scenario.page(first + j), slot: slot, rights: [.read, .write])
    }
  }
  Upcalls.upcallHandler = { reason, a, b in childUpcall(reason, a, b) }
  let handler = childHasExceptionHandler ? Upcalls.exceptionEntry : 0
  _ = Kernel.environmentSetEntries(
    me, handler: handler, handlerStack: UserLayout.windowBase + 6 * 4096,
    upcall: Upcalls.exceptionEntry, callEntry: 0)
  while true { _ = Kernel.yield() }
}

/// The repossession vector as page indices, for the child's messages.
func childVector() -> String {
  var entries: [String] = []
  for i in 0..<KernelInfo[revocation: 1, .repossessed] {
    entries.append("\(KernelInfo[repossession: 1, entry: i] - KernelInfo.firstPage)")
  }
  return entries.joined(separator: ",")
}

/// The upcall of a child that ignores every request: it reports what it is
/// asked and, after the abort, what the repossession vector holds.
func ignoringChildUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  switch reason {
  case .revocationRequest:
    print("child: upcall revocationRequest(count \(a), deadline tick \(b)): ignored")
  case .repossession:
    print("child: upcall repossession(\(a) pages taken, \(b) asked): vector [\(childVector())]")
  default: break
  }
}
