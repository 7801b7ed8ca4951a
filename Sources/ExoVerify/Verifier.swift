import ExoABI
import ExoProofs
import ExoSpec
import Foundation
import SMT

/// Proves obligations about the spec at fixed bounds with Z3. Each check
/// builds its own context, so checks run in parallel on separate threads.
public struct Verifier: Sendable {
  /// The bounds the theorems are stated for.
  public var bounds: Bounds
  /// The physical page number of page index 0 in the spec.
  public var firstPage: UInt64
  /// Per-obligation solver timeout.
  public var timeoutMilliseconds: UInt32
  /// A spec change applied to every transition (mutation testing), or nil.
  public var mutant: Mutant?

  /// The default proof bounds: small enough to prove quickly, large enough
  /// that every table has several entries, derivation goes as deep as the
  /// kernel's (depth 3: four capabilities hold the deepest chain, root → 1
  /// → 2 → 3, or a depth-2 chain and a sibling) and runs span three pages.
  /// A fifth capability (the deepest chain and a sibling) makes the
  /// revocation transitions' obligations about four times as costly
  /// (docs/verification.md).
  public static let proofBounds = Bounds(
    environments: 3, pages: 3, capabilities: 4, windowSlots: 2, slices: 2, maximumDepth: 3,
    maximumRun: 3, filters: 2)

  /// The bounds used before derivation went three levels deep: the depth
  /// mutants (``Mutant/depthMutants``) are exactly the bugs they miss.
  public static let twoLevelBounds = Bounds(
    environments: 3, pages: 3, capabilities: 4, windowSlots: 2, slices: 2, maximumDepth: 2,
    maximumRun: 2, filters: 2)

  /// The name of the free word a transition property may quantify over
  /// (``TransitionStep/any``).
  static let anyName = "property.any"

  public init(
    bounds: Bounds = Verifier.proofBounds, firstPage: UInt64 = 0x100,
    timeoutMilliseconds: UInt32 = 300_000, mutant: Mutant? = nil
  ) {
    self.bounds = bounds
    self.firstPage = firstPage
    self.timeoutMilliseconds = timeoutMilliseconds
    self.mutant = mutant
  }

  /// The query of an obligation: the solver with `assumptions ∧ ¬goal`
  /// asserted, ready to check, and what is needed to read a model back.
  struct Query {
    var solver: Solver
    var pre: SymbolicState
    var arguments: [BitVec]
    var transition: Transition?
  }

  func query(_ obligation: Obligation, context: Context) throws -> Query {
    let domain = SymbolicDomain(context: context)
    domain.abstractFilters = true
    let solver = try Solver(context: context, logic: "QF_BV")
    try solver.setTimeout(milliseconds: timeoutMilliseconds)
    switch obligation {
    case .initial(let invariant):
      let initial = SymbolicState(initial: domain, bounds: bounds, firstPage: firstPage)
      solver.assert(!invariant.holds(in: initial))
      return Query(solver: solver, pre: initial, arguments: [], transition: nil)
    case .preserves(let transition, let invariant):
      let pre = SymbolicState(
        symbolic: domain, bounds: bounds, firstPage: firstPage, prefix: "pre.")
      let arguments = transition.parameters.map { domain.variable("arg.\($0)") }
      var post = pre
      _ = apply(transition, to: &post, arguments)
      solver.assert(Invariant.all(in: pre))
      solver.assert(!invariant.holds(in: post))
      return Query(solver: solver, pre: pre, arguments: arguments, transition: transition)
    case .errorUnchanged(let transition):
      let pre = SymbolicState(
        symbolic: domain, bounds: bounds, firstPage: firstPage, prefix: "pre.")
      let arguments = transition.parameters.map { domain.variable("arg.\($0)") }
      var post = pre
      let outcome = apply(transition, to: &post, arguments)
      var unchanged = domain.bool(true)
      for (a, b) in zip(pre.words, post.words) { unchanged = unchanged && a.eq(b) }
      solver.assert(outcome.status.ne(domain.word(0)))
      solver.assert(!unchanged)
      return Query(solver: solver, pre: pre, arguments: arguments, transition: transition)
    case .abortCompletes(let steps):
      return try livenessQuery(steps: steps, context: context)
    case .packetFilter(let theorem):
      let domain = SymbolicDomain(context: context)
      let solver = try Solver(context: context, logic: theorem.logic)
      solver.assert(filterQuery(theorem, domain).claim)
      return Query(
        solver: solver, pre: SymbolicState(initial: domain, bounds: bounds, firstPage: firstPage),
        arguments: [], transition: nil)
    case .transitionProperty(let transition, let property):
      let pre = SymbolicState(
        symbolic: domain, bounds: bounds, firstPage: firstPage, prefix: "pre.")
      let arguments = transition.parameters.map { domain.variable("arg.\($0)") }
      var post = pre
      let outcome = apply(transition, to: &post, arguments)
      let step = TransitionStep(
        transition: transition, arguments: arguments, outcome: outcome,
        any: domain.variable(Verifier.anyName))
      solver.assert(Invariant.all(in: pre))
      solver.assert(!property.holds(step, pre: pre, post: post))
      return Query(solver: solver, pre: pre, arguments: arguments, transition: transition)
    }
  }

