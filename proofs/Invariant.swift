import ExoABI

#if canImport(ExoSpec)
  import ExoSpec
#endif

/// The invariants of the kernel's abstract state, written once over the
/// spec's state and generic over its domain: with concrete values they are
/// run by tests on every state a replay reaches; with SMT terms exoverify
/// proves that every transition preserves them.
///
/// Quantifiers over table indices are unrolled over the (fixed) bounds, so
/// every formula is quantifier-free.
public enum Invariant: CaseIterable, Sendable {
  // The state is well formed.
  /// Each environment's state is one of `EnvironmentState`, its parent is an
  /// environment or `none`, and a free slot is the canonical free record.
  case environmentRecords
  /// An empty capability is the canonical empty record; a non-empty one has
  /// a defined kind.
  case capabilityRecords
  /// An empty window slot is the canonical empty binding.
  case bindingRecords
  /// `currentSlice` names a slice position.
  case currentSliceInRange

  // The capability hierarchy.
  /// Every capability's holder is an environment that is not free.
  case capabilityOwnerExists
  /// Every environment's parent is `none` or an environment that is not
  /// free: a freed slot is nobody's parent, so a new environment in it is
  /// not the parent of the old one's children.
  case parentExists
  /// A root has depth 0; a derived capability's parent is a non-empty
  /// capability of the same kind one level up (derivation is acyclic and
  /// every ancestor of a valid capability is valid); depth is bounded.
  case derivationAcyclic
  /// A capability's rights are defined for its kind and a subset of its
  /// parent's.
  case rightsShrink
  /// A memory capability's range lies in the managed pages and within its
  /// parent's (a root's spans at most `maximumRun` pages); an environment
  /// capability names a non-free environment.
  case rangeShrinks
  /// `children(c)` is exactly the number of capabilities whose parent is c.
  case childrenCountExact
  /// Each environment's `capabilities` is exactly the number it holds.
  case capabilityCountExact
  /// Each environment's `pages` is exactly the number of pages it owns.
  case pagesCountExact

  // Secure bindings.
  /// Every binding is backed by a memory capability held by the mapping
  /// environment that covers the page and grants every right the binding
  /// uses (which always include read and never exceed read, write, execute).
  case bindingBacked
  /// `bindings(c)` is exactly the number of bindings backed by c.
  case bindingsCountExact
  /// `mappings(p)` is exactly the number of bindings that map p.
  case mappingsCountExact
  /// Each environment's `bindings` is exactly the number of its window
  /// slots that are bound.
  case windowCountExact
  /// A free page has no root and no binding; an owned page's owner is a
  /// non-free environment and its root is a root memory capability of that
  /// owner covering it.
  case pageOwnership
  /// Every page of a root memory capability names that root.
  case rootCoversPages
  /// A free environment slot maps nothing and holds no slice.
  case freeEnvironmentOwnsNothing

  // Scheduling and control transfer.
  /// Every slice owner is an environment that is not free: live, or dying
  /// (its reclaim frees its slices).
  case sliceOwnerExists
  /// The current environment is runnable (or the kernel is idle).
  case currentRunnable
  /// The kernel idles only when no slice's owner is runnable (the scheduler
  /// never leaves a runnable slice owner waiting while nothing runs).
  case idleOnlyWhenNothingRuns
  /// A pending synchronous call's caller is another environment, waiting,
  /// its callee is live, and every waiting environment has exactly one
  /// callee.
  case pendingCallsLive

  // Revocation and the abort protocol.
  /// Each revocation record is well formed: a defined phase; requested,
  /// returned, held and repossessed at most P; vector entries below the
  /// header are managed pages, the others 0; a free environment's record is
  /// all zeros; a pending request's environment is live and asked for
  /// 1 to P pages.
  case revocationRecords
  /// Each repossessed page is recorded once: the valid entries of a vector
  /// are pairwise distinct.
  case repossessedOnce
  /// No binding to a repossessed page: a recorded page that is free has no
  /// mapping (with `mappingsCountExact`: no window slot maps it), and while
  /// the request is pending the environment does not own it.
  case repossessedUnbound
  /// Pages are conserved: while a request is pending, the pages the
  /// environment owns plus those it returned plus those repossessed are the
  /// pages it held when asked.
  case pagesConserved

  // Packet filters (docs/network.md).
  /// Each filter slot is well formed: a defined state, a free slot the
  /// canonical free record, a building one without buffer, count or frames,
  /// an active one's encoding accepted by the decoder, at most one frame
  /// pending.
  case filterRecords
  /// The owner of every filter that is not free is live.
  case filterOwnerLive
  /// An active filter's buffer is a window slot its owner has bound with
  /// `write`.
  case filterBufferWritable
  /// Active filters are pairwise disjoint: no frame matches two of them.
  case filtersDisjoint

