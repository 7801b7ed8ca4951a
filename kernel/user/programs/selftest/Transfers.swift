import ExoABI
import ExoUser

// Server mailbox words: 2 calls served, 3 asynchronous flag, 4...7 the
// message, 15 the caller, 16 the caller's state, 17 the server's caller
// field, 18 current, 19 progress of a message 998.

/// Serves transfers: replies (m0 + 1, m1 * 2, m2 ^ 0xFF, caller + 0x5000).
/// Message 999 exits with 5 instead; 998 yields once before replying.
func childServer() {
  Upcalls.callHandler = { caller, message, asynchronous in
    let b = childBox
    b[2] = b[2] &+ 1
    b[3] = asynchronous ? 1 : 0
    b[4] = message.m0
    b[5] = message.m1
    b[6] = message.m2
    b[7] = message.m3
    b[15] = caller
    b[16] = caller < 16 ? KernelInfo[environment: caller, .state] : none
    b[17] = KernelInfo[environment: KernelInfo[header: .current], .caller]
    b[18] = KernelInfo[header: .current]
    if message.m0 == 999 { Kernel.exit(5) }
    if message.m0 == 998 {
      b[19] = 1
      _ = Kernel.yield()
      b[19] = 2
    }
    return Message(message.m0 &+ 1, message.m1 &* 2, message.m2 ^ 0xFF, caller &+ 0x5000)
  }
  let b = childBox
  while true {
    b[Box.progress] = b[Box.progress] &+ 1
    _ = Kernel.yield()
  }
}

/// Calls the capability in bits 0..15 of the parameter with m0 = bits
/// 32..; first calls the capability in bits 16..31 unless they are 0xFFFF
/// (one naming itself).
/// Records status and reply in words 2...7, exits with 0x77.
func childClient() {
  let b = childBox
  let p = b[Box.parameter]
  if (p >> 16) & 0xFFFF != 0xFFFF {
    b[7] = Kernel.call(cap((p >> 16) & 0xFFFF), Message(1)).failureStatus
  }
  switch Kernel.call(cap(p & 0xFFFF), Message(p >> 32, 3, 4, 5)) {
  case .success(let m):
    b[2] = 0
    (b[3], b[4], b[5], b[6]) = (m.m0, m.m1, m.m2, m.m3)
  case .failure(let e):
    b[2] = e.rawValue
  }
  Kernel.exit(0x77)
}

extension Result where Success == Message, Failure == ExoError {
  var failureStatus: UInt64 {
    switch self {
    case .success: return 0
    case .failure(let e): return e.rawValue
    }
  }
  var asSyscallResult: SyscallResult {
    switch self {
    case .success(let m): return .success(m.m0)
    case .failure(let e): return .failure(e)
    }
  }
}

func callResult(_ c: CapabilitySlot, _ m: Message = Message()) -> SyscallResult {
  Kernel.call(c, m).asSyscallResult
}

