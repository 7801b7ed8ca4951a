import ExoABI

/// Visible revocation and the abort protocol (docs/ABI.md "Revocation"):
/// the request and return calls, and the kernel events of the deadline,
/// each abort step and memory pressure.
extension SpecState {
  // MARK: Reads

  @inline(__always) func phaseOf(_ e: W) -> W {
    domain.read(revocations.phase, e, default: zero)
  }
  @inline(__always) func requestedOf(_ e: W) -> W {
    domain.read(revocations.requested, e, default: zero)
  }
  @inline(__always) func deadlineOf(_ e: W) -> W {
    domain.read(revocations.deadline, e, default: zero)
  }
  @inline(__always) func returnedOf(_ e: W) -> W {
    domain.read(revocations.returned, e, default: zero)
  }
  @inline(__always) func repossessedOf(_ e: W) -> W {
    domain.read(revocations.repossessed, e, default: zero)
  }
  @inline(__always) func word(_ value: RevocationPhase) -> W { domain.word(value.rawValue) }

  /// Whether a request for `e` is pending (phase not `none`).
  @inline(__always) func isPending(_ e: W) -> B { domain.ne(phaseOf(e), zero) }

  /// Whether capability `k` is a root memory capability.
  @inline(__always) func isRootMemory(_ k: W) -> B {
    domain.and(
      domain.eq(kindOf(k), word(CapabilityKind.memory)), domain.eq(parentOf(capability: k), none))
  }

  /// The number of pages `e` owns.
  @inline(__always)
  func pagesOwned(by e: W) -> W {
    let d = domain
    var total = zero
    for i in 0..<bounds.pages {
      total = d.add(total, d.ite(d.eq(pages.owner[i], e), word(1), zero))
    }
    return total
  }

  /// `requested − returned − repossessed` of `e`, or 0 if not positive.
  @inline(__always)
  func owed(_ e: W) -> W {
    let d = domain
    let done = d.add(returnedOf(e), repossessedOf(e))
    let asked = requestedOf(e)
    return d.ite(d.ult(done, asked), d.sub(asked, done), zero)
  }

  // MARK: Calls

  /// `revocationRequest(T, c, count, ticks)`.
  public mutating func revocationRequest(target t: W, envCap c: W, count: W, ticks: W)
    -> Outcome<D>
  {
    let d = domain
    var v = begin()
    authority(&v, t, c)
    v.require(d.ne(t, current), else: .invalidArgument)
    v.require(isLive(t), else: .wrongState)
    v.require(
      d.and(
        d.and(d.ne(count, zero), d.ule(count, word(bounds.pages))),
        d.and(d.ne(ticks, zero), d.ule(ticks, word(RevocationLimits.maximumDeadline)))),
      else: .invalidArgument)
    v.require(d.not(isPending(t)), else: .busy)
    return finish(v) { s in
      s.startRequest(t, count: count, deadline: d.add(s.tickCount, ticks))
      return s.zero
    }
  }

  /// `revocationReturn(c)`. Value: pages still owed.
  public mutating func revocationReturn(capability c: W) -> Outcome<D> {
    let d = domain
    var v = begin()
    let me = current
    v.require(isPending(me), else: .wrongState)
    v.require(d.ult(c, word(bounds.capabilities)), else: .outOfRange)
    v.require(d.and(isRootMemory(c), d.eq(ownerOf(capability: c), me)), else: .invalidCapability)
    return finish(v) { s in
      let returned = d.add(s.returnedOf(me), s.countOf(c))
      s.repossessRun(c, recordFor: nil)
      d.write(&s.revocations.returned, me, returned)
      let owed = s.owed(me)
      d.when(d.eq(owed, s.zero)) { d.write(&s.revocations.phase, me, s.word(RevocationPhase.none)) }
      return owed
    }
  }

  // MARK: Kernel events

  /// The deadline of T's request passes: the abort begins.
  public mutating func revocationDeadline(target t: W) -> Outcome<D> {
    let d = domain
    var v = Verdict(domain)
    v.require(d.ult(t, word(bounds.environments)), else: .outOfRange)
    v.require(d.eq(phaseOf(t), word(RevocationPhase.requested)), else: .wrongState)
    v.require(d.uge(tickCount, deadlineOf(t)), else: .wrongState)
    return finish(v) { s in
      d.write(&s.revocations.phase, t, s.word(RevocationPhase.aborting))
      return s.zero
    }
  }

