import ExoABI
import ExoProofs
import ExoSpec
import LibOS
import LibOSHost

/// One step of a random workload, run by whichever environment is current
/// when it comes up (every environment runs the same interpreter over one
/// shared list).
enum Step: Equatable, CustomStringConvertible {
  case allocate(slot: Int)
  case write(slot: Int, word: Int, value: UInt64)
  case read(slot: Int, word: Int)
  case unmap(slot: Int)
  case protect(slot: Int, writable: Bool)
  case demand(slot: Int)
  case fork
  case exit
  /// yieldTo the `k`-th runnable environment.
  case switchTo(Int)
  /// RPC to the `k`-th child.
  case rpc(Int)
  case yield
  /// A new user-level thread that runs the interpreter too.
  case spawn
  case threadYield
  /// A revocation request (a resource manager's) to the `k`-th child for
  /// `count` pages within `ticks` ticks.
  case request(child: Int, count: Int, ticks: Int)
  /// Memory pressure: the kernel asks this environment for `count` pages;
  /// `ignored`: its libOS ignores the request, and the abort takes them.
  case pressure(count: Int, ignored: Bool)

  /// How many kinds ``init(kind:a:b:)`` decodes.
  static let kinds = 25

  /// Decodes a generated triple; the kinds are weighted by repetition.
  init(kind: Int, a: Int, b: Int) {
    let slot = a % 6
    switch kind % Step.kinds {
    case 0, 1: self = .allocate(slot: slot)
    case 2, 3, 4, 5: self = .write(slot: slot, word: b % 4, value: UInt64(b) + 1)
    case 6, 7, 8: self = .read(slot: slot, word: b % 4)
    case 9: self = .unmap(slot: slot)
    case 10: self = .protect(slot: slot, writable: b % 2 == 0)
    case 11: self = .demand(slot: slot)
    case 12, 13: self = .fork
    case 14: self = .exit
    case 15, 16: self = .switchTo(a)
    case 17, 18: self = .rpc(a)
    case 19: self = .yield
    case 20: self = .spawn
    case 21: self = .threadYield
    case 22: self = .request(child: a, count: 1 + b % 4, ticks: 1 + b % 7)
    case 23: self = .pressure(count: 1 + b % 3, ignored: false)
    default: self = .pressure(count: 1 + b % 3, ignored: true)
    }
  }

  var description: String {
    switch self {
    case .allocate(let s): "allocate(\(s))"
    case .write(let s, let w, let v): "write(\(s), \(w), \(v))"
    case .read(let s, let w): "read(\(s), \(w))"
    case .unmap(let s): "unmap(\(s))"
    case .protect(let s, let w): "protect(\(s), \(w ? "rw" : "r"))"
    case .demand(let s): "demand(\(s))"
    case .fork: "fork"
    case .exit: "exit"
    case .switchTo(let k): "switchTo(\(k))"
    case .rpc(let k): "rpc(\(k))"
    case .yield: "yield"
    case .spawn: "spawn"
    case .threadYield: "threadYield"
    case .request(let k, let c, let t): "request(\(k), \(c), \(t))"
    case .pressure(let c, let ignored): "pressure(\(c)\(ignored ? ", ignored" : ""))"
    }
  }
}

struct Coverage: Equatable {
  var forks = 0, faults = 0, reads = 0, rpcs = 0, environments = 0, threads = 0,
    threadSwitches = 0, ticks: UInt64 = 0
  /// Revocation: requests answered, pages given back, pages repossessed,
  /// slots whose written data was lost, upcalls delivered.
  var answered = 0, returned = 0, repossessed = 0, lost = 0, upcalls = 0

  static func += (a: inout Coverage, b: Coverage) {
    a.forks += b.forks
    a.faults += b.faults
    a.reads += b.reads
    a.rpcs += b.rpcs
    a.environments += b.environments
    a.threads += b.threads
    a.threadSwitches += b.threadSwitches
    a.ticks += b.ticks
    a.answered += b.answered
    a.returned += b.returned
    a.repossessed += b.repossessed
    a.lost += b.lost
    a.upcalls += b.upcalls
  }
}

