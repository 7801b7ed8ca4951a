import ExoABI
import ExoSpec

/// A deliberate bug in the spec, for showing that the obligations catch
/// bugs: each runs the real transition and then breaks its effect the way a
/// plausible kernel bug would. A verifier that proves a mutant correct has a
/// hole; `exoverify --mutants` requires every mutant to be caught with a
/// counterexample.
public enum Mutant: String, CaseIterable, Sendable {
  /// pageMap forgets to count the new mapping of the page.
  case mapForgetsPageCount
  /// pageMap forgets to count the binding on its capability.
  case mapForgetsCapabilityCount
  /// pageMap installs a writable binding even when only read was asked for
  /// (a rights check dropped).
  case mapGrantsWrite
  /// pageUnmap leaves the page's mapping count as it was.
  case unmapLeavesPageCount
  /// pageProtect adds execute whatever the capability allows.
  case protectAddsExecute
  /// capabilityDerive forgets to count the child on its parent.
  case deriveForgetsChild
  /// capabilityDerive makes the child's range one page longer than asked
  /// (a range check dropped).
  case deriveWidensRange
  /// capabilityRevoke forgets to invalidate the child it removes.
  case revokeKeepsChild
  /// capabilityDelete of a root leaves its pages owned.
  case deleteLeavesPagesOwned
  /// capabilityGrant moves the capability but not its pages' ownership.
  case grantLeavesPageOwner
  /// pageAllocate records no root for the pages.
  case allocateForgetsRoot
  /// capabilityGrant moves a root's pages to the new holder but leaves both
  /// environments' page counts as they were.
  case grantForgetsPageCount
  /// pageUnmap leaves the environment's count of bound window slots as it
  /// was.
  case unmapLeavesWindowCount
  /// environmentReclaim frees the slot at once, whatever it still owns.
  case reclaimFreesEarly
  /// exit does not pick another environment to run.
  case exitKeepsRunning
  /// A failed sliceFree still frees the slice.
  case failedSliceFreeFrees
  /// reply forgets to wake the waiting caller.
  case replyForgetsCaller
  /// An abort step takes a run but leaves every binding as it was (forgets
  /// to unmap).
  case abortForgetsUnmap
  /// An abort step records the first page of the run it takes twice.
  case abortRecordsTwice
  /// revocationReturn records the pages it gives back in the repossession
  /// vector as if they had been repossessed.
  case returnRecords
  /// The last abort step does not end the request: the abort never
  /// finishes (only the liveness check can see this).
  case abortNeverFinishes
  /// The packet-filter overlap check compares two tests' values on the
  /// bytes they share as if each mask covered its whole field: it calls
  /// filters disjoint that constrain different bits of a byte (`0x40`
  /// under mask `0xf0` and `0x05` under `0x0f`), which a frame matches
  /// both. Changes no transition (``filtersOverlap(_:_:_:)``).
  case overlapIgnoresMasks

  // Integrity: who may change what.
  /// pageUnmap's authority check is satisfied by a `control` capability
  /// naming another environment (it compares the target with itself
  /// rather than with the capability's base).
  case unmapAcceptsCapabilityForAnother
  /// capabilityGrant forgets to check the `grant` right.
  case grantIgnoresGrantRight
  /// sliceFree checks the relationship on the caller instead of the
  /// owner: a child may free its parent's slice.
  case sliceFreeChecksCallerParent
  /// environmentReclaim frees a slot but its children keep it as their
  /// parent, so the slot's next occupant inherits power over them.
  case reclaimKeepsOrphansParent

  // Lifecycle.
  /// environmentStart accepts a dying environment (dying → runnable).
  case startRevivesDying
  /// capabilityRevoke looks only at the direct children: when none of them
  /// is a leaf it reports done, though grandchildren remain.
  case revokeStopsAtChildren

  // Memory access.
  /// consoleRead checks that the caller may read the bytes (consoleWrite's
  /// rule) rather than write them.
  case consoleReadChecksRead
  /// An exception frame is delivered into a bound window slot whatever its
  /// rights.
  case exceptionIgnoresFrameRights