  func apply(_ transition: Transition, to state: inout SymbolicState, _ arguments: [BitVec])
    -> Outcome<SymbolicDomain>
  {
    if let mutant { return mutant.apply(transition, to: &state, arguments) }
    return state.apply(transition, arguments)
  }

  /// The obligation as standalone SMT-LIB2 text (declarations, assertions,
  /// `(check-sat)`); `unsat` means proved.
  public func smtlib2(_ obligation: Obligation) throws -> String {
    let context = try Context(randomSeed: 0)
    let q = try query(obligation, context: context)
    return q.solver.smtlib2() + "(check-sat)\n"
  }

  /// Checks one obligation; `cache` (if any) answers unchanged proofs.
  public func check(_ obligation: Obligation, cache: ProofCache? = nil) -> ObligationReport {
    check(group: [obligation], cache: cache)[0]
  }

  /// Checks obligations that share one transition (or are all `initial`) in
  /// one solver: the transition's formula and the assumed invariants are
  /// built and asserted once, and each obligation's negated goal is checked
  /// under its own push/pop — still one independent check and one verdict
  /// per obligation.
  public func check(
    group: [Obligation], cache: ProofCache? = nil, session existing: ProofSession? = nil
  ) -> [ObligationReport] {
    let start = DispatchTime.now()
    func since(_ t: DispatchTime) -> Double {
      Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e9
    }
    if case .abortCompletes(let steps) = group[0] {
      return group.map { checkLiveness($0, steps: steps) }
    }
    if case .packetFilter = group[0] {
      return group.map {
        guard case .packetFilter(let theorem) = $0 else { return check($0, cache: cache) }
        return checkFilter($0, theorem, cache: cache)
      }
    }
    var reports: [ObligationReport] = []
    do {
      let session = try existing ?? ProofSession(self)
      let domain = session.domain
      let solver = session.solver
      let pre = session.pre
      let assumed = session.assumed
      // The overlap predicate's applications of earlier groups are in no
      // formula asserted now.
      domain.forgetOverlapApplications(after: session.overlapApplications)
      let transition: Transition? =
        if case .initial = group[0] { nil } else { group[0].transitionOrNil }
      var post: SymbolicState
      var arguments: [BitVec] = []
      var outcome = Outcome<SymbolicDomain>(status: domain.word(0), value: domain.word(0))
      if let transition {
        arguments = transition.parameters.map { domain.variable("arg.\($0)") }
        post = pre
        outcome = apply(transition, to: &post, arguments)
      } else {
        post = SymbolicState(initial: domain, bounds: bounds, firstPage: firstPage)
      }
      let base = cache.map { _ in session.cacheBase }
      let setup = since(start)
      for obligation in group {
        let began = DispatchTime.now()
        let goal: BoolTerm
        switch obligation {
        case .initial(let invariant), .preserves(_, let invariant):
          goal = invariant.holds(in: post)
        case .errorUnchanged:
          var unchanged = domain.bool(true)
          for (a, b) in zip(pre.words, post.words) { unchanged = unchanged && a.eq(b) }
          goal = !outcome.status.ne(domain.word(0)) || unchanged
        case .transitionProperty(let t, let property):
          let step = TransitionStep(
            transition: t, arguments: arguments, outcome: outcome,
            any: domain.variable(Verifier.anyName))
          goal = property.holds(step, pre: pre, post: post)
        case .abortCompletes, .packetFilter:
          continue  // checked on its own above
        }
        let key = base.map { ProofCache.key($0 + " " + (!goal).ast.contentHash) }
        // The shared setup is charged to the first obligation of the group.
        let overhead = obligation == group[0] ? setup : 0
        if let cache, let key, cache.contains(key) {
          reports.append(
            ObligationReport(
              obligation: obligation, verdict: .proved, seconds: overhead + since(began),
              cached: true))
          continue
        }
        // A goal that is literally one of the assumptions (the transition
        // left everything it mentions unchanged) is proved without a check.
        if case .preserves(_, let invariant) = obligation, let before = assumed[invariant],
          before.ast.isIdentical(to: goal.ast)
        {
          if let cache, let key { cache.insert(key) }
          reports.append(
            ObligationReport(
              obligation: obligation, verdict: .proved, seconds: overhead + since(began),
              detail: nil, cached: false))
          continue
        }
        solver.push()
        solver.assert(!goal)
        var answer = try solver.check()
        var scopes = 1
        if case .sat(let model) = answer, try !disagreeing(domain, model).isEmpty {
          // The model may not be one of the spec: the overlap predicate
          // disagrees with the check on filters it chose. First a model
          // with no active filter before the step: there every application
          // of the predicate (and every frame match) is guarded off (no two
          // filters active before, at most one after), so its values do
          // not matter and the model is the spec's.
          solver.push()
          solver.assert(noActiveFilter(pre))
          let restricted = try solver.check()
          if case .sat = restricted {
            answer = restricted
            scopes = 2
          } else {
            try solver.pop(1)
            // Else each application the model got wrong is given the
            // check's own formula (true of the check: no proof is lost),
            // and the solver asked again, until the model agrees.
            var refined = Set<Int>()
            while case .sat(let model) = answer {
              let wrong = try disagreeing(domain, model).filter { !refined.contains($0) }
              if wrong.isEmpty { break }
              for k in wrong {
                let application = domain.overlapApplications[k]
                solver.assert(
                  application.value.iff(
                    domain.filtersOverlap({ application.a[$0] }, { application.b[$0] })))
                refined.insert(k)
              }
              answer = try solver.check()
            }
          }
        }
        switch answer {
        case .unsat:
          if let cache, let key { cache.insert(key) }
          reports.append(
            ObligationReport(
              obligation: obligation, verdict: .proved, seconds: overhead + since(began),
              cached: false))
        case .sat(let model):
          let q = Query(solver: solver, pre: pre, arguments: arguments, transition: transition)
          let example = try counterexample(q, model: model)
          reports.append(
            ObligationReport(
              obligation: obligation, verdict: .failed, seconds: overhead + since(began),
              counterexample: example, cached: false))
        case .unknown(let reason):
          let verdict: ProofVerdict =
            reason.contains("timeout") || reason.contains("canceled") ? .timeout : .unknown
          reports.append(
            ObligationReport(
              obligation: obligation, verdict: verdict, seconds: overhead + since(began),
              detail: reason, cached: false))
        }
        try solver.pop(scopes)
      }
    } catch {
      for obligation in group.dropFirst(reports.count) {
        reports.append(
          ObligationReport(
            obligation: obligation, verdict: .unknown, seconds: since(start), detail: "\(error)",
            cached: false))
      }
    }
    return reports
  }