/// What every environment's memory should hold: slot → word → value
/// (a missing word is 0).
typealias Shadow = [Int: [Int: UInt64]]

/// Runs a workload on a simulated machine and checks the libOS's
/// properties as it goes; `failures` says what broke.
final class Workload {
  static let bounds = Bounds(
    environments: 6, pages: 64, capabilities: 64, windowSlots: 24, slices: 4, maximumDepth: 3,
    maximumRun: 16)

  let steps: [Step]
  let plantedBug: PlantedBug?
  var cursor = 0
  var failures: [String] = []
  /// The expected contents of each live environment's window.
  var shadows: [UInt64: Shadow] = [:]
  /// A parent's shadow at each fork, passed to the child by the fork's
  /// argument.
  var snapshots: [Shadow] = []
  /// Per (server, caller): the messages whose RPC returned success, and the
  /// messages the server's handler saw.
  var sent: [String: [UInt64]] = [:]
  var received: [String: [UInt64]] = [:]
  var nextMessage: UInt64 = 1
  var finished = false
  /// What the workload exercised: forks, faults the libOS resolved, reads
  /// checked, RPCs delivered, environments that ran.
  var coverage = Coverage()
  var machine: Machine? = nil
  /// Each running environment's libOS (a resource manager's view of how
  /// many program pages a child holds).
  var libOSes: [UInt64: LibOS<SimulatedKernel>] = [:]
  /// Per environment, the slots whose contents are not known (a fork child
  /// of a parent that lost pages in the middle of the fork): reads of them
  /// are not checked until the slot is given a fresh page.
  var unknown: [UInt64: Set<Int>] = [:]
  /// The snapshots of forks during which the parent lost pages.
  var unknownSnapshots: Set<Int> = []
  /// Machine violations already reported.
  var violationsSeen = 0
  /// Broken theorems reported (the first few only).
  var auditFailures = 0

  init(steps: [Step], plantedBug: PlantedBug? = nil) {
    self.steps = steps
    self.plantedBug = plantedBug
  }

  /// Runs the workload with a slice end every `tickEvery` operations (0:
  /// none); returns the failures.
  /// With `auditing`, every step of a call or kernel event is checked
  /// against every theorem exoverify proves (``TheoremAudit``; about 30
  /// times the cost of the run in a debug build).
  func run(tickEvery: Int, checkingInvariants: Bool = false, auditing: Bool = false) -> [String] {
    let machine = Machine(
      bounds: Workload.bounds, tickEvery: tickEvery, operationLimit: 400_000
    ) { [self] kernel in
      LibOS.start(kernel: kernel, name: "workload") { os, start throws(ExoError) in
        try self.environment(os, start)
      }
    }
    self.machine = machine
    if checkingInvariants {
      // The spec's invariants (proved by exoverify) hold in the states the
      // libOS drives the kernel through: every 250th, and the last.
      machine.observer = { [self] machine, transition in
        if machine.transitions % 250 == 0 { checkInvariants(machine, after: "\(transition)") }
      }
    }
    if auditing {
      // Every step of a call or a kernel event keeps every theorem
      // exoverify proves (at these bounds: runs of 16 pages, 24 slots).
      machine.stepAudit = { [self] transition, arguments, result, pre, post in
        guard auditFailures < 3,
          let broken = TheoremAudit.brokenTheorem(
            transition, arguments, result, pre: pre, post: post)
        else { return }
        auditFailures += 1
        failures.append("step \(cursor): \(broken)")
      }
    }
    let ending = machine.run()
    if checkingInvariants { checkInvariants(machine, after: "the end") }
    failures.append(contentsOf: machine.violations.dropFirst(violationsSeen))
    coverage.upcalls = machine.upcallsDelivered.values.reduce(0, +)
    if ending != .idle { failures.append("the machine ended with \(ending)") }
    if !finished { failures.append("environment 0 did not finish the workload") }
    for line in machine.console.split(separator: "\n")
    where line.contains("unhandled") || line.contains("DEBUG") || line.contains("failed")
      || line.contains("stopped")
    {
      failures.append(String(line))
    }
    self.machine = nil
    return failures
  }