  // Packet filters.
  /// filterInstall skips the overlap check (no active filter is compared).
  case installSkipsOverlapCheck
  /// filterInstall accepts a buffer bound without `write`.
  case installIgnoresBufferRights
  /// exit leaves the exiting environment's filters installed.
  case exitKeepsFilters
  /// filterRemove frees the slot but leaves its buffer slot.
  case removeLeavesBuffer
  /// frameArrival does not check that a filter is active: a frame goes to
  /// a filter still being written.
  case frameIgnoresFilterState
  /// frameTransmit's rule accepts a reply that any environment's active
  /// filter receives, not only the caller's: one environment may send as
  /// another.
  case transmitAsAnyFilter
  /// frameTransmit does not check that the slot is bound: it reads (and
  /// sends) a page the caller has not mapped.
  case transmitReadsUnboundSlot

  // Depth: bugs only wrong below depth 2 (code written for a two-level
  // tree), which bounds of depth 2 cannot see (``depthMutants``).
  /// capabilityDerive records a child's depth as at most 2: a child of a
  /// depth-2 capability gets its parent's depth.
  case deriveDepthStopsAtTwo
  /// capabilityRevoke's search for a leaf walks two parent links: when
  /// every leaf below c is three levels down it reports done and changes
  /// nothing, though descendants remain.
  case revokeWalksTwoLevels
  /// A repossession deletes the run's descendants deepest first starting
  /// at depth 2: those deeper stay, their parent gone (their bindings are
  /// still removed, by the separate walk over the window slots).
  case repossessSkipsDeepest

  // Size: bugs only wrong past the proof bounds (code written for a fixed
  // number of pages or slots), which exoverify's bounds cannot see and the
  // difftest audit at the kernel's sizes does (``sizeMutants``).
  /// pageAllocate adds at most three pages of a run to the environment's
  /// page count.
  case allocateCountsThreePages
  /// pageMap counts a new binding in the target's bound-slot count only
  /// in window slots 0 and 1.
  case mapCountsTwoSlots

  /// The transition the mutant changes, or nil for a mutant of the
  /// packet-filter check.
  public var transition: Transition? {
    switch self {
    case .overlapIgnoresMasks: nil
    case .mapForgetsPageCount, .mapForgetsCapabilityCount, .mapGrantsWrite: .call(.pageMap)
    case .unmapLeavesPageCount, .unmapLeavesWindowCount: .call(.pageUnmap)
    case .protectAddsExecute: .call(.pageProtect)
    case .deriveForgetsChild, .deriveWidensRange: .call(.capabilityDerive)
    case .revokeKeepsChild: .call(.capabilityRevoke)
    case .deleteLeavesPagesOwned: .call(.capabilityDelete)
    case .grantLeavesPageOwner, .grantForgetsPageCount: .call(.capabilityGrant)
    case .allocateForgetsRoot: .call(.pageAllocate)
    case .reclaimFreesEarly: .call(.environmentReclaim)
    case .exitKeepsRunning: .call(.exit)
    case .failedSliceFreeFrees: .call(.sliceFree)
    case .replyForgetsCaller: .call(.reply)
    case .abortForgetsUnmap, .abortRecordsTwice, .abortNeverFinishes: .event(.revocationAbort)
    case .returnRecords: .call(.revocationReturn)
    case .unmapAcceptsCapabilityForAnother: .call(.pageUnmap)
    case .grantIgnoresGrantRight: .call(.capabilityGrant)
    case .sliceFreeChecksCallerParent: .call(.sliceFree)
    case .reclaimKeepsOrphansParent: .call(.environmentReclaim)
    case .startRevivesDying: .call(.environmentStart)
    case .revokeStopsAtChildren: .call(.capabilityRevoke)
    case .consoleReadChecksRead: .call(.consoleRead)
    case .exceptionIgnoresFrameRights: .event(.exception)
    case .installSkipsOverlapCheck, .installIgnoresBufferRights: .call(.filterInstall)
    case .exitKeepsFilters: .call(.exit)
    case .removeLeavesBuffer: .call(.filterRemove)
    case .frameIgnoresFilterState: .event(.frameArrival)
    case .transmitAsAnyFilter, .transmitReadsUnboundSlot: .call(.frameTransmit)
    case .deriveDepthStopsAtTwo: .call(.capabilityDerive)
    case .revokeWalksTwoLevels: .call(.capabilityRevoke)
    case .repossessSkipsDeepest: .event(.revocationAbort)
    case .allocateCountsThreePages: .call(.pageAllocate)
    case .mapCountsTwoSlots: .call(.pageMap)
    }
  }

