import ExoABI

/// A user-level thread of the libOS.
public struct UserThread: Equatable, Sendable {
  /// The kernel interface's context id.
  public var context: UInt64
  /// Its body returned.
  public var finished = false
  /// The window slots of its stack (none for the first thread).
  public var stackSlots: [Int] = []
}

/// User-level threads: the libOS runs several threads in the slices this
/// environment owns, round-robin. A thread gives way with
/// ``threadYield()``; at the end of a slice the thread running is
/// preempted at its next entry into the libOS (a load, a store or a
/// yield), never inside an exception or transfer handler. The kernel
/// resumes an interrupted environment where it was, so preemption is
/// noticed from `ticks` in the exported header.
extension LibOS {
  /// Starts a thread that runs `body` on a stack of `stackPages` pages of
  /// this environment's window. Returns its index for ``join(_:)``.
  @discardableResult
  public func spawn(stackPages: Int = 2, _ body: @escaping () -> Void) throws(ExoError) -> Int {
    if threads.isEmpty {
      threads.append(UserThread(context: kernel.contextForCurrent()))
      currentThread = 0
      quantumStart = header(.ticks)
    }
    // The highest run of free program slots.
    var top = userSlots - 1
    var found: Int? = nil
    while top - stackPages + 1 >= 0 && found == nil {
      let run = (top - stackPages + 1)...top
      if let busy = run.last(where: { slots[$0].page != none || slots[$0].demand }) {
        top = busy - 1
      } else {
        found = top
      }
    }
    guard let top = found else { throw .outOfRange }
    var stack: [Int] = []
    for s in stride(from: top, to: top - stackPages, by: -1) {
      do { try allocate(slot: s, private: true) } catch {
        for t in stack { try? unmap(slot: t) }
        throw error
      }
      stack.append(s)
    }
    let index = threads.count
    let context = kernel.contextCreate(stackTop: address(slot: top + 1)) {
      body()
      self.finishThread()
    }
    threads.append(UserThread(context: context, stackSlots: stack))
    return index
  }

  /// Switches to the next thread that has not finished, if there is one.
  public func threadYield() {
    guard threads.count > 1 else { return }
    for step in 1..<threads.count {
      let next = (currentThread + step) % threads.count
      if !threads[next].finished {
        switchThread(to: next)
        return
      }
    }
  }

  /// Waits (running the other threads) until thread `index` has finished,
  /// then gives its stack back.
  public func join(_ index: Int) {
    guard index > 0, index < threads.count else { return }
    while !threads[index].finished { threadYield() }
    for s in threads[index].stackSlots where slots[s].page != none { try? unmap(slot: s) }
    threads[index].stackSlots = []
  }

  /// Joins every thread but the first.
  public func joinAll() {
    for i in threads.indices.dropFirst() { join(i) }
  }

  /// Where a slice end preempts the running thread: every load, store and
  /// yield through the libOS, and wherever a program calls it. A program
  /// that checks its memory and then uses it calls this first, so that no
  /// other thread runs between the check and the access.
  public func preemptionPoint() {
    guard threads.count > 1, handlerDepth == 0, header(.ticks) != quantumStart else { return }
    threadYield()
  }

  func switchThread(to next: Int) {
    let from = currentThread
    if header(.ticks) != quantumStart { threadSwitches += 1 }
    currentThread = next
    quantumStart = header(.ticks)
    kernel.contextSwitch(from: threads[from].context, to: threads[next].context)
  }

  /// The end of a thread: it never runs again.
  func finishThread() {
    threads[currentThread].finished = true
    threadYield()
    fatalError("a finished thread resumed")
  }
}