  func checkInvariants(_ machine: Machine, after: String) {
    for invariant in Invariant.allCases where !invariant.holds(in: machine.spec) {
      failures.append("after \(after): invariant \(invariant) broken")
    }
  }

  func fail(_ os: LibOS<SimulatedKernel>, _ text: String) {
    failures.append("step \(cursor) (environment \(os.me)): \(text)")
  }

  /// The interpreter every environment runs.
  func environment(_ os: LibOS<SimulatedKernel>, _ start: ForkStart?) throws(ExoError) -> UInt64 {
    os.plantedBug = plantedBug
    let me = os.me
    shadows[me] = start.map { snapshots[Int($0.argument)] } ?? [:]
    unknown[me] = []
    if let start, unknownSnapshots.contains(Int(start.argument)) {
      unknown[me] = Set(0..<os.userSlots)
    }
    // A slot whose written data the kernel took reads as zeros from now on.
    os.lostHook = { [self] s in
      shadows[me]?[s] = [:]
      unknown[me]?.remove(s)
    }
    libOSes[me] = os
    os.serve { [self] caller, message in
      received["\(me)<-\(caller)", default: []].append(message.m0)
      return Message(message.m0 &+ 1)
    }
    checkView(os)
    interpret(os, exitAllowed: me != 0)
    os.joinAll()
    try os.reapAll()
    coverage.faults += os.faultsHandled
    coverage.threadSwitches += os.threadSwitches
    coverage.answered += os.revocationsAnswered
    coverage.returned += os.pagesReturned
    coverage.repossessed += os.pagesRepossessed
    coverage.lost += os.lostSlots
    coverage.environments += 1
    if me == 0 {
      coverage.ticks = machine?.spec.tickCount ?? 0
      os.collect()
      checkNothingLeaks(os)
      finished = true
    }
    shadows[me] = nil
    libOSes[me] = nil
    return 0
  }

  /// Runs steps until the list ends or an `exit` step ends this thread (or
  /// this environment, when it is not environment 0's first thread).
  func interpret(_ os: LibOS<SimulatedKernel>, exitAllowed: Bool) {
    while cursor < steps.count {
      // Another thread may run here, not between a step's checks and its
      // accesses: the revocation point first, since its system calls are
      // operations at which a slice may end, and a slice end noted after
      // the preemption point would switch threads at the step's first
      // access, after its checks.
      os.revocationPoint()
      os.preemptionPoint()
      guard cursor < steps.count else { break }
      let step = steps[cursor]
      cursor += 1
      if step == .exit && exitAllowed { break }
      perform(step, os)
      checkView(os)
    }
  }

  func freePages() -> Int {
    machine?.spec.pages.owner.filter { $0 == none }.count ?? 0
  }