  /// The obligation the mutant is meant to break: ``Verifier/catchMutant(_:)``
  /// tries it first (only an order: any obligation that fails with a
  /// counterexample catches the mutant).
  public var firstTried: Obligation {
    guard let t = transition else { return .packetFilter(.overlapSound) }
    switch self {
    case .mapForgetsPageCount, .unmapLeavesPageCount: return .preserves(t, .mappingsCountExact)
    case .mapForgetsCapabilityCount: return .preserves(t, .bindingsCountExact)
    case .grantForgetsPageCount: return .preserves(t, .pagesCountExact)
    case .unmapLeavesWindowCount: return .preserves(t, .windowCountExact)
    case .mapGrantsWrite, .protectAddsExecute: return .preserves(t, .bindingBacked)
    case .deriveForgetsChild, .revokeKeepsChild: return .preserves(t, .childrenCountExact)
    case .deriveWidensRange: return .preserves(t, .rangeShrinks)
    case .deleteLeavesPagesOwned, .grantLeavesPageOwner, .allocateForgetsRoot:
      return .preserves(t, .pageOwnership)
    case .reclaimFreesEarly: return .preserves(t, .environmentRecords)
    case .exitKeepsRunning: return .preserves(t, .currentRunnable)
    case .failedSliceFreeFrees: return .errorUnchanged(t)
    case .replyForgetsCaller: return .preserves(t, .pendingCallsLive)
    case .abortForgetsUnmap: return .preserves(t, .repossessedUnbound)
    case .abortRecordsTwice: return .preserves(t, .repossessedOnce)
    case .returnRecords: return .transitionProperty(t, .voluntaryNotRecorded)
    case .abortNeverFinishes:
      return .abortCompletes(steps: Verifier.abortSteps(Verifier.proofBounds))
    case .unmapAcceptsCapabilityForAnother:
      return .transitionProperty(t, .bindingsChangedWithAuthority)
    case .grantIgnoresGrantRight: return .transitionProperty(t, .capabilityMovedWithGrant)
    case .sliceFreeChecksCallerParent: return .transitionProperty(t, .sliceTakenByOwnerOrParent)
    case .reclaimKeepsOrphansParent: return .transitionProperty(t, .freedSlotIsNobodysParent)
    case .startRevivesDying: return .transitionProperty(t, .dyingIsTerminal)
    case .revokeStopsAtChildren: return .transitionProperty(t, .revokeDoneLeavesNoDescendants)
    case .consoleReadChecksRead: return .transitionProperty(t, .consoleReadWritesWritable)
    case .exceptionIgnoresFrameRights:
      return .transitionProperty(t, .exceptionFrameInWritableSlot)
    case .overlapIgnoresMasks: return .packetFilter(.overlapSound)
    case .installSkipsOverlapCheck: return .preserves(t, .filtersDisjoint)
    case .installIgnoresBufferRights: return .preserves(t, .filterBufferWritable)
    case .exitKeepsFilters: return .preserves(t, .filterOwnerLive)
    case .removeLeavesBuffer: return .preserves(t, .filterRecords)
    case .frameIgnoresFilterState: return .transitionProperty(t, .frameGoesToMatchingFilter)
    case .transmitAsAnyFilter: return .transitionProperty(t, .transmitOnlyAsFilterOwner)
    case .transmitReadsUnboundSlot: return .transitionProperty(t, .transmitReadsBoundPage)
    case .deriveDepthStopsAtTwo, .repossessSkipsDeepest: return .preserves(t, .derivationAcyclic)
    case .revokeWalksTwoLevels: return .transitionProperty(t, .revokeDoneLeavesNoDescendants)
    case .allocateCountsThreePages: return .preserves(t, .pagesCountExact)
    case .mapCountsTwoSlots: return .preserves(t, .windowCountExact)
    }
  }

