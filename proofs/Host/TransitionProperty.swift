import ExoABI
import ExoSpec

/// A property of one transition, relating the state before to the state
/// after (an invariant is a property of one state). Each is a rule of
/// docs/ABI.md's "Rules every transition keeps", under the same name.
///
/// The *actor* of a transition is the environment it acts for: the caller
/// (`current`) for a call, and for `tick`, `exception` and
/// `allocationPressure`; the event's target for `revocationDeadline`,
/// `revocationAbort` and `revocationPressure` (the kernel acting on T's
/// request touches T's records and what T's capabilities reach).
public enum TransitionProperty: String, CaseIterable, Sendable, Codable {
  // MARK: Integrity: who may change what

  /// An environment's record (`state`, `parent`, entries, `exitStatus`)
  /// changes only if the actor is the environment or held an environment
  /// capability naming it with `control`, or the slot was free (creation),
  /// or it was dying and the actor may reclaim it; besides, a waiting
  /// environment becomes runnable when the call it waits on ends, and a
  /// child's `parent` becomes `none` when its parent's slot is freed.
  case environmentChangedWithAuthority
  /// An environment's `caller` changes only if the actor has `control` over
  /// it (or is it), held an environment capability naming it with `call`,
  /// or the environment it served became dying; or the slot was free or
  /// is reclaimed.
  case callerChangedWithAuthority
  /// A window slot of environment T changes only if the actor has
  /// `control` over T (or is T), or may reclaim T; or it is emptied and its
  /// page was the actor's, or its capability is held by the actor or
  /// derived from one the actor holds, or lies in the reclaim domain of an
  /// environment the actor may reclaim.
  case bindingsChangedWithAuthority
  /// A slice is given to T only by an actor with `control` over T (or T
  /// itself), and only while T is live.
  case sliceGivenWithAuthority
  /// Only its holder or the holder's parent takes a slice away (docs/ABI.md
  /// "sliceFree"), or an actor that may reclaim the dying holder: a slice
  /// owned by X before a transition and not after it was taken by X, by
  /// X's parent, or X was dying and the actor may reclaim X.
  case sliceTakenByOwnerOrParent
  /// A capability's record (anything but its `children` and `bindings`
  /// counts) changes only if the actor holds it, or holds one of its
  /// ancestors, or may reclaim an environment whose reclaim domain holds it.
  case capabilityChangedWithAuthority
  /// A capability changes holder only if its holder, the actor, had the
  /// `grant` right on it.
  case capabilityMovedWithGrant
  /// A new capability is held by the actor, and is derived from a
  /// capability the actor held with `grant`, or is a root over resources
  /// that were free (an environment slot, every page of a run).
  case capabilityCreatedWithAuthority
  /// An environment's revocation record or repossession vector changes
  /// only if the actor has `control` over it (or is it, or the kernel acts
  /// on its request), or may reclaim it, or the kernel starts a request for
  /// it after a failed allocation (`allocationPressure`).
  case revocationChangedWithAuthority
  /// A page changes owner only if it was free and goes to the actor, or
  /// was the actor's (given away, freed, returned, or repossessed when the
  /// kernel acts on the actor's request), or belonged to a dying
  /// environment the actor may reclaim.
  case pageOwnerChangedLegitimately
  /// A slot that becomes free is no environment's parent afterwards, so
  /// its next occupant inherits no parent's power over its orphans.
  case freedSlotIsNobodysParent

  // MARK: Lifecycle

  /// Dying is terminal: a dying environment stays dying or becomes free.
  case dyingIsTerminal
  /// While a request is pending its record only moves forward: `requested`,
  /// `deadline` and `held` stay, `returned` and `repossessed` do not
  /// decrease, and an aborting request stays aborting or ends.
  case requestMovesForward
  /// While a request is pending its repossession vector is append-only:
  /// every valid entry keeps its page.
  case repossessionAppendOnly
  /// `capabilityRevoke(c)` reports done (success, value 0) only when no
  /// strict descendant of `c` remains.
  case revokeDoneLeavesNoDescendants
  /// Voluntary returns are never recorded as repossessed: `revocationReturn`
  /// leaves every repossession vector as it was, and any other transition
  /// records (as a new valid entry) only a page that the vector's
  /// environment owned before it.
  case voluntaryNotRecorded
  /// A dying environment's slot becomes free only by its parent, or by
  /// anyone once its parent is not live (docs/ABI.md
  /// "environmentReclaim").
  case reclaimedByParent

  // MARK: Memory access

  /// A successful `consoleWrite(address, length)` reads only bytes of the
  /// caller's readable memory: a window slot bound with `read`, the
  /// program image or the initial stack.
  case consoleWriteReadsReadable
  /// A successful `consoleRead(address, length)` writes only bytes of a
  /// window slot of the caller bound with `write` or of the initial stack.
  case consoleReadWritesWritable
  /// An exception frame is delivered only into a window slot of the
  /// faulting environment bound with `write`, and only when it has a
  /// handler and a handler stack.
  case exceptionFrameInWritableSlot
  /// A successful `frameTransmit(slot, length)` reads (and sends) only the
  /// first `length` bytes, 14 to 1514, of the page the caller had bound at
  /// window slot `slot` (bound with `read`).
  case transmitReadsBoundPage

