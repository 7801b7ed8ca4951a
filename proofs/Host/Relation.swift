import ExoABI
import ExoSpec

/// The formulas of the transition properties: the states before (`a`) and
/// after (`b`) one step, its actor, and what the actor could do before the
/// step (its powers are always read in the state before).
struct Relation<D: SpecDomain> {
  typealias B = D.B
  typealias W = D.W

  let step: TransitionStep<D>
  let pre: SpecState<D>
  let post: SpecState<D>
  let a: View<D>
  let b: View<D>
  let d: D
  /// The environment the step acts for (see ``TransitionProperty``).
  let actor: W

  init(_ step: TransitionStep<D>, pre: SpecState<D>, post: SpecState<D>) {
    self.step = step
    self.pre = pre
    self.post = post
    a = View(pre)
    b = View(post)
    d = pre.domain
    switch step.transition {
    case .event(.revocationDeadline), .event(.revocationAbort), .event(.revocationPressure):
      actor = step.arguments[0]
    default:
      actor = pre.current
    }
  }

  var E: Int { a.E }
  var none: W { a.none }
  func w(_ value: Int) -> W { a.w(value) }
  func w(_ value: EnvironmentState) -> W { a.w(value) }

  /// `∨` over `0..<count`.
  func any(_ count: Int, _ body: (Int) -> B) -> B {
    var result = d.bool(false)
    for i in 0..<count { result = d.or(result, body(i)) }
    return result
  }

  /// `x` is the actor (an environment).
  func isActor(_ x: W) -> B { d.and(d.ult(x, w(E)), d.eq(x, actor)) }

  /// The actor holds (before the step) an environment capability naming
  /// `t` with `right`.
  func holdsCapability(naming t: W, with right: Rights) -> B {
    let caps = pre.capabilities
    return any(a.C) { c in
      d.and(
        d.and(a.isEnvironment(c), d.eq(caps.owner[c], actor), d.eq(caps.base[c], t)),
        d.has(caps.rights[c], right.rawValue))
    }
  }

  /// **authority** over `t`: the actor is `t`, or holds an environment
  /// capability naming `t` with `control`.
  func control(over t: W) -> B {
    d.or(isActor(t), holdsCapability(naming: t, with: .control))
  }

  /// `t` is dying and the actor may reclaim it (docs/ABI.md
  /// "environmentReclaim": its parent, or anyone once the parent is not
  /// live).
  func mayReclaim(_ t: W) -> B {
    let parent = d.read(pre.environments.parent, t, default: none)
    return d.and(
      d.and(d.ult(t, w(E)), d.eq(a.stateOf(t), w(EnvironmentState.dying))),
      d.or(isActor(parent), d.not(a.isLive(parent))))
  }

  /// Environment slot `e` was free before the step.
  func wasFree(_ e: Int) -> B {
    d.eq(pre.environments.state[e], w(EnvironmentState.free))
  }

  /// Capability `k` (before the step) is held by `x` or has an ancestor
  /// held by `x`.
  func heldOrDerived(_ k: W, from x: W) -> B {
    let caps = pre.capabilities
    var found = d.eq(d.read(caps.owner, k, default: none), x)
    var ancestor = k
    for _ in 0..<pre.bounds.maximumDepth {
      ancestor = d.read(caps.parent, ancestor, default: none)
      found = d.or(found, d.eq(d.read(caps.owner, ancestor, default: none), x))
    }
    return d.and(d.ult(x, w(E)), found)
  }

  /// Capability `k` is in the reclaim domain of an environment the actor
  /// may reclaim (before the step).
  func inDomainOfReclaimable(_ k: W) -> B {
    let caps = pre.capabilities
    let nonEmpty = d.ne(d.read(caps.kind, k, default: w(0)), w(0))
    let namesEnvironment = d.eq(
      d.read(caps.kind, k, default: w(0)), a.w(CapabilityKind.environment))
    return d.and(
      nonEmpty,
      any(E) { t in
        d.and(
          mayReclaim(w(t)),
          d.or(
            heldOrDerived(k, from: w(t)),
            d.and(namesEnvironment, d.eq(d.read(caps.base, k, default: w(0)), w(t)))))
      })
  }

  /// Some field of `fields` differs at position `i`.
  func changed<T>(_ fields: [KeyPath<T, D.Column>], _ x: T, _ y: T, _ i: Int) -> B {
    any(fields.count) { f in d.ne(x[keyPath: fields[f]][i], y[keyPath: fields[f]][i]) }
  }

  // MARK: Integrity

