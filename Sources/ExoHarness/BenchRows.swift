/// The rows of `exo bench`: which guest figure pairs with which. Adding a
/// row is one entry here plus one workload in the guest program that prints
/// its `BENCH` line. A row whose exokernel figure the guest does not print
/// and that has a `pending` reason is shown as not available with that
/// reason; without one, a missing figure is an error.
public enum BenchRows {
  /// On the bench guest's kernel command line: `diffLoopback` exists, the
  /// frame source of the network rows (ExoABI `DiffCall.loopback`).
  public static let kernelArgument = "loopback=1"
  /// An exokernel path next to its nearest Linux equivalent.
  public struct Pair: Sendable {
    public var name: String
    public var exoMetric: String
    public var linuxMetric: String
    /// What the two sides do, for the table's notes.
    public var exoWorkload: String
    public var linuxWorkload: String
    /// The goal for exo / linux, if the project set one.
    public var target: Double?
    /// Why the exokernel figure may be missing (the mechanism is not
    /// built yet).
    public var pending: String?
  }

  /// A figure of the exokernel alone (no Linux equivalent in this table).
  public struct Single: Sendable {
    public var name: String
    public var metric: String
    public var workload: String
    public var pending: String?
  }

  public static let pairs: [Pair] = [
    Pair(
      name: "null system call", exoMetric: "exo.null", linuxMetric: "linux.getppid",
      exoWorkload: "ticks() (call 3)", linuxWorkload: "syscall(SYS_getppid)", target: 1),
    Pair(
      name: "exception round trip", exoMetric: "exo.exception", linuxMetric: "linux.sigsegv",
      exoWorkload: "write to a read-only page; user handler pageProtects it writable; resume",
      linuxWorkload: "write to a read-only page; SIGSEGV handler mprotects it writable; resume",
      target: 0.1),
    Pair(
      name: "control transfer round trip", exoMetric: "exo.pct", linuxMetric: "linux.pipe",
      exoWorkload: "call into another environment, which replies",
      linuxWorkload: "one byte to another process over a pipe and one byte back", target: 0.2),
    Pair(
      name: "page allocate+map+unmap", exoMetric: "exo.page", linuxMetric: "linux.mmap",
      exoWorkload: "pageAllocate, pageMap, write, pageUnmap, capabilityDelete",
      linuxWorkload: "mmap an anonymous page, write, munmap"),
    Pair(
      name: "fork", exoMetric: "exo.fork", linuxMetric: "linux.fork",
      exoWorkload:
        "libOS copy-on-write fork of a four-page process; the child boots its libOS and"
        + " exits; parent waits and reaps",
      linuxWorkload: "fork, child _exit(0), waitpid"),
  ]

  public static let singles: [Single] = [
    Single(
      name: "exception dispatch only", metric: "exo.dispatch",
      workload: "ud2 reaches the user handler, which skips it by editing the frame; resume"),
    Single(
      name: "revocation round trip", metric: "exo.revoke",
      workload:
        "revocationRequest of one page; the child's upcall handler returns it with"
        + " revocationReturn and yields back"),
    Single(
      name: "environment create", metric: "exo.envcreateonly",
      workload: "environmentCreate: a fresh address space with the program image"),
    Single(
      name: "environment create+teardown", metric: "exo.envcreate",
      workload: "environmentCreate, environmentDestroy, environmentReclaim until free"),
    Single(
      name: "filter install, 15 installed", metric: "exo.filterinstall",
      workload:
        "filterInstall of a 3-test UDP port filter while the 15 other filter slots hold"
        + " filters of other ports: the overlap check against every one"),
    Single(
      name: "frame arrival to owner", metric: "exo.framearrival",
      workload:
        "diffLoopback of a 60-byte frame: the filters run, the frame is copied into the owner's"
        + " buffer and its upcall frame written; yieldTo(owner) to its upcall handler's first act"),
    Single(
      name: "UDP echo round trip", metric: "exo.udpecho",
      workload:
        "a UDP datagram's arrival (diffLoopback) through the libOS stack to frameTransmit of its"
        + " echo, inside the exokernel guest"),
  ]
}