  /// The applications of the overlap predicate to which `model` gives a
  /// value the overlap check does not give the filters it chose.
  func disagreeing(_ domain: SymbolicDomain, _ model: Model) throws -> [Int] {
    let concrete = ConcreteDomain()
    var wrong: [Int] = []
    for (k, application) in domain.overlapApplications.enumerated() {
      let a = try application.a.map { try model.eval($0) }
      let b = try application.b.map { try model.eval($0) }
      let truth = concrete.filtersOverlap({ a[$0] }, { b[$0] })
      if try model.eval(application.value) != truth { wrong.append(k) }
    }
    return wrong
  }

  /// No filter slot of `state` is active.
  func noActiveFilter(_ state: SymbolicState) -> BoolTerm {
    let d = state.domain
    var none = d.bool(true)
    for j in 0..<state.bounds.filters {
      none = d.and(none, d.ne(state.filters.state[j], d.word(FilterState.active.rawValue)))
    }
    return none
  }

  /// Reads the pre-state and arguments out of `model` and runs the concrete
  /// spec (with the same mutant, if any) on them.
  func counterexample(_ q: Query, model: Model) throws -> Counterexample {
    var pre = try q.pre.evaluate(in: model)
    let arguments = try q.arguments.map { try model.eval($0) }
    func run(_ state: inout ConcreteState, _ transition: Transition) -> SyscallResult {
      if let mutant { return mutant.applyConcrete(transition, to: &state, arguments) }
      return state.step(transition, arguments)
    }
    if q.transition == .call(.frameTransmit) {
      pre = transmitWitness(pre) { s in run(&s, .call(.frameTransmit)) }
    }
    var post = pre
    var result: SyscallResult?
    if let transition = q.transition { result = run(&post, transition) }
    return Counterexample(
      transition: q.transition, arguments: arguments, pre: pre, post: post, result: result)
  }
}