  /// The mutants that are correct code at derivation depth 2 and wrong
  /// only below it: bounds of depth 2 prove them correct.
  public static let depthMutants: [Mutant] = [
    .deriveDepthStopsAtTwo, .revokeWalksTwoLevels, .repossessSkipsDeepest,
  ]

  /// The mutants that are correct code at the proof bounds (runs of three
  /// pages, two window slots) and wrong only past them: exoverify proves
  /// them correct; `exo difftest --against audit-mutant:NAME` at the
  /// kernel's sizes catches them.
  public static let sizeMutants: [Mutant] = [.allocateCountsThreePages, .mapCountsTwoSlots]

  /// The mutants exoverify must catch at its bounds: all but the
  /// ``sizeMutants``.
  public static let provable: [Mutant] = allCases.filter { !sizeMutants.contains($0) }

  /// The obligations that can catch the mutant: its transition's, or the
  /// packet-filter theorems.
  public var obligations: [Obligation] {
    guard let transition else { return FilterTheorem.allCases.map(Obligation.packetFilter) }
    return Obligation.all(transitions: [transition], packetFilters: false)
  }

  /// The overlap check of the encoded filters `a` and `b` with the
  /// mutation applied (the spec's own for every other mutant).
  public func filtersOverlap<D: SpecDomain>(
    _ d: D, _ a: (Int) -> D.W, _ b: (Int) -> D.W
  ) -> D.B {
    switch self {
    case .overlapIgnoresMasks:
      // Every mask widened to its whole field: the value words rewritten.
      func widened(_ word: (Int) -> D.W, _ i: Int) -> D.W {
        guard i > 0, i % 2 == 0 else { return word(i) }
        let width = d.shiftRight(word(i - 1), 32)
        let full = d.ite(
          d.eq(width, d.word(1)), d.word(0xFF),
          d.ite(d.eq(width, d.word(2)), d.word(0xFFFF), d.word(0xFFFF_FFFF)))
        return d.add(d.mul(full, 1 << 32), d.bitAnd(word(i), d.word(0xFFFF_FFFF)))
      }
      return d.filtersOverlap({ widened(a, $0) }, { widened(b, $0) })
    default:
      return d.filtersOverlap(a, b)
    }
  }