  func environmentChangedWithAuthority() -> B {
    let t = pre.environments
    let u = post.environments
    return a.all(E) { e in
      let me = w(e)
      let authorized = d.or(control(over: me), wasFree(e), mayReclaim(me))
      // The call it waits on ended: its callee no longer serves it.
      let callEnded = d.and(
        d.and(
          d.eq(t.state[e], w(EnvironmentState.waiting)),
          d.eq(u.state[e], w(EnvironmentState.runnable))),
        any(E) { x in d.and(d.eq(t.caller[x], me), d.ne(u.caller[x], me)) })
      // Its parent's slot was freed: it becomes an orphan.
      let parent = t.parent[e]
      let orphaned = d.and(
        d.and(d.eq(u.parent[e], none), d.ult(parent, w(E))),
        d.and(
          d.ne(a.stateOf(parent), w(EnvironmentState.free)),
          d.eq(b.stateOf(parent), w(EnvironmentState.free))))
      let entries: [KeyPath<EnvironmentTable<D.Column>, D.Column>] = [
        \.handler, \.handlerStack, \.upcall, \.callEntry, \.exitStatus,
      ]
      return d.and(
        a.implies(d.ne(t.state[e], u.state[e]), d.or(authorized, callEnded)),
        a.implies(
          d.ne(t.parent[e], u.parent[e]), d.or(d.or(wasFree(e), mayReclaim(me)), orphaned)),
        a.implies(changed(entries, t, u, e), authorized))
    }
  }

  func callerChangedWithAuthority() -> B {
    let t = pre.environments
    let u = post.environments
    return a.all(E) { e in
      let me = w(e)
      let served = t.caller[e]
      let servedEnded = d.and(
        d.ult(served, w(E)),
        d.and(
          d.ne(a.stateOf(served), w(EnvironmentState.dying)),
          d.eq(b.stateOf(served), w(EnvironmentState.dying))))
      return a.implies(
        d.ne(t.caller[e], u.caller[e]),
        d.or(
          d.or(control(over: me), holdsCapability(naming: me, with: .call)),
          d.or(wasFree(e), mayReclaim(me), servedEnded)))
    }
  }

  func bindingsChangedWithAuthority() -> B {
    let t = pre.bindings
    let u = post.bindings
    let fields: [KeyPath<BindingTable<D.Column>, D.Column>] = [\.page, \.capability, \.rights]
    return a.all(E * a.WS) { i in
      // The authority is computed only for a slot that changed (plain
      // domains): the audit runs this at the kernel's sizes.
      a.implies(
        changed(fields, t, u, i),
        {
          let e = w(i / a.WS)
          let k = t.capability[i]
          let page = t.page[i]
          let pageOwner = d.read(
            pre.pages.owner, d.sub(page, a.w(pre.firstPage)), default: none)
          let removed = d.eq(u.page[i], none)
          let backingReached = d.or(
            isActor(pageOwner), heldOrDerived(k, from: actor), inDomainOfReclaimable(k))
          return d.or(d.or(control(over: e), mayReclaim(e)), d.and(removed, backingReached))
        }())
    }
  }

  func sliceGivenWithAuthority() -> B {
    a.all(a.S) { p in
      let owner = post.slices[p]
      let given = d.and(d.ne(owner, none), d.ne(owner, pre.slices[p]))
      return a.implies(given, d.and(control(over: owner), a.isLive(owner)))
    }
  }

  func sliceTakenByOwnerOrParent() -> B {
    a.all(a.S) { p in
      let holder = pre.slices[p]
      let taken = d.and(d.ne(holder, none), d.ne(post.slices[p], holder))
      let parent = d.read(pre.environments.parent, holder, default: none)
      return a.implies(taken, d.or(isActor(holder), isActor(parent), mayReclaim(holder)))
    }
  }

  func capabilityChangedWithAuthority() -> B {
    let t = pre.capabilities
    let u = post.capabilities
    let fields: [KeyPath<CapabilityTable<D.Column>, D.Column>] = [
      \.kind, \.owner, \.parent, \.depth, \.rights, \.base, \.count,
    ]
    return a.all(a.C) { k in
      let existed = d.not(a.isEmpty(k))
      return a.implies(
        d.and(existed, changed(fields, t, u, k)),
        d.or(heldOrDerived(w(k), from: actor), inDomainOfReclaimable(w(k))))
    }
  }

  func capabilityMovedWithGrant() -> B {
    let t = pre.capabilities
    let u = post.capabilities
    return a.all(a.C) { k in
      let moved = d.and(
        d.and(d.not(a.isEmpty(k)), d.not(b.isEmpty(k))), d.ne(t.owner[k], u.owner[k]))
      return a.implies(
        moved, d.and(isActor(t.owner[k]), d.has(t.rights[k], Rights.grant.rawValue)))
    }
  }