  func perform(_ step: Step, _ os: LibOS<SimulatedKernel>) {
    let me = os.me
    switch step {
    case .allocate(let s):
      guard os.slots[s].page == none, freePages() > 8 else { return }
      if (try? os.allocate(slot: s)) != nil {
        shadows[me]?[s] = [:]
        unknown[me]?.remove(s)
      }
    case .write(let s, let w, let v):
      let record = os.slots[s]
      let writable =
        record.page != none ? record.rights.contains(.write) : record.demand
      guard writable, freePages() > 8 else { return }
      os.store(slot: s, word: w, v)
      shadows[me]?[s, default: [:]][w] = v
    case .read(let s, let w):
      let record = os.slots[s]
      guard record.page != none || (record.demand && freePages() > 8) else { return }
      let value = os.load(slot: s, word: w)
      coverage.reads += 1
      let expected = shadows[me]?[s]?[w] ?? 0
      if value != expected && !(unknown[me]?.contains(s) ?? false) {
        fail(os, "slot \(s) word \(w) reads \(value), expected \(expected)")
      }
      if record.page == none {
        shadows[me]?[s] = [:]
        unknown[me]?.remove(s)
      }
    case .unmap(let s):
      let page = os.slots[s].page
      guard page != none else { return }
      do { try os.unmap(slot: s) } catch {
        if !tookMeanwhile(os, page) { fail(os, "unmap(\(s)): error \(error.rawValue)") }
      }
      shadows[me]?[s] = nil
    case .protect(let s, let writable):
      let page = os.slots[s].page
      guard page != none else { return }
      let rights: Rights = writable ? [.read, .write] : [.read]
      do { try os.protect(slot: s, rights: rights) } catch {
        if !tookMeanwhile(os, page) { fail(os, "protect(\(s)): error \(error.rawValue)") }
      }
    case .demand(let s):
      guard os.slots[s].page == none else { return }
      os.demand(s..<(s + 1))
    case .fork:
      guard freePages() > 12 else { return }
      snapshots.append(shadows[me] ?? [:])
      let lostBefore = lostCount(me)
      do {
        try os.fork(function: 1, argument: UInt64(snapshots.count - 1))
        coverage.forks += 1
        // Pages taken in the middle of the fork: what the child got of
        // them is not known (the parent's own losses are told to it).
        if lostCount(me) != lostBefore { unknownSnapshots.insert(snapshots.count - 1) }
      } catch {
        // Pages taken in the middle of a fork make it fail; it undoes itself.
        if error != .outOfRange && lostCount(me) == lostBefore {
          fail(os, "fork: error \(error.rawValue)")
        }
      }
    case .exit:
      break
    case .switchTo(let k):
      let runnable = (0..<UInt64(Workload.bounds.environments)).filter {
        os.state($0) == .runnable
      }
      guard !runnable.isEmpty else { return }
      let target = runnable[k % runnable.count]
      if target != me { _ = os.kernel.sys(YieldToArguments(target: target)) }
    case .rpc(let k):
      guard !os.children.isEmpty else { return }
      let child = os.children[k % os.children.count]
      let m = nextMessage
      nextMessage += 1
      do {
        let reply = try os.rpc(child, Message(m), attempts: 50)
        sent["\(child.environment)<-\(me)", default: []].append(m)
        coverage.rpcs += 1
        if reply.m0 != m &+ 1 { fail(os, "rpc \(m) got reply \(reply.m0)") }
      } catch {
        if error != .wrongState && error != .noEntry && error != .busy {
          fail(os, "rpc: error \(error.rawValue)")
        }
      }
    case .yield:
      os.yield()
    case .spawn:
      guard os.threads.count < 4, freePages() > 8 else { return }
      do {
        try os.spawn { [self] in self.interpret(os, exitAllowed: true) }
        coverage.threads += 1
      } catch {
        if error != .outOfRange { fail(os, "spawn: error \(error.rawValue)") }
      }
    case .threadYield:
      os.threadYield()
    case .request(let k, let count, let ticks):
      // Revocation needs time to pass: without slice ends no deadline
      // comes, and a request the libOS cannot meet would stay pending.
      guard !os.children.isEmpty, (machine?.tickEvery ?? 0) > 0 else { return }
      let child = os.children[k % os.children.count]
      // A manager asks a libOS that can hear it (one that registered its
      // upcall entry), not a child still reading its fork record.
      guard os.environment(child.environment, .upcall) != 0 else { return }
      // At most the program's own pages: more would take the libOS's.
      let count = min(count, programPages(child.environment))
      guard count > 0 else { return }
      let result = os.kernel.sys(
        RevocationRequestArguments(
          target: child.environment, envCap: child.capability, count: UInt64(count),
          ticks: UInt64(ticks)))
      if let error = result.error, error != .busy, error != .wrongState {
        fail(os, "revocationRequest: error \(error.rawValue)")
      }
    case .pressure(let count, let ignored):
      let count = min(count, programPages(me))
      guard let machine, machine.tickEvery > 0, count > 0 else { return }
      os.ignoresRequests = ignored ? 1 : 0
      machine.raisePressure(on: me, count: UInt64(count))
    }
  }

