import ExoABI

/// The values the specification computes with. The spec is written once,
/// generic over a domain, and interpreted twice:
///
/// - ``ConcreteDomain`` (`Bool`, `UInt64`): the fast test oracle. `branch`
///   runs one side, `first` stops at the first hit, writes go straight into
///   the table.
/// - ``SymbolicDomain`` (`BoolTerm`, 64-bit `BitVec`): builds the Z3 formula
///   of a transition. `branch` runs both sides under a path condition, every
///   write is guarded by it (`ite`), a read at a symbolic index is an `ite`
///   chain over the (fixed) table.
///
/// - `KernelDomain` (in the kernel image, `kernel/core`): plain values like
///   the concrete domain, its tables the kernel's exported tables in place.
///
/// The domain owns how the tables are stored (``Column``): Swift arrays on
/// the host, the `InfoLayout` area in the kernel. It also receives the
/// spec's *hooks* (``SpecHooks``): the points where the hardware must follow
/// a change of the abstract state (a page-table entry, a register frame).
///
/// Rules for spec code: branch only through ``branch(_:then:else:)`` (or
/// ``ite(_:_:_:)-5ms1b``); loop only over fixed table bounds; assign a
/// variable that outlives a branch only through ``assign(_:_:)``; read and
/// write tables only through ``read(_:_:default:)`` and ``write(_:_:_:)``;
/// allocate nothing (the kernel runs the same code without a heap).
/// Every operation is total: arithmetic wraps, a read outside a table gives
/// its default, a write outside a table does nothing.
public protocol SpecDomain: SpecHooks, WordOperations where HookWord == W, HookBool == B {
  /// The storage of one field of a table.
  associatedtype Column: SpecColumn where Column.Word == W

  // The truth values `B`, the words `W` and the operations on them (`bool`,
  // `word`, `not`, `and`, `or`, `eq`, `ult`, `add`, `sub`, `mul`, `bitAnd`,
  // `shiftRight`, `remainder`, `ite`, and `and(_:then:)`) are those of
  // `WordOperations` (ExoABI), which the ABI's packet-filter rules are
  // written against too.

  /// Runs `then` where `c` holds and `otherwise` where it does not. Concrete:
  /// one of them. Symbolic: both, each under the path condition extended by
  /// `c` or `!c`.
  func branch(_ c: B, then: () -> Void, else otherwise: () -> Void)
  /// `variable = value` where the path condition holds.
  func assign(_ variable: inout W, _ value: W)
  /// `table[index]`, or `fallback` when `index >= table.count`.
  func read(_ table: Column, _ index: W, default fallback: W) -> W
  /// `table[index] = value` where the path condition holds; nothing when
  /// `index >= table.count`.
  func write(_ table: inout Column, _ index: W, _ value: W)
  /// The lowest `j < count` with `predicate(j)`, or `none` when there is none.
  func first(_ count: Int, where predicate: (Int) -> B) -> (found: B, index: W)
  /// Word `i` of record `r` of `table`, which holds `count` records of
  /// `stride` words each; zero when `r >= count`. Symbolic: `r` compared
  /// with each record number (never multiplied); plain domains: one read.
  func word(
    _ i: Int, ofRecord r: W, in table: Column, stride: Int, count: Int
  ) -> W
  /// Runs `body(j)` for each `j < bound` with `j < limit`, in order.
  /// Concrete: stops at `limit`. Symbolic: every `j`, each under the path
  /// condition `j < limit`.
  func forEach(below limit: W, bound: Int, _ body: (Int) -> Void)
  /// Runs `body(j)` for each `j < bound`, in order, while `condition()`
  /// holds (it is asked before each `j`, after the bodies before it ran):
  /// the first `j` where it does not ends the loop. Concrete: stops there.
  /// Symbolic: every `j`, each under the path condition that `condition()`
  /// held before it and before every earlier `j`.
  func forEach(bound: Int, while condition: () -> B, _ body: (Int) -> Void)
  /// Whether, for every bucket `k < buckets`, `expected(k)` is the number
  /// of `i < n` with `key(i) == k` (keys that are no bucket count nowhere).
  /// The invariants' exact counts; plain domains count in one pass.
  func countsMatch(_ n: Int, buckets: Int, key: (Int) -> W, expected: (Int) -> W) -> B
  /// Whether no two `i < j < n` with `valid(i)` and `valid(j)` have equal
  /// keys. Plain domains mark the keys in `[low, low + span)` in a bitmap
  /// and compare any other key with every earlier one.
  func allDistinct(_ n: Int, key: (Int) -> W, valid: (Int) -> B, low: UInt64, span: Int) -> B
  /// Whether some frame matches both of the encoded filters `a` and `b`
  /// (``PacketFilter/wordCount`` words each, as ``PacketFilter/check(_:_:)``
  /// accepts them): the one overlap decision of the spec, which
  /// `filterInstall` refuses and the invariant `filtersDisjoint` excludes.
  /// Every domain that runs the spec computes ``filtersOverlap(_:_:)`` (the
  /// default); the symbolic domain of exoverify's transition obligations
  /// may stand for it by an uninterpreted symmetric predicate
  /// (`SymbolicDomain.abstractFilters`), the meaning being proved once by
  /// the packet-filter theorems (docs/verification.md).
  func overlaps(_ a: (Int) -> W, _ b: (Int) -> W) -> B
  /// Whether the frame of `length` bytes, byte `p` being `byte(p)`,
  /// matches the encoded filter `filter`: the spec's one matching decision
  /// (`frameArrival`). Every domain that runs the spec computes
  /// `PacketFilter.matches` (the default); in exoverify's transition
  /// obligations it may be a free truth value per filter
  /// (`SymbolicDomain.abstractFilters`): `frameArrival(matches:)` is proved
  /// for every match vector.
  func frameMatches(_ filter: (Int) -> W, length: W, byte: (W) -> W) -> B
  /// Byte `offset` (below 4096) of physical page `page`, as a word below
  /// 256: user memory, which the abstract state does not hold (the
  /// transmit call reads its frame with it). The kernel reads physical
  /// memory; ``ConcreteDomain`` reads its ``PageContents`` (zero without);
  /// the symbolic domain gives a fresh byte for each read, so what is
  /// proved holds whatever the page holds.
  func pageByte(_ page: W, _ offset: W) -> W
  /// The first failing check decides the error: if `ok` and not `condition`,
  /// `ok` becomes false and `error` becomes `code`. Concrete: `condition` is
  /// not evaluated once a check has failed.
  func check(_ ok: inout B, _ error: inout W, _ condition: () -> B, _ code: UInt64)
}