  func capabilityCreatedWithAuthority() -> B {
    let t = pre.capabilities
    let u = post.capabilities
    return a.all(a.C) { k in
      // Computed only for a capability that was created (plain domains).
      a.implies(
        d.and(a.isEmpty(k), d.not(b.isEmpty(k))),
        {
          let parent = u.parent[k]
          let derived = d.and(
            d.and(
              d.ult(parent, w(a.C)), d.ne(d.read(t.kind, parent, default: w(0)), w(0)),
              isActor(d.read(t.owner, parent, default: none))),
            d.has(d.read(t.rights, parent, default: w(0)), Rights.grant.rawValue))
          let freshEnvironment = d.and(
            b.isEnvironment(k), d.ult(u.base[k], w(E)),
            d.eq(a.stateOf(u.base[k]), w(EnvironmentState.free)))
          let freshRun = d.and(
            b.isMemory(k),
            a.all(a.P) { p in
              a.implies(
                a.covers(base: u.base[k], count: u.count[k], a.pageNumber(p)),
                d.eq(pre.pages.owner[p], none))
            })
          return d.and(
            isActor(u.owner[k]),
            d.ite(d.eq(parent, none), d.or(freshEnvironment, freshRun), derived))
        }())
    }
  }

  func revocationChangedWithAuthority() -> B {
    let t = pre.revocations
    let u = post.revocations
    let fields: [KeyPath<RevocationTable<D.Column>, D.Column>] = [
      \.phase, \.requested, \.deadline, \.returned, \.held, \.repossessed,
    ]
    let pressure = step.transition == .event(.allocationPressure)
    return a.all(E) { e in
      let vector = any(a.P) { i in d.ne(a.entry(e, i), b.entry(e, i)) }
      let kernelAsks = d.and(
        d.bool(pressure),
        d.and(
          d.eq(t.phase[e], w(0)), d.eq(u.phase[e], a.w(RevocationPhase.requested.rawValue))))
      return a.implies(
        d.or(changed(fields, t, u, e), vector),
        d.or(control(over: w(e)), mayReclaim(w(e)), kernelAsks))
    }
  }

  func pageOwnerChangedLegitimately() -> B {
    a.all(a.P) { p in
      let before = pre.pages.owner[p]
      let after = post.pages.owner[p]
      let allocated = d.and(d.eq(before, none), isActor(after))
      return a.implies(
        d.ne(before, after), d.or(allocated, isActor(before), mayReclaim(before)))
    }
  }

  func freedSlotIsNobodysParent() -> B {
    a.all(E) { e in
      let freed = d.and(
        d.not(wasFree(e)), d.eq(post.environments.state[e], w(EnvironmentState.free)))
      return a.implies(freed, a.all(E) { x in d.ne(post.environments.parent[x], w(e)) })
    }
  }

  // MARK: Lifecycle

  func dyingIsTerminal() -> B {
    a.all(E) { e in
      let after = post.environments.state[e]
      return a.implies(
        d.eq(pre.environments.state[e], w(EnvironmentState.dying)),
        d.or(d.eq(after, w(EnvironmentState.dying)), d.eq(after, w(EnvironmentState.free))))
    }
  }

  func requestMovesForward() -> B {
    let t = pre.revocations
    let u = post.revocations
    let aborting = a.w(RevocationPhase.aborting.rawValue)
    return a.all(E) { e in
      a.implies(
        a.pending(e),
        d.and(
          d.and(
            d.eq(t.requested[e], u.requested[e]), d.eq(t.deadline[e], u.deadline[e]),
            d.eq(t.held[e], u.held[e])),
          d.and(d.uge(u.returned[e], t.returned[e]), d.uge(u.repossessed[e], t.repossessed[e])),
          a.implies(
            d.eq(t.phase[e], aborting),
            d.or(d.eq(u.phase[e], aborting), d.eq(u.phase[e], w(0))))))
    }
  }

  func repossessionAppendOnly() -> B {
    a.all(E) { e in
      a.implies(
        a.pending(e),
        a.all(a.P) { i in a.implies(a.valid(e, i), d.eq(a.entry(e, i), b.entry(e, i))) })
    }
  }