  /// The pages environment `e` owns for its program (root capabilities of
  /// its program slots), not its libOS's stacks and records.
  func programPages(_ e: UInt64) -> Int {
    guard let os = libOSes[e] else { return 0 }
    return os.slots.prefix(os.userSlots).filter {
      $0.page != none && !$0.isPrivate && os.capability($0.capability, .owner) == e
        && os.capability($0.capability, .parent) == none
    }.count
  }

  /// Whether the kernel took `page` from this environment (so a call on
  /// its slot may find it gone).
  func tookMeanwhile(_ os: LibOS<SimulatedKernel>, _ page: UInt64) -> Bool {
    machine?.takenPages[Int(os.me)][page] != nil
  }

  /// How many times this environment lost something to revocation so far.
  func lostCount(_ e: UInt64) -> Int {
    machine?.lossEvents[Int(e)] ?? 0
  }

  /// The libOS's view of its window, once it has reconciled it with what
  /// the kernel took (as it does at every revocation point), agrees with
  /// the kernel's bindings, and no slot record names a page or a
  /// capability this environment lost to revocation.
  func checkView(_ os: LibOS<SimulatedKernel>) {
    os.reconcileWithKernel()
    if let machine {
      for s in 0..<os.bounds.windowSlots where os.slots[s].page != none {
        let record = os.slots[s]
        if machine.takenPages[Int(os.me)][record.page] != nil
          || machine.takenCapabilities[Int(os.me)][record.capability] != nil
        {
          fail(
            os,
            "slot \(s) still names page \(record.page), capability \(record.capability), repossessed or given back"
          )
          return
        }
      }
      if machine.violations.count > violationsSeen {
        fail(os, machine.violations[violationsSeen])
        violationsSeen = machine.violations.count
        return
      }
    }
    for s in 0..<os.bounds.windowSlots {
      let record = os.slots[s]
      let page = os.binding(os.me, s, .page)
      guard record.page == page else {
        fail(os, "slot \(s): the libOS has page \(record.page), the kernel \(page)")
        return
      }
      guard page != none else { continue }
      let capability = os.binding(os.me, s, .capability)
      let rights = Rights(rawValue: os.binding(os.me, s, .rights))
      if record.capability != capability || record.boundRights != rights {
        fail(
          os,
          "slot \(s): the libOS has capability \(record.capability) rights \(record.boundRights.rawValue), the kernel \(capability) \(rights.rawValue)"
        )
        return
      }
    }
  }

  /// After every child is reaped: environment 0 alone remains, every page
  /// in use is one it maps, every capability one its window uses, and
  /// every RPC that returned was served exactly once, in order.
  func checkNothingLeaks(_ os: LibOS<SimulatedKernel>) {
    guard let spec = machine?.spec else { return }
    for e in 1..<Workload.bounds.environments
    where spec.environments.state[e] != EnvironmentState.free.rawValue {
      fail(os, "environment \(e) is still \(spec.environments.state[e])")
    }
    let mapped = Set(os.slots.map(\.page).filter { $0 != none })
    let owned = spec.pages.owner.indices.filter { spec.pages.owner[$0] != none }.map {
      spec.firstPage + UInt64($0)
    }
    let leaked = Set(owned).subtracting(mapped)
    if !leaked.isEmpty { fail(os, "pages owned but not mapped: \(leaked.sorted())") }
    let used = Set(os.slots.map(\.capability).filter { $0 != none })
    for c in spec.capabilities.kind.indices
    where spec.capabilities.kind[c] != CapabilityKind.empty.rawValue && !used.contains(UInt64(c)) {
      fail(os, "capability \(c) is held but unused")
    }
    if sent != received {
      fail(os, "RPC: returned \(sent), served \(received)")
    }
  }
}
