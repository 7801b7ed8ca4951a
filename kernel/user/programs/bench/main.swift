import ExoABI
import ExoUser
import UserArch

/// The exokernel side of `exo bench`: times kernel paths with `rdtsc`,
/// which under QEMU's `-icount shift=0` counts guest instructions, and
/// prints one `BENCH` line per path (see `Measure`). Each workload is one
/// function in Workloads.swift; the host (`exo bench`) pairs the lines with
/// Linux's figures.
@main
struct Bench {
  static func main() {
    // The first thing the program does: how far the machine got before
    // user code ran (the host takes the kernel's idle time off).
    let boot = exo_rdtsc()
    // Fork children of the fork workload start here too.
    if KernelInfo[header: .current] != 0 { ForkWorkload.child() }
    print("BENCH-BEGIN exo")
    print("BENCH-BOOT \(boot)")
    Resources.prepare()
    Measure.measureOverhead()
    Workloads.nullCall(Profile.iterations(1000))
    Workloads.exception(Profile.iterations(1000))
    Workloads.exceptionDispatch(Profile.iterations(1000))
    Workloads.controlTransfer(Profile.iterations(1000))
    Workloads.pageCycle(Profile.iterations(500))
    Workloads.environmentCreate(Profile.iterations(200))
    Workloads.revocation(Profile.iterations(1000))
    FilterWorkload.run(Profile.iterations(500))
    ForkWorkload.run(Profile.iterations(200))
    NetworkWorkload.arrival(Profile.iterations(500))
    NetworkWorkload.udpEcho(Profile.iterations(200))
    print("BENCH-END")
    Kernel.exit(0)
  }
}