  func revokeDoneLeavesNoDescendants() -> B {
    guard step.transition == .call(.capabilityRevoke) else { return d.bool(true) }
    let c = step.arguments[0]
    let done = d.and(d.eq(step.outcome.status, w(0)), d.eq(step.outcome.value, w(0)))
    return a.implies(
      done,
      b.all(b.C) { k in
        var ancestor = w(k)
        var descends = d.bool(false)
        for _ in 0..<post.bounds.maximumDepth {
          ancestor = d.read(post.capabilities.parent, ancestor, default: none)
          descends = d.or(descends, d.eq(ancestor, c))
        }
        return a.implies(d.not(b.isEmpty(k)), d.not(descends))
      })
  }

  func voluntaryNotRecorded() -> B {
    let isReturn = step.transition == .call(.revocationReturn)
    return a.all(E) { e in
      let header = d.eq(pre.revocations.repossessed[e], post.revocations.repossessed[e])
      return a.all(a.P) { i in
        let same = d.eq(a.entry(e, i), b.entry(e, i))
        if isReturn { return d.and(header, same) }
        let kept = d.and(a.valid(e, i), same)
        return a.implies(
          d.and(b.valid(e, i), d.not(kept)),
          d.eq(
            d.read(pre.pages.owner, d.sub(b.entry(e, i), d.word(pre.firstPage)), default: none),
            w(e)))
      }
    }
  }

  func reclaimedByParent() -> B {
    a.all(E) { e in
      let freed = d.and(
        d.eq(pre.environments.state[e], w(EnvironmentState.dying)),
        d.eq(post.environments.state[e], w(EnvironmentState.free)))
      let parent = pre.environments.parent[e]
      return a.implies(freed, d.or(d.eq(actor, parent), d.not(a.isLive(parent))))
    }
  }

  // MARK: Memory access

  /// Window slot of the actor that byte `address` lies in, if it is in
  /// the window: (in the window, binding index).
  func windowSlot(_ address: W) -> (inWindow: B, binding: W) {
    let slots = UInt64(pre.bounds.windowSlots)
    let end = UserLayout.windowBase + slots * 4096
    let slot = d.shiftRight(d.sub(address, a.w(UserLayout.windowBase)), 12)
    return (
      d.and(d.inRange(address, UserLayout.windowBase, end), d.ult(actor, w(E))),
      d.add(d.mul(actor, slots), slot)
    )
  }

  /// Byte `address` lies in a window slot of the actor bound with `right`.
  func boundWith(_ right: Rights, _ address: W) -> B {
    let (inWindow, i) = windowSlot(address)
    return d.and(
      inWindow,
      d.and(
        d.ne(d.read(pre.bindings.page, i, default: none), none),
        d.has(d.read(pre.bindings.rights, i, default: w(0)), right.rawValue)))
  }

  /// Byte `address` lies in the initial stack (below `stackTop`).
  func inStack(_ address: W) -> B {
    d.inRange(
      address, UserLayout.stackTop - UserLayout.stackPages * 4096, UserLayout.stackTop)
  }

  /// The byte at offset `any` of a successful console call's range.
  func touchedByte() -> (touched: B, address: W) {
    let address = step.arguments[0]
    let length = step.arguments[1]
    let ok = d.eq(step.outcome.status, w(0))
    return (d.and(ok, d.ult(step.any, length)), d.add(address, step.any))
  }

  func consoleWriteReadsReadable() -> B {
    guard step.transition == .call(.consoleWrite) else { return d.bool(true) }
    let (touched, byte) = touchedByte()
    let image = d.inRange(byte, UserLayout.imageBase, UserLayout.windowBase)
    return a.implies(touched, d.or(image, inStack(byte), boundWith(.read, byte)))
  }

  func consoleReadWritesWritable() -> B {
    guard step.transition == .call(.consoleRead) else { return d.bool(true) }
    let (touched, byte) = touchedByte()
    return a.implies(touched, d.or(inStack(byte), boundWith(.write, byte)))
  }

  func exceptionFrameInWritableSlot() -> B {
    guard step.transition == .event(.exception) else { return d.bool(true) }
    let x = pre.current
    let slot = step.arguments[3]
    let i = d.add(d.mul(x, UInt64(pre.bounds.windowSlots)), slot)
    let delivered = d.eq(step.outcome.value, w(1))
    let writable = d.and(
      d.and(d.ult(x, w(E)), d.ult(slot, w(a.WS))),
      d.ne(d.read(pre.bindings.page, i, default: none), none),
      d.has(d.read(pre.bindings.rights, i, default: w(0)), Rights.write.rawValue))
    let entries = d.and(
      d.ne(d.read(pre.environments.handler, x, default: w(0)), w(0)),
      d.ne(d.read(pre.environments.handlerStack, x, default: w(0)), w(0)))
    return a.implies(delivered, d.and(writable, entries))
  }
}