  // MARK: Packet filters

  /// A filter slot's record (state, owner, buffer, tests) changes only if
  /// the actor owned it, or it was free and becomes the actor's, or it
  /// becomes free because its owner is no longer live or its buffer lost
  /// its binding or the binding's `write` right.
  case filterChangedByOwner
  /// `frameArrival` touches only the first active filter that matches the
  /// frame (its pending flag, delivered and dropped counts; the value names
  /// it), or, when none matches, only the unclaimed count; no filter's
  /// record changes.
  case frameGoesToMatchingFilter
  /// `frameTransmit` succeeds only for a caller that owns an active
  /// filter (the transmit rule asks that the frame's reply match one of
  /// the caller's filters, no one else's).
  case transmitOnlyAsFilterOwner

  public var name: String { rawValue }

  /// Whether the property says anything about `transition` (the others
  /// hold trivially, and exoverify does not list them).
  public func applies(to transition: Transition) -> Bool {
    switch self {
    case .revokeDoneLeavesNoDescendants: transition == .call(.capabilityRevoke)
    case .consoleWriteReadsReadable: transition == .call(.consoleWrite)
    case .consoleReadWritesWritable: transition == .call(.consoleRead)
    case .exceptionFrameInWritableSlot: transition == .event(.exception)
    case .frameGoesToMatchingFilter: transition == .event(.frameArrival)
    case .transmitReadsBoundPage, .transmitOnlyAsFilterOwner: transition == .call(.frameTransmit)
    default: true
    }
  }

  /// Whether the property holds of `step` from `pre` to `post`.
  public func holds<D: SpecDomain>(_ step: TransitionStep<D>, pre: SpecState<D>, post: SpecState<D>)
    -> D.B
  {
    let r = Relation(step, pre: pre, post: post)
    switch self {
    case .environmentChangedWithAuthority: return r.environmentChangedWithAuthority()
    case .callerChangedWithAuthority: return r.callerChangedWithAuthority()
    case .bindingsChangedWithAuthority: return r.bindingsChangedWithAuthority()
    case .sliceGivenWithAuthority: return r.sliceGivenWithAuthority()
    case .sliceTakenByOwnerOrParent: return r.sliceTakenByOwnerOrParent()
    case .capabilityChangedWithAuthority: return r.capabilityChangedWithAuthority()
    case .capabilityMovedWithGrant: return r.capabilityMovedWithGrant()
    case .capabilityCreatedWithAuthority: return r.capabilityCreatedWithAuthority()
    case .revocationChangedWithAuthority: return r.revocationChangedWithAuthority()
    case .pageOwnerChangedLegitimately: return r.pageOwnerChangedLegitimately()
    case .freedSlotIsNobodysParent: return r.freedSlotIsNobodysParent()
    case .dyingIsTerminal: return r.dyingIsTerminal()
    case .requestMovesForward: return r.requestMovesForward()
    case .repossessionAppendOnly: return r.repossessionAppendOnly()
    case .revokeDoneLeavesNoDescendants: return r.revokeDoneLeavesNoDescendants()
    case .voluntaryNotRecorded: return r.voluntaryNotRecorded()
    case .reclaimedByParent: return r.reclaimedByParent()
    case .consoleWriteReadsReadable: return r.consoleWriteReadsReadable()
    case .consoleReadWritesWritable: return r.consoleReadWritesWritable()
    case .exceptionFrameInWritableSlot: return r.exceptionFrameInWritableSlot()
    case .filterChangedByOwner: return r.filterChangedByOwner()
    case .frameGoesToMatchingFilter: return r.frameGoesToMatchingFilter()
    case .transmitReadsBoundPage: return r.transmitReadsBoundPage()
    case .transmitOnlyAsFilterOwner: return r.transmitOnlyAsFilterOwner()
    }
  }

  /// Whether the property holds of `transition` with `arguments` from
  /// concrete `pre` to `post`, where the transition gave `outcome`; `any`
  /// is the value of the property's free word (a byte offset for the
  /// console properties).
  public func holds(
    _ transition: Transition, _ arguments: [UInt64], outcome: Outcome<ConcreteDomain>,
    pre: ConcreteState, post: ConcreteState, any: UInt64 = 0
  ) -> Bool {
    holds(
      TransitionStep(transition: transition, arguments: arguments, outcome: outcome, any: any),
      pre: pre,
      post: post)
  }
}

/// What a transition property sees of one step besides the two states.
public struct TransitionStep<D: SpecDomain> {
  public var transition: Transition
  /// The arguments, one per parameter of the transition.
  public var arguments: [D.W]
  /// What the transition returned.
  public var outcome: Outcome<D>
  /// A word the property may use for "every value": exoverify makes it a
  /// free variable, so a property proved for it holds for all of them
  /// (e.g. every byte offset of a range).
  public var any: D.W

  public init(transition: Transition, arguments: [D.W], outcome: Outcome<D>, any: D.W) {
    self.transition = transition
    self.arguments = arguments
    self.outcome = outcome
    self.any = any
  }
}