func transferTests() {
  guard let s = spawn(0, 6, childServer, ChildOptions(callEntry: true)) else { return }
  runUntilProgress(s, 1)
  expectEqual("the server set up and yielded", s.word(Box.progress), 1)

  // Denials.
  expect("call: slot out of range", .outOfRange) { callResult(cap(256)) }
  expect("call: huge slot", .outOfRange) {
    Kernel.call(CallArguments(capability: 1 << 40, m0: 1, m1: 2, m2: 3, m3: 4))
  }
  expect("call: empty capability", .invalidCapability) { callResult(cap(96)) }
  expect("call: memory capability", .invalidCapability) { callResult(cap(1)) }
  expect("send: memory capability", .invalidCapability) { Kernel.send(cap(1), Message()) }
  expectSuccess(
    "derive a control-only capability for the server",
    Kernel.capabilityDerive(s.envCap, child: cap(90), rights: [.control], base: s.e, count: 1))
  expect("call: capability without the call right", .insufficientRights) { callResult(cap(90)) }
  expect("send: capability without the call right", .insufficientRights) {
    Kernel.send(cap(90), Message())
  }
  expectSuccess(
    "derive a call capability and grant it to the server",
    Kernel.capabilityDerive(s.envCap, child: cap(91), rights: [.call, .grant], base: s.e, count: 1))
  expectSuccess("grant it to the server", Kernel.capabilityGrant(cap(91), to: s.id))
  expect("call: a capability held by the callee", .invalidCapability) { callResult(cap(91)) }
  expect("reply: no transfer to reply to", .wrongState) { Kernel.reply(Message(1, 2, 3, 4)) }

  let windowEnd = childHandlerStack
  _ = Kernel.environmentSetEntries(
    s.id, via: s.envCap, handler: Upcalls.exceptionEntry, handlerStack: windowEnd, upcall: 0,
    callEntry: 0)
  expect("call: no call entry", .noEntry) { callResult(s.envCap) }
  _ = Kernel.environmentSetEntries(
    s.id, via: s.envCap, handler: Upcalls.exceptionEntry, handlerStack: 0, upcall: 0,
    callEntry: Upcalls.callEntry)
  expect("call: no handler stack", .noEntry) { callResult(s.envCap) }
  expect("send: no handler stack", .noEntry) { Kernel.send(s.envCap, Message()) }
  _ = Kernel.environmentSetEntries(
    s.id, via: s.envCap, handler: Upcalls.exceptionEntry, handlerStack: windowEnd, upcall: 0,
    callEntry: Upcalls.callEntry)

  // A stopped callee.
  if let t = spawn(1, 7, childServer, ChildOptions(callEntry: true, start: false)) {
    expect("call: a stopped callee", .wrongState) { callResult(t.envCap) }
    expect("send: a stopped callee", .wrongState) { Kernel.send(t.envCap, Message()) }
    reap(t)
  }

  // call. The server gets slice 1 while environment 0 waits in calls: a
  // callee without a slice that is preempted mid-call while its only caller
  // waits would never run again.
  expectSuccess("give the server slice 1", Kernel.sliceAllocate(1, for: s.id, via: s.envCap))
  let r1 = Kernel.call(s.envCap, Message(1, 2, 3, 4))
  expectTrue("call: the reply arrives in order", r1 == .success(Message(2, 4, 3 ^ 0xFF, 0x5000)))
  expectTrue(
    "call: the callee got m0...m3",
    s.word(4) == 1 && s.word(5) == 2 && s.word(6) == 3 && s.word(7) == 4)
  expectTrue(
    "call: the callee got the caller and a synchronous flag", s.word(15) == 0 && s.word(3) == 0)
  expectEqual(
    "call: the caller waits during the call", s.word(16), EnvironmentState.waiting.rawValue)
  expectEqual("call: the callee's caller field names the caller", s.word(17), 0)
  expectEqual("call: the callee is current during the call", s.word(18), s.e)
  expectEqual("call: after the reply the callee has no caller", s.caller, none)
  expectTrue(
    "call: after the reply both are runnable",
    state(0) == EnvironmentState.runnable.rawValue && s.state == .runnable)
  let r2 = Kernel.call(s.envCap, Message(100, 7, 0xF0, 9))
  expectTrue(
    "a second call gets its own reply",
    r2 == .success(Message(101, 14, 0x0F, 0x5000)) && s.word(2) == 2)
  expectSuccess("take slice 1 back", Kernel.sliceFree(1))

  // send (the server runs only on donations now)
  expectSuccess("send", Kernel.send(s.envCap, Message(10, 20, 30, 40)))
  settle([s]) { s.caller == none }
  expectTrue(
    "send: the callee got the message and the asynchronous flag",
    s.word(3) == 1 && s.word(4) == 10 && s.word(5) == 20 && s.word(6) == 30 && s.word(7) == 40
      && s.word(2) == 3)
  expectEqual("send: the sender stays runnable", s.word(16), EnvironmentState.runnable.rawValue)
  expectEqual("send: the callee's caller is asynchronous", s.word(17), asynchronousCaller)
  expectEqual("send: after the reply the callee has no caller", s.caller, none)
  let progress = s.word(Box.progress)
  runUntilProgress(s, progress + 1)
  expectEqual("the replier resumes its interrupted code", s.word(Box.progress), progress + 1)

  // busy
  expectSuccess("send a message the server holds on to", Kernel.send(s.envCap, Message(998)))
  settle([s]) { s.word(19) == 1 }
  expectTrue(
    "busy: the callee is mid-transfer", s.word(19) == 1 && s.caller == asynchronousCaller)
  expect("call: a busy callee", .busy) { callResult(s.envCap) }
  expect("send: a busy callee", .busy) { Kernel.send(s.envCap, Message()) }
  settle([s]) { s.word(19) == 2 && s.caller == none }
  expectTrue("busy: the callee finished and replied", s.word(19) == 2 && s.caller == none)

  // The callee exits before replying.
  _ = Kernel.sliceAllocate(1, for: s.id, via: s.envCap)
  let r3 = Kernel.call(s.envCap, Message(999))
  expectStatus("call: the callee exits before replying", r3.failureStatus, .wrongState)
  expectTrue(
    "the callee is dying with its status; the caller runs",
    s.state == .dying && s.exitStatus == 5 && state(0) == EnvironmentState.runnable.rawValue)
  expectEqual("the dead callee has no caller", s.caller, none)
  reap(s)
  expectEqual("reclaim freed the server's slice", KernelInfo[slice: 1], none)

  // Child to child, and a caller destroyed while it waits.
  guard let s2 = spawn(0, 6, childServer, ChildOptions(callEntry: true)) else { return }
  runUntilProgress(s2, 1)
  if let x = spawn(1, 7, childClient, ChildOptions(start: false)) {
    _ = Kernel.capabilityDerive(
      s2.envCap, child: cap(92), rights: [.call, .grant], base: s2.e, count: 1)
    _ = Kernel.capabilityGrant(cap(92), to: x.id)
    _ = Kernel.capabilityDerive(
      x.envCap, child: cap(93), rights: [.call, .grant], base: x.e, count: 1)
    _ = Kernel.capabilityGrant(cap(93), to: x.id)
    x.box[Box.parameter] = 50 << 32 | 93 << 16 | 92
    _ = Kernel.environmentStart(
      x.id, via: x.envCap, rip: entryAddress(childClient), rsp: UserLayout.stackTop - 8)
    settle([x, s2]) { x.state == .dying }
    expectStatus("call: a capability naming the caller itself", x.word(7), .invalidArgument)
    expectTrue(
      "child-to-child call: reply in order",
      x.exitStatus == 0x77 && x.word(2) == 0 && x.word(3) == 51 && x.word(4) == 6
        && x.word(5) == 4 ^ 0xFF && x.word(6) == 0x5000 + x.e)
    expectEqual("child-to-child call: the callee saw the caller", s2.word(15), x.e)
    reap(x)
  }
  if let x = spawn(1, 7, childClient, ChildOptions(start: false)) {
    _ = Kernel.capabilityDerive(
      s2.envCap, child: cap(92), rights: [.call, .grant], base: s2.e, count: 1)
    _ = Kernel.capabilityGrant(cap(92), to: x.id)
    x.box[Box.parameter] = 998 << 32 | 0xFFFF << 16 | 92
    _ = Kernel.environmentStart(
      x.id, via: x.envCap, rip: entryAddress(childClient), rsp: UserLayout.stackTop - 8)
    settle([x, s2]) { s2.word(19) == 1 && x.state == .waiting }
    expectTrue(
      "the client waits while the server holds its call",
      x.state == .waiting && s2.caller == x.e && s2.word(19) == 1)
    expect("stop: a waiting environment", .wrongState) {
      Kernel.environmentStop(x.id, via: x.envCap)
    }
    expect("yieldTo: a waiting environment", .wrongState) { Kernel.yieldTo(x.id) }
    expect("start: a waiting environment", .wrongState) {
      Kernel.environmentStart(
        x.id, via: x.envCap, rip: entryAddress(childExit), rsp: UserLayout.stackTop - 8)
    }
    expectSuccess("destroy the waiting client", Kernel.environmentDestroy(x.id, via: x.envCap))
    expectEqual("the server's caller becomes asynchronous", s2.caller, asynchronousCaller)
    settle([s2]) { s2.word(19) == 2 && s2.caller == none }
    expectTrue(
      "the reply to a destroyed caller goes nowhere",
      s2.word(19) == 2 && s2.caller == none && s2.state == .runnable && x.state == .dying)
    reap(x)
  }
  reap(s2)
}
