import ExoABI
import ExoUser

/// Reads a kernel address from ring 3. Kernel pages are supervisor-only, so
/// this must fault; the kernel must end this program, not panic.
@main
struct Crash {
  static func main() {
    print("crash: reading kernel memory from ring 3")
    let kernelImage = UnsafePointer<UInt64>(bitPattern: 0x10_0000)
    let value = kernelImage?.pointee ?? 0
    print("crash: read \(value): kernel memory is visible to user space")
    Kernel.exit(1)
  }
}