  /// One abort step for T. Value 1 when a run was taken, 0 when the abort
  /// is complete (the request ends).
  public mutating func revocationAbort(target t: W) -> Outcome<D> {
    let d = domain
    var v = Verdict(domain)
    v.require(d.ult(t, word(bounds.environments)), else: .outOfRange)
    v.require(d.eq(phaseOf(t), word(RevocationPhase.aborting)), else: .wrongState)
    return finish(v) { s in
      let owed = s.owed(t)
      let root = d.first(s.bounds.capabilities) { j in
        d.and(
          d.eq(s.capabilities.kind[j], s.word(CapabilityKind.memory)),
          then: {
            d.and(d.eq(s.capabilities.parent[j], s.none), d.eq(s.capabilities.owner[j], t))
          })
      }
      var value = s.zero
      d.branch(
        d.and(d.ne(owed, s.zero), root.found),
        then: {
          s.repossessRun(root.index, recordFor: t)
          d.assign(&value, s.word(1))
        },
        else: {
          d.write(&s.revocations.phase, t, s.word(RevocationPhase.none))
          d.upcall(t, .repossession, s.repossessedOf(t), s.requestedOf(t))
        })
      return value
    }
  }

  /// Memory pressure: the kernel asks T for `count` pages with the pressure
  /// deadline.
  public mutating func revocationPressure(target t: W, count: W) -> Outcome<D> {
    let d = domain
    var v = Verdict(domain)
    v.require(d.ult(t, word(bounds.environments)), else: .outOfRange)
    v.require(isLive(t), else: .wrongState)
    v.require(d.and(d.ne(count, zero), d.ule(count, word(bounds.pages))), else: .invalidArgument)
    v.require(d.not(isPending(t)), else: .busy)
    return finish(v) { s in
      s.startRequest(
        t, count: count, deadline: d.add(s.tickCount, s.word(RevocationLimits.pressureDeadline)))
      return s.zero
    }
  }

  // MARK: Shared steps

  /// Starts a request for `t`: a fresh record and an empty vector.
  mutating func startRequest(_ t: W, count: W, deadline: W) {
    let d = domain
    let held = d.read(environments.pages, t, default: zero)
    clearVector(t)
    d.write(&revocations.phase, t, word(RevocationPhase.requested))
    d.write(&revocations.requested, t, count)
    d.write(&revocations.deadline, t, deadline)
    d.write(&revocations.returned, t, zero)
    d.write(&revocations.held, t, held)
    d.write(&revocations.repossessed, t, zero)
    d.upcall(t, .revocationRequest, count, deadline)
  }

  /// Every entry of `t`'s repossession vector becomes 0. Only the entries
  /// below the header (`repossessed(t)`) are written: the others already
  /// are 0 (`revocationRecords`).
  mutating func clearVector(_ t: W) {
    let d = domain
    // One guarded assignment per entry (rather than a write at a symbolic
    // index per entry), which keeps the formula linear in the table.
    for e in 0..<bounds.environments {
      d.when(d.eq(t, word(e))) {
        let row = e * bounds.pages
        d.forEach(below: revocations.repossessed[e], bound: bounds.pages) { i in
          d.assign(&repossessions[row + i], zero)
        }
      }
    }
  }

  /// Writes the all-zero revocation record and empty vector of `t`.
  mutating func clearRevocation(_ t: W) {
    let d = domain
    clearVector(t)
    d.write(&revocations.phase, t, zero)
    d.write(&revocations.requested, t, zero)
    d.write(&revocations.deadline, t, zero)
    d.write(&revocations.returned, t, zero)
    d.write(&revocations.held, t, zero)
    d.write(&revocations.repossessed, t, zero)
  }