  /// Runs `transition` with the mutation applied (only the mutant's own
  /// transition is changed).
  public func apply<D: SpecDomain>(
    _ transition: Transition, to state: inout SpecState<D>, _ arguments: [D.W]
  ) -> Outcome<D> {
    let pre = state
    guard transition == self.transition else { return state.apply(transition, arguments) }
    let d = state.domain
    let none = d.word(ExoABI.none)
    func keep(_ table: WritableKeyPath<SpecState<D>, D.Column>, when c: D.B) {
      for i in 0..<state[keyPath: table].count {
        state[keyPath: table][i] = d.ite(c, pre[keyPath: table][i], state[keyPath: table][i])
      }
    }
    // Mutants that change what the checks see: the real transition runs on
    // a doctored state, and the doctored field is put back.
    switch self {
    case .unmapAcceptsCapabilityForAnother:
      // The capability presented seems to name the target.
      d.write(&state.capabilities.base, arguments[1], arguments[0])
      let outcome = state.apply(transition, arguments)
      state.capabilities.base = pre.capabilities.base
      return outcome
    case .grantIgnoresGrantRight:
      let c = arguments[0]
      let rights = d.read(state.capabilities.rights, c, default: d.word(0))
      d.write(
        &state.capabilities.rights, c, d.bitAnd(rights, d.word(~Rights.grant.rawValue)))
      d.write(
        &state.capabilities.rights, c,
        d.add(
          d.read(state.capabilities.rights, c, default: d.word(0)),
          d.word(Rights.grant.rawValue)))
      let outcome = state.apply(transition, arguments)
      state.capabilities.rights = pre.capabilities.rights
      return outcome
    case .startRevivesDying:
      let t = arguments[0]
      let dying = d.eq(
        d.read(state.environments.state, t, default: d.word(0)),
        d.word(EnvironmentState.dying.rawValue))
      d.when(dying) {
        d.write(&state.environments.state, t, d.word(EnvironmentState.stopped.rawValue))
      }
      let outcome = state.apply(transition, arguments)
      keep(\.environments.state, when: d.ne(outcome.status, d.word(0)))
      return outcome
    case .consoleReadChecksRead:
      let write = state.consoleWrite(address: arguments[0], length: arguments[1])
      return Outcome(status: write.status, value: d.word(0))
    case .installSkipsOverlapCheck, .frameIgnoresFilterState:
      // Install: every other filter seems inactive. Frame: every filter
      // that is not free seems active. The states are put back after.
      let f = arguments[0]
      let active = d.word(FilterState.active.rawValue)
      for j in 0..<state.bounds.filters {
        let t = state.filters.state[j]
        state.filters.state[j] =
          self == .installSkipsOverlapCheck
          ? d.ite(d.eq(t, active), d.word(FilterState.building.rawValue), t)
          : d.ite(d.ne(t, d.word(FilterState.free.rawValue)), active, t)
      }
      let outcome = state.apply(transition, arguments)
      for j in 0..<state.bounds.filters {
        let own = d.and(d.bool(self == .installSkipsOverlapCheck), d.eq(d.word(UInt64(j)), f))
        state.filters.state[j] = d.ite(own, state.filters.state[j], pre.filters.state[j])
      }
      return outcome
    case .transmitAsAnyFilter:
      // Every filter seems the caller's.
      for j in 0..<state.bounds.filters { state.filters.owner[j] = state.current }
      let outcome = state.apply(transition, arguments)
      state.filters.owner = pre.filters.owner
      return outcome
    case .transmitReadsUnboundSlot:
      // An empty slot seems bound to the first page, with read.
      let b = d.add(d.mul(state.current, UInt64(state.bounds.windowSlots)), arguments[0])
      let inTable = d.and(
        d.ult(state.current, d.word(UInt64(state.bounds.environments))),
        d.ult(arguments[0], d.word(UInt64(state.bounds.windowSlots))))
      d.when(d.and(inTable, d.eq(d.read(state.bindings.page, b, default: none), none))) {
        d.write(&state.bindings.page, b, d.word(state.firstPage))
        d.write(&state.bindings.rights, b, d.word(Rights.read.rawValue))
      }
      let outcome = state.apply(transition, arguments)
      state.bindings.page = pre.bindings.page
      state.bindings.rights = pre.bindings.rights
      return outcome
    case .installIgnoresBufferRights:
      // The buffer seems writable.
      let b = d.add(
        d.mul(state.current, UInt64(state.bounds.windowSlots)), arguments[2])
      let rights = d.read(state.bindings.rights, b, default: d.word(0))
      d.when(d.ult(state.current, d.word(UInt64(state.bounds.environments)))) {
        d.write(
          &state.bindings.rights, b,
          d.add(d.bitAnd(rights, d.word(~Rights.write.rawValue)), d.word(Rights.write.rawValue)))
      }
      let outcome = state.apply(transition, arguments)
      state.bindings.rights = pre.bindings.rights
      return outcome
    default: break
    }
    var outcome = state.apply(transition, arguments)
    let ok = d.eq(outcome.status, d.word(0))
    /// The columns a revoke step may change.
    let revokeChanges: [WritableKeyPath<SpecState<D>, D.Column>] = [
      \.capabilities.kind, \.capabilities.owner, \.capabilities.parent, \.capabilities.depth,
      \.capabilities.rights, \.capabilities.base, \.capabilities.count, \.capabilities.children,
      \.capabilities.bindings, \.bindings.page, \.bindings.capability, \.bindings.rights,
      \.pages.mappings, \.pages.owner, \.pages.root, \.environments.capabilities,
      \.environments.pages, \.environments.bindings,
    ]
    /// The binding index of (target, slot) arguments.
    func bindingIndex(_ target: D.W, _ slot: D.W) -> D.W {
      d.add(d.mul(target, UInt64(state.bounds.windowSlots)), slot)
    }
    switch self {
    case .mapForgetsPageCount: keep(\.pages.mappings, when: ok)
    case .mapForgetsCapabilityCount: keep(\.capabilities.bindings, when: ok)
    case .mapGrantsWrite:
      let b = bindingIndex(arguments[0], arguments[4])
      let rights = d.read(state.bindings.rights, b, default: d.word(0))
      d.when(ok) {
        d.write(
          &state.bindings.rights, b,
          d.add(d.bitAnd(rights, d.word(~Rights.write.rawValue)), d.word(Rights.write.rawValue)))
      }
    case .unmapLeavesPageCount: keep(\.pages.mappings, when: ok)
    case .protectAddsExecute:
      let b = bindingIndex(arguments[0], arguments[2])
      let rights = d.read(state.bindings.rights, b, default: d.word(0))
      d.when(ok) {
        d.write(
          &state.bindings.rights, b,
          d.add(d.bitAnd(rights, d.word(~Rights.execute.rawValue)), d.word(Rights.execute.rawValue))
        )
      }
    case .deriveForgetsChild: keep(\.capabilities.children, when: ok)
    case .deriveWidensRange:
      let count = d.read(state.capabilities.count, arguments[1], default: d.word(0))
      d.when(ok) { d.write(&state.capabilities.count, arguments[1], d.add(count, d.word(1))) }
    case .revokeKeepsChild:
      // The removed capability's record comes back; its parent's count stays down.
      let removed = d.and(ok, d.eq(outcome.value, d.word(1)))
      for path in [
        \SpecState<D>.capabilities.kind, \.capabilities.owner, \.capabilities.parent,
        \.capabilities.depth, \.capabilities.rights, \.capabilities.base, \.capabilities.count,
      ] {
        keep(path, when: removed)
      }
    case .deleteLeavesPagesOwned:
      keep(\.pages.owner, when: ok)
      keep(\.pages.root, when: ok)
    case .grantLeavesPageOwner: keep(\.pages.owner, when: ok)
    case .grantForgetsPageCount: keep(\.environments.pages, when: ok)
    case .unmapLeavesWindowCount: keep(\.environments.bindings, when: ok)
    case .allocateCountsThreePages:
      let count = arguments[1]
      let uncounted = d.ite(d.ult(d.word(3), count), d.sub(count, d.word(3)), d.word(0))
      let held = d.read(state.environments.pages, pre.current, default: d.word(0))
      d.when(ok) { d.write(&state.environments.pages, pre.current, d.sub(held, uncounted)) }
    case .mapCountsTwoSlots:
      keep(\.environments.bindings, when: d.and(ok, d.ult(d.word(1), arguments[4])))
    case .allocateForgetsRoot: keep(\.pages.root, when: ok)
    case .reclaimFreesEarly:
      d.when(ok) {
        d.write(&state.environments.state, arguments[0], d.word(EnvironmentState.free.rawValue))
      }
    case .exitKeepsRunning:
      state.current = pre.current
      state.currentSlice = pre.currentSlice
    case .failedSliceFreeFrees:
      let p = arguments[0]
      d.when(d.and(d.not(ok), d.ult(p, d.word(UInt64(state.bounds.slices))))) {
        d.write(&state.slices, p, none)
      }
    case .replyForgetsCaller:
      keep(\.environments.state, when: ok)
      state.current = d.ite(ok, pre.current, state.current)
    case .abortForgetsUnmap:
      let took = d.and(ok, d.eq(outcome.value, d.word(1)))
      keep(\.bindings.page, when: took)
      keep(\.bindings.capability, when: took)
      keep(\.bindings.rights, when: took)
      keep(\.pages.mappings, when: took)
    case .abortRecordsTwice:
      let t = arguments[0]
      let took = d.and(ok, d.eq(outcome.value, d.word(1)))
      let p = UInt64(state.bounds.pages)
      let before = d.read(pre.revocations.repossessed, t, default: d.word(0))
      let after = d.read(state.revocations.repossessed, t, default: d.word(0))
      let first = d.read(state.repossessions, d.add(d.mul(t, p), before), default: d.word(0))
      d.when(d.and(took, d.ult(after, d.word(p)))) {
        d.write(&state.repossessions, d.add(d.mul(t, p), after), first)
        d.write(&state.revocations.repossessed, t, d.add(after, d.word(1)))
      }
    case .returnRecords:
      let c = arguments[0]
      let me = pre.current
      let p = UInt64(state.bounds.pages)
      let base = d.read(pre.capabilities.base, c, default: d.word(0))
      let count = d.read(pre.capabilities.count, c, default: d.word(0))
      let recorded = d.read(pre.revocations.repossessed, me, default: d.word(0))
      for i in 0..<state.bounds.maximumRun {
        let entry = d.add(recorded, d.word(UInt64(i)))
        d.when(d.and(ok, d.ult(d.word(UInt64(i)), count), d.ult(entry, d.word(p)))) {
          d.write(&state.repossessions, d.add(d.mul(me, p), entry), d.add(base, d.word(UInt64(i))))
        }
      }
      d.when(ok) { d.write(&state.revocations.repossessed, me, d.add(recorded, count)) }
    case .abortNeverFinishes:
      keep(\.revocations.phase, when: d.and(ok, d.eq(outcome.value, d.word(0))))
    case .sliceFreeChecksCallerParent:
      let p = arguments[0]
      let owner = d.read(pre.slices, p, default: none)
      let callerParent = d.read(pre.environments.parent, pre.current, default: none)
      let refused = d.eq(outcome.status, d.word(ExoError.notPermitted.rawValue))
      let allowed = d.and(refused, d.eq(callerParent, owner))
      d.when(allowed) { d.write(&state.slices, p, none) }
      outcome.status = d.ite(allowed, d.word(0), outcome.status)
    case .reclaimKeepsOrphansParent:
      // Every parent but the freed slot's own is left as it was.
      let t = arguments[0]
      let freed = d.and(ok, d.eq(outcome.value, d.word(0)))
      for j in 0..<state.bounds.environments {
        let child = d.ne(t, d.word(UInt64(j)))
        state.environments.parent[j] = d.ite(
          d.and(freed, child), pre.environments.parent[j], state.environments.parent[j])
      }
    case .revokeStopsAtChildren:
      // Done unless a direct child of c is a leaf.
      let c = arguments[0]
      let caps = pre.capabilities
      let directLeaf = d.first(state.bounds.capabilities) { j in
        d.and(
          d.and(d.ne(caps.kind[j], d.word(0)), d.eq(caps.children[j], d.word(0))),
          d.eq(caps.parent[j], c))
      }
      let stops = d.and(ok, d.not(directLeaf.found))
      for path in revokeChanges { keep(path, when: stops) }
      outcome.value = d.ite(stops, d.word(0), outcome.value)
    case .revokeWalksTwoLevels:
      // Done unless a leaf's parent or grandparent is c.
      let c = arguments[0]
      let caps = pre.capabilities
      let nearLeaf = d.first(state.bounds.capabilities) { j in
        let parent = caps.parent[j]
        let grandparent = d.read(caps.parent, parent, default: none)
        return d.and(
          d.and(d.ne(caps.kind[j], d.word(0)), d.eq(caps.children[j], d.word(0))),
          d.or(d.eq(parent, c), d.eq(grandparent, c)))
      }
      let stops = d.and(ok, d.not(nearLeaf.found))
      for path in revokeChanges { keep(path, when: stops) }
      outcome.value = d.ite(stops, d.word(0), outcome.value)
    case .deriveDepthStopsAtTwo:
      let child = arguments[1]
      let depth = d.read(state.capabilities.depth, child, default: d.word(0))
      d.when(d.and(ok, d.ugt(depth, d.word(2)))) {
        d.write(&state.capabilities.depth, child, d.word(2))
      }
    case .repossessSkipsDeepest:
      // Every capability deeper than 2 that the step deleted comes back
      // (with the bindings count the unbinding left, zero), and its holder
      // counts it again.
      let took = d.and(ok, d.eq(outcome.value, d.word(1)))
      let caps = pre.capabilities
      for j in 0..<state.bounds.capabilities {
        let left = d.and(
          d.and(took, d.ne(caps.kind[j], d.word(0))),
          d.and(d.ugt(caps.depth[j], d.word(2)), d.eq(state.capabilities.kind[j], d.word(0))))
        for path in [
          \SpecState<D>.capabilities.kind, \.capabilities.owner, \.capabilities.parent,
          \.capabilities.depth, \.capabilities.rights, \.capabilities.base, \.capabilities.count,
          \.capabilities.children,
        ] {
          state[keyPath: path][j] = d.ite(left, pre[keyPath: path][j], state[keyPath: path][j])
        }
        for e in 0..<state.bounds.environments {
          let counted = state.environments.capabilities[e]
          state.environments.capabilities[e] = d.ite(
            d.and(left, d.eq(caps.owner[j], d.word(UInt64(e)))), d.add(counted, d.word(1)),
            counted)
        }
      }
    case .exceptionIgnoresFrameRights:
      let x = pre.current
      let slots = UInt64(state.bounds.windowSlots)
      let slot = arguments[3]
      let b = d.add(d.mul(x, slots), slot)
      let bound = d.and(
        d.and(
          d.ult(x, d.word(UInt64(state.bounds.environments))), d.ult(slot, d.word(slots))),
        d.ne(d.read(pre.bindings.page, b, default: none), none))
      let entries = d.and(
        d.ne(d.read(pre.environments.handler, x, default: d.word(0)), d.word(0)),
        d.ne(d.read(pre.environments.handlerStack, x, default: d.word(0)), d.word(0)))
      let delivered = d.and(bound, entries)
      keep(\.environments.state, when: delivered)
      keep(\.header, when: delivered)
      outcome.value = d.ite(delivered, d.word(1), outcome.value)
    case .exitKeepsFilters:
      for path in [
        \SpecState<D>.filters.state, \.filters.owner, \.filters.slot, \.filters.pending,
        \.filters.delivered, \.filters.dropped, \.filterWords,
      ] {
        keep(path, when: ok)
      }
    case .removeLeavesBuffer: keep(\.filters.slot, when: ok)
    case .unmapAcceptsCapabilityForAnother, .grantIgnoresGrantRight, .startRevivesDying,
      .consoleReadChecksRead, .overlapIgnoresMasks, .installSkipsOverlapCheck,
      .installIgnoresBufferRights, .frameIgnoresFilterState, .transmitAsAnyFilter,
      .transmitReadsUnboundSlot:
      break  // applied above
    }
    return outcome
  }

  /// The mutated transition on concrete values (for counterexamples).
  public func applyConcrete(
    _ transition: Transition, to state: inout ConcreteState, _ arguments: [UInt64]
  ) -> SyscallResult {
    apply(transition, to: &state, arguments).result
  }
}