  /// The case at `ordinal` in declaration order, with its name as a
  /// static string, or `nil` past the last: how the kernel (which has no
  /// heap for `allCases` nor `String` storage for `name`) walks every case.
  /// A test checks it against `allCases` and `name`.
  public static func at(_ ordinal: Int) -> (invariant: Invariant, label: StaticString)? {
    switch ordinal {
    case 0: (.environmentRecords, "environmentRecords")
    case 1: (.capabilityRecords, "capabilityRecords")
    case 2: (.bindingRecords, "bindingRecords")
    case 3: (.currentSliceInRange, "currentSliceInRange")
    case 4: (.capabilityOwnerExists, "capabilityOwnerExists")
    case 5: (.parentExists, "parentExists")
    case 6: (.derivationAcyclic, "derivationAcyclic")
    case 7: (.rightsShrink, "rightsShrink")
    case 8: (.rangeShrinks, "rangeShrinks")
    case 9: (.childrenCountExact, "childrenCountExact")
    case 10: (.capabilityCountExact, "capabilityCountExact")
    case 11: (.pagesCountExact, "pagesCountExact")
    case 12: (.bindingBacked, "bindingBacked")
    case 13: (.bindingsCountExact, "bindingsCountExact")
    case 14: (.mappingsCountExact, "mappingsCountExact")
    case 15: (.windowCountExact, "windowCountExact")
    case 16: (.pageOwnership, "pageOwnership")
    case 17: (.rootCoversPages, "rootCoversPages")
    case 18: (.freeEnvironmentOwnsNothing, "freeEnvironmentOwnsNothing")
    case 19: (.sliceOwnerExists, "sliceOwnerExists")
    case 20: (.currentRunnable, "currentRunnable")
    case 21: (.idleOnlyWhenNothingRuns, "idleOnlyWhenNothingRuns")
    case 22: (.pendingCallsLive, "pendingCallsLive")
    case 23: (.revocationRecords, "revocationRecords")
    case 24: (.repossessedOnce, "repossessedOnce")
    case 25: (.repossessedUnbound, "repossessedUnbound")
    case 26: (.pagesConserved, "pagesConserved")
    case 27: (.filterRecords, "filterRecords")
    case 28: (.filterOwnerLive, "filterOwnerLive")
    case 29: (.filterBufferWritable, "filterBufferWritable")
    case 30: (.filtersDisjoint, "filtersDisjoint")
    default: nil
    }
  }

  /// Whether the invariant holds in `s`.
  public func holds<D: SpecDomain>(in s: SpecState<D>) -> D.B {
    let v = View(s)
    switch self {
    case .environmentRecords: return v.environmentRecords()
    case .capabilityRecords: return v.capabilityRecords()
    case .bindingRecords: return v.bindingRecords()
    case .currentSliceInRange: return v.d.ult(s.currentSlice, v.w(s.bounds.slices))
    case .capabilityOwnerExists: return v.capabilityOwnerExists()
    case .parentExists: return v.parentExists()
    case .derivationAcyclic: return v.derivationAcyclic()
    case .rightsShrink: return v.rightsShrink()
    case .rangeShrinks: return v.rangeShrinks()
    case .childrenCountExact: return v.childrenCountExact()
    case .capabilityCountExact: return v.capabilityCountExact()
    case .pagesCountExact: return v.pagesCountExact()
    case .bindingBacked: return v.bindingBacked()
    case .bindingsCountExact: return v.bindingsCountExact()
    case .mappingsCountExact: return v.mappingsCountExact()
    case .windowCountExact: return v.windowCountExact()
    case .pageOwnership: return v.pageOwnership()
    case .rootCoversPages: return v.rootCoversPages()
    case .freeEnvironmentOwnsNothing: return v.freeEnvironmentOwnsNothing()
    case .sliceOwnerExists: return v.sliceOwnerExists()
    case .currentRunnable: return v.currentRunnable()
    case .idleOnlyWhenNothingRuns: return v.idleOnlyWhenNothingRuns()
    case .pendingCallsLive: return v.pendingCallsLive()
    case .revocationRecords: return v.revocationRecords()
    case .repossessedOnce: return v.repossessedOnce()
    case .repossessedUnbound: return v.repossessedUnbound()
    case .pagesConserved: return v.pagesConserved()
    case .filterRecords: return v.filterRecords()
    case .filterOwnerLive: return v.filterOwnerLive()
    case .filterBufferWritable: return v.filterBufferWritable()
    case .filtersDisjoint: return v.filtersDisjoint()
    }
  }

  /// The conjunction of `invariants` in `s`.
  public static func all<D: SpecDomain>(_ invariants: [Invariant] = allCases, in s: SpecState<D>)
    -> D.B
  {
    let d = s.domain
    var result = d.bool(true)
    for invariant in invariants { result = d.and(result, invariant.holds(in: s)) }
    return result
  }
}