extension SpecDomain {
  @inline(__always)
  public func word(_ i: Int, ofRecord r: W, in table: Column, stride: Int, count: Int) -> W {
    var result = self.word(0)
    for j in (0..<count).reversed() {
      result = ite(eq(r, self.word(UInt64(j))), table[j * stride + i], result)
    }
    return result
  }

  /// The formula of ``countsMatch(_:buckets:key:expected:)``: for each
  /// bucket, the sum of the indicator of each key.
  public func countsMatch(_ n: Int, buckets: Int, key: (Int) -> W, expected: (Int) -> W) -> B {
    var keys: [W] = []
    for i in 0..<n { keys.append(key(i)) }
    var all = bool(true)
    for k in 0..<buckets {
      let bucket = word(UInt64(k))
      var total = word(0)
      for i in 0..<n { total = add(total, ite(eq(keys[i], bucket), word(1), word(0))) }
      all = and(all, eq(expected(k), total))
    }
    return all
  }

  /// The formula of ``allDistinct(_:key:valid:low:span:)``: pairwise.
  public func allDistinct(_ n: Int, key: (Int) -> W, valid: (Int) -> B, low: UInt64, span: Int)
    -> B
  {
    var keys: [W] = []
    var valids: [B] = []
    for i in 0..<n {
      keys.append(key(i))
      valids.append(valid(i))
    }
    var all = bool(true)
    for j in 0..<n {
      for i in 0..<j {
        all = and(all, or(not(and(valids[i], valids[j])), not(eq(keys[i], keys[j]))))
      }
    }
    return all
  }
  @inline(__always) public func ne(_ a: W, _ b: W) -> B { not(eq(a, b)) }
  /// Unsigned `a <= b`.
  @inline(__always) public func ule(_ a: W, _ b: W) -> B { not(ult(b, a)) }
  /// Unsigned `a >= b`.
  @inline(__always) public func uge(_ a: W, _ b: W) -> B { not(ult(a, b)) }
  /// Unsigned `a > b`.
  @inline(__always) public func ugt(_ a: W, _ b: W) -> B { ult(b, a) }
  @inline(__always) public func and(_ a: B, _ b: B, _ c: B) -> B { and(and(a, b), c) }
  @inline(__always) public func or(_ a: B, _ b: B, _ c: B) -> B { or(or(a, b), c) }
  /// Every bit of `mask` is set in `a`.
  @inline(__always) public func has(_ a: W, _ mask: UInt64) -> B {
    eq(bitAnd(a, word(mask)), word(mask))
  }
  /// No bit of `a` lies outside `allowed`.
  @inline(__always) public func within(_ a: W, _ allowed: W) -> B {
    eq(bitAnd(a, allowed), a)
  }
  /// `low <= a < high`, constants.
  @inline(__always) public func inRange(_ a: W, _ low: UInt64, _ high: UInt64) -> B {
    and(uge(a, word(low)), ult(a, word(high)))
  }
  /// `branch(c)` with nothing to do where `c` fails.
  @inline(__always) public func when(_ c: B, _ then: () -> Void) {
    branch(c, then: then, else: {})
  }
}

