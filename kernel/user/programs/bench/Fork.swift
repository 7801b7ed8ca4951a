import ExoABI
import ExoUser
import LibOS
import LibOSKernel
import UserArch

/// The libOS's user-level fork, timed from environment 0, and the code a
/// fork child runs.
enum ForkWorkload {
  /// Window slots of the forked process's memory (the libOS's own slots,
  /// clear of the benchmark's fixed ones).
  static let firstSlot = 100
  static let pages = 4

  /// `fork` + the child's run + `wait` + `reap`, as a program on the libOS
  /// does it. Environment 0's libOS manages a small process: four written
  /// pages in its window. Timed, per iteration:
  ///
  /// 1. `os.fork`: `environmentCreate` (a fresh address space with the
  ///    program image), each of the four pages shared copy-on-write (a
  ///    derived read-only capability granted to the child and mapped
  ///    there), the fork record written in a page mapped in the child, a
  ///    slice, `environmentStart`;
  /// 2. `os.wait`: the parent yields to the child, which starts at the
  ///    program's entry, boots its libOS (reads the fork record, gives its
  ///    page back, maps its eight-page handler stack, registers its
  ///    entries) and exits with status 0;
  /// 3. `os.reap`: `environmentReclaim` until the slot is free, then the
  ///    capabilities the child no longer shares are deleted.
  ///
  /// Not timed: the parent then writes a word to each page (a
  /// copy-on-write fault whose handler, as the page's last user, makes it
  /// writable again), so every iteration forks the same state.
  static func run(_ n: Int) {
    let os = LibOS(kernel: SystemKernel())
    func fail(_ what: StaticString, _ e: ExoError) -> Never {
      benchFail("exo.fork", what, e.rawValue)
    }
    for s in firstSlot..<(firstSlot + pages) {
      do throws(ExoError) { try os.allocate(slot: s) } catch { fail("allocate", error) }
    }
    // The parent's copy-on-write faults go to its libOS while this runs.
    let benchHandler = Upcalls.exceptionHandler
    Upcalls.exceptionHandler = { frame in
      let fault = Fault(vector: frame[.vector], error: frame[.error], address: frame[.address])
      if !os.handle(fault) { benchFail("exo.fork", "a fault the libOS did not handle", 0) }
    }
    write(os, 0)
    for i in 0..<n {
      Profile.begin()
      let t0 = exo_rdtsc()
      var status: UInt64 = 0
      do throws(ExoError) {
        let child = try os.fork(function: 1, argument: UInt64(i))
        os.wait(for: child)
        status = try os.reap(child)
      } catch {
        fail("fork", error)
      }
      let t1 = exo_rdtsc()
      Profile.end()
      Measure.samples[i] = t1 &- t0
      if status != 0 { benchFail("exo.fork", "the child's exit status", status) }
      write(os, UInt64(i + 1))
    }
    Upcalls.exceptionHandler = benchHandler
    Measure.report("exo.fork", n)
  }

  /// Writes `value` to the first word of each of the process's pages.
  static func write(_ os: LibOS<SystemKernel>, _ value: UInt64) {
    for s in firstSlot..<(firstSlot + pages) { os.store(slot: s, word: 0, value) }
  }

  /// A fork child's whole life: boot the libOS (which adopts the fork
  /// record), check it sees the parent's memory, exit.
  static func child() -> Never {
    LibOS.start(kernel: SystemKernel(), name: "bench") { os, start throws(ExoError) in
      guard let start else { return 2 }
      return os.load(slot: firstSlot, word: 0) == start.argument ? 0 : 3
    }
    Kernel.exit(1)
  }
}