/// The page contents of a `frameTransmit` counterexample. The obligations
/// leave the frame free (whether it matches a filter is a free truth value
/// under ``SymbolicDomain/abstractFilters``), so the frame is found
/// concretely: for each active filter in turn, a frame whose reply that
/// filter receives (`transmittableFrame`); the first under which `run`
/// sends it becomes every page's contents. Without one, the page is zero.
func transmitWitness(_ pre: ConcreteState, run: (inout ConcreteState) -> SyscallResult)
  -> ConcreteState
{
  for j in 0..<pre.bounds.filters where pre.filters.state[j] == FilterState.active.rawValue {
    let frame = pre.transmittableFrame(
      seed: 0, filter: UInt64(j), length: PacketFilter.maximumFrameLength)
    let memory = PageContents { _, o in o < UInt64(frame.count) ? UInt64(frame[Int(o)]) : 0 }
    let candidate = ConcreteState(
      bounds: pre.bounds, firstPage: pre.firstPage, words: pre.words, memory: memory)
    var post = candidate
    if run(&post).status == 0 { return candidate }
  }
  return pre
}

/// What every obligation shares, built once per worker thread: the Z3
/// context, the symbolic pre-state and the solver with every invariant of
/// the pre-state asserted (and bit-blasted) once. Each transition's goals are
/// then checked under push/pop. Not thread-safe: one per thread.
public final class ProofSession {
  let context: Context
  let domain: SymbolicDomain
  let solver: Solver
  let pre: SymbolicState
  let assumed: [Invariant: BoolTerm]
  /// How many applications of the overlap predicate the assumptions hold.
  let overlapApplications: Int
  /// The format, the bounds, the mutant and the content hashes of the
  /// assumptions: the part of every cache key the session fixes.
  let cacheBase: String

  public init(_ verifier: Verifier) throws {
    context = try Context(randomSeed: 0)
    domain = SymbolicDomain(context: context)
    domain.abstractFilters = true
    solver = try Solver(context: context, logic: "QF_BV")
    try solver.setTimeout(milliseconds: verifier.timeoutMilliseconds)
    pre = SymbolicState(
      symbolic: domain, bounds: verifier.bounds, firstPage: verifier.firstPage, prefix: "pre.")
    var assumed: [Invariant: BoolTerm] = [:]
    var text =
      "exoverify-v2 \(verifier.bounds) \(verifier.firstPage) \(verifier.mutant?.rawValue ?? "-")"
    for invariant in Invariant.allCases {
      let holds = invariant.holds(in: pre)
      assumed[invariant] = holds
      solver.assert(holds)
      text += " " + holds.ast.contentHash
    }
    self.assumed = assumed
    overlapApplications = domain.overlapApplications.count
    cacheBase = text
  }
}