/// One field of a table: `count` words, read and written by index. The spec
/// indexes a column only at constant positions (`j` of a loop over the
/// table's bound); at a symbolic index it goes through the domain's
/// ``SpecDomain/read(_:_:default:)`` and ``SpecDomain/write(_:_:_:)``.
public protocol SpecColumn {
  associatedtype Word
  /// How many words the column has.
  var count: Int { get }
  /// The word at `position` (`position < count`).
  subscript(_ position: Int) -> Word { get set }
}

extension Array: SpecColumn {
  public typealias Word = Element
}

/// The points where the kernel's hand-written residue follows the abstract
/// state: the spec calls each hook at the exact point of its transition
/// where the hardware must change. The host domains ignore them (the
/// default implementations do nothing); the kernel's domain updates page
/// tables and the TLB, zeroes pages, and writes register frames and upcall
/// frames. A hook never changes the abstract state. Indices are the spec's
/// own: a binding index is `environment * windowSlots + slot`.
public protocol SpecHooks {
  associatedtype HookWord
  associatedtype HookBool
  /// The binding at index `b` changed (mapped, unmapped or its rights):
  /// its page-table entry must say what the binding says now, and no TLB
  /// entry may say otherwise.
  func bindingChanged(_ b: HookWord)
  /// Page number `page` was just given to a new owner by `pageAllocate`:
  /// its contents must read zero.
  func pageAllocated(_ page: HookWord)
  /// Environment `e` was just created: a fresh address space, registers at
  /// the program's entry, a clean FPU/SSE state.
  func environmentCreated(_ e: HookWord)
  /// Environment `e` was just started at `rip` with stack `rsp`.
  func environmentStarted(_ e: HookWord, rip: HookWord, rsp: HookWord)
  /// Environment `e` is about to exit with `status` (before any change).
  func environmentExiting(_ e: HookWord, status: HookWord)
  /// `waiter`'s pending `call` ends without a reply (its callee ended): the
  /// call returns `wrongState`.
  func callAbandoned(_ waiter: HookWord)
  /// `caller` just transferred control to `callee` at its call entry
  /// (`asynchronous` for `send`).
  func transferred(from caller: HookWord, to callee: HookWord, asynchronous: Bool)
  /// `replier` just replied; `woke` says whether its caller `waiter` was
  /// waiting and now gets the reply.
  func replied(_ replier: HookWord, to waiter: HookWord, woke: HookBool)
  /// Environment `e` is told `reason` with two words (an upcall).
  func upcall(_ e: HookWord, _ reason: UpcallReason, _ a: HookWord, _ b: HookWord)
  /// The current environment `e` takes an exception: `delivered` says
  /// whether its handler gets the frame (else `e` was stopped).
  func exceptionTaken(_ e: HookWord, delivered: HookBool)
  /// The frame now arriving goes to filter slot `f` of environment
  /// `owner`: copy it into the page of binding `binding` after a header
  /// (its length, then `dropped`, the filter's drop count).
  func frameDelivered(_ f: HookWord, owner: HookWord, binding: HookWord, dropped: HookWord)
  /// `frameTransmit` succeeded: the first `length` bytes of physical page
  /// `page` go to the network interface as one frame (the bytes the
  /// transmit rule read through ``SpecDomain/pageByte(_:_:)``).
  func frameTransmitted(page: HookWord, length: HookWord)
}

extension SpecHooks {
  @inline(__always) public func bindingChanged(_ b: HookWord) {}
  @inline(__always) public func pageAllocated(_ page: HookWord) {}
  @inline(__always) public func environmentCreated(_ e: HookWord) {}
  @inline(__always) public func environmentStarted(_ e: HookWord, rip: HookWord, rsp: HookWord) {}
  @inline(__always) public func environmentExiting(_ e: HookWord, status: HookWord) {}
  @inline(__always) public func callAbandoned(_ waiter: HookWord) {}
  @inline(__always)
  public func transferred(from caller: HookWord, to callee: HookWord, asynchronous: Bool) {}
  @inline(__always)
  public func replied(_ replier: HookWord, to waiter: HookWord, woke: HookBool) {}
  @inline(__always)
  public func upcall(_ e: HookWord, _ reason: UpcallReason, _ a: HookWord, _ b: HookWord) {}
  @inline(__always) public func exceptionTaken(_ e: HookWord, delivered: HookBool) {}
  @inline(__always)
  public func frameDelivered(_ f: HookWord, owner: HookWord, binding: HookWord, dropped: HookWord) {
  }
  @inline(__always) public func frameTransmitted(page: HookWord, length: HookWord) {}
}