  /// **repossess run r**: every binding to a page of r's run is removed, r
  /// and every capability derived from it are deleted, the pages become
  /// free. With `recordFor` an environment, the page numbers are appended
  /// to its repossession vector.
  mutating func repossessRun(_ r: W, recordFor recorder: W?) {
    let d = domain
    let base = baseOf(r)
    let count = countOf(r)
    // Bindings: every window slot that maps a page of the run or is backed
    // by r or a capability derived from it (in a well-formed state these
    // are the same slots). Removing bindings changes no capability's kind
    // or parent, so the tree is the same for every slot. Each window is
    // read only until its last bound slot (its `bindings` count is exact).
    let slots = bounds.windowSlots
    for e in 0..<bounds.environments {
      var unseen = environments.bindings[e]
      d.forEach(bound: slots, while: { d.ne(unseen, zero) }) { j in
        let b = e * slots + j
        let page = bindings.page[b]
        d.when(d.ne(page, none)) {
          d.assign(&unseen, d.sub(unseen, word(1)))
          let k = bindings.capability[b]
          let inRun = d.and(d.uge(page, base), d.ult(d.sub(page, base), count))
          d.when(d.or(inRun, isInTree(k, of: r))) { unbind(word(b), of: word(e)) }
        }
      }
    }
    removeFiltersWithoutBuffer()
    // The holder of r loses the run's pages (a root memory capability's
    // pages are its holder's: `pageOwnership`, `rootCoversPages`).
    countPages(of: ownerOf(capability: r), count, adding: false)
    // Capabilities: the descendants deepest first, so that every ancestor
    // chain walked is still intact (a parent is one level above its
    // child, `derivationAcyclic`), then r itself. A capability without
    // children has no descendant (`childrenCountExact`).
    d.when(d.ne(childrenOf(r), zero)) {
      var level = bounds.maximumDepth
      while level > 0 {
        for j in 0..<bounds.capabilities {
          let k = word(j)
          let below = d.and(
            d.and(d.eq(capabilities.depth[j], word(level)), d.ne(capabilities.kind[j], zero)),
            then: { isStrictDescendant(k, of: r) })
          d.when(below) { clearCapability(j) }
        }
        level -= 1
      }
    }
    countCapability(of: ownerOf(capability: r), by: .max)
    writeEmptyCapability(at: r)
    // Pages: free, and recorded in order.
    let recorded = recorder.map { repossessedOf($0) } ?? zero
    let row = recorder.map { d.mul($0, UInt64(truncatingIfNeeded: bounds.pages)) } ?? zero
    for i in 0..<bounds.maximumRun {
      d.when(d.ult(word(i), count)) {
        let page = d.add(base, word(i))
        let index = pageIndex(page)
        d.write(&pages.owner, index, none)
        d.write(&pages.root, index, none)
        if recorder != nil {
          let entry = d.add(recorded, word(i))
          d.when(d.ult(entry, word(bounds.pages))) {
            d.write(&repossessions, d.add(row, entry), page)
          }
        }
      }
    }
    if let recorder {
      d.write(&revocations.repossessed, recorder, d.add(recorded, count))
    }
  }

  /// Whether capability `k` is `r` or a non-empty capability derived from
  /// it.
  @inline(__always)
  func isInTree(_ k: W, of r: W) -> B {
    let d = domain
    return d.or(
      d.eq(k, r),
      d.and(
        d.and(d.ult(k, word(bounds.capabilities)), d.ne(kindOf(k), zero)),
        isStrictDescendant(k, of: r)))
  }

  /// Capability `j` (a constant position) holds the empty record; its
  /// holder counts one capability fewer. Its parent's `children` is left
  /// as it is: only ``repossessRun(_:recordFor:)`` uses this, on a whole
  /// tree at once.
  mutating func clearCapability(_ j: Int) {
    countCapability(of: capabilities.owner[j], by: .max)
    writeEmptyCapability(at: word(j))
  }

  /// Capability `k` holds the empty record.
  mutating func writeEmptyCapability(at k: W) {
    let d = domain
    d.write(&capabilities.kind, k, zero)
    d.write(&capabilities.owner, k, none)
    d.write(&capabilities.parent, k, none)
    d.write(&capabilities.depth, k, zero)
    d.write(&capabilities.rights, k, zero)
    d.write(&capabilities.base, k, zero)
    d.write(&capabilities.count, k, zero)
    d.write(&capabilities.children, k, zero)
    d.write(&capabilities.bindings, k, zero)
  }
}
