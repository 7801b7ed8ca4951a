import ExoABI
import Foundation

/// Linux as the benchmark's peer in the same QEMU: Debian's kernel (the
/// package `linux-image-amd64` depends on) and busybox-static, fetched with
/// `apt-get download` and unpacked without installing anything, and an
/// initramfs holding busybox, an `/init` script and the static C benchmark
/// `bench/linux/linuxbench.c`. Everything lives in `.build/bench/linux`;
/// the initramfs is cached under a hash of its contents.
public struct LinuxPeer {
  public var project: Project
  /// Called with a line for each step that runs.
  public var progress: (String) -> Void

  /// The kernel command line: `nokaslr norandmaps` make the counts
  /// repeatable (address randomisation moves them by hundreds).
  public static let commandLine = "console=ttyS0 quiet panic=-1 nokaslr norandmaps"
  public static let metaPackage = "linux-image-amd64"
  public static let busyboxPackage = "busybox-static"
  static let source = "bench/linux/linuxbench.c"
  static let initScript = """
    #!/bin/busybox sh
    # Runs the benchmark; it ends the machine itself. If it crashes, end
    # the machine with the failure value.
    /bench || /bench --fail

    """

  public init(project: Project, progress: @escaping (String) -> Void = { _ in }) {
    self.project = project
    self.progress = progress
  }

  public var folder: URL { project.root.appendingPathComponent(".build/bench/linux") }

  /// What the benchmark boots.
  public struct Prepared {
    public var kernel: URL
    public var initrd: URL
    /// The kernel package, e.g. `linux-image-6.1.0-56-amd64`.
    public var kernelPackage: String
  }

  /// Fetches and builds whatever is missing.
  public func prepare() throws(BenchSetupError) -> Prepared {
    let unpacked = try unpackKernelAndBusybox()
    let initrd = try initramfs(busybox: unpacked.busybox)
    return Prepared(
      kernel: unpacked.kernel, initrd: initrd, kernelPackage: unpacked.kernelPackage)
  }

  /// What `unpackKernelAndBusybox` leaves in `folder`.
  struct Unpacked {
    var kernel: URL
    var busybox: URL
    var kernelPackage: String
    /// The kernel package's .deb.
    var kernelDeb: URL
    /// Where its files are unpacked (only those asked for).
    var kernelFolder: URL
  }

  /// Downloads the kernel and busybox packages if missing and unpacks the
  /// kernel image and busybox.
  func unpackKernelAndBusybox() throws(BenchSetupError) -> Unpacked {
    let debs = folder.appendingPathComponent("debs")
    let unpacked = folder.appendingPathComponent("unpacked")
    for f in [debs, unpacked] {
      try? FileManager.default.createDirectory(at: f, withIntermediateDirectories: true)
    }
    let kernelPackage = try resolveKernelPackage()
    let kernelDeb = try download(kernelPackage, into: debs)
    let busyboxDeb = try download(LinuxPeer.busyboxPackage, into: debs)

    // The kernel image only (modules are unpacked when a peer needs them).
    let kernelFolder = unpacked.appendingPathComponent(kernelPackage)
    var kernel = findFile(in: kernelFolder.appendingPathComponent("boot"), prefix: "vmlinuz-")
    if kernel == nil {
      progress("unpacking the kernel image from \(kernelDeb.lastPathComponent)")
      try? FileManager.default.createDirectory(at: kernelFolder, withIntermediateDirectories: true)
      try shell(
        "dpkg-deb --fsys-tarfile \(quote(kernelDeb.path)) | tar -x -C \(quote(kernelFolder.path)) --wildcards './boot/vmlinuz-*'",
        what: "unpacking \(kernelDeb.lastPathComponent)")
      kernel = findFile(in: kernelFolder.appendingPathComponent("boot"), prefix: "vmlinuz-")
    }
    guard let kernel else { throw .failed("no boot/vmlinuz-* in \(kernelDeb.lastPathComponent)") }

    let busyboxFolder = unpacked.appendingPathComponent(LinuxPeer.busyboxPackage)
    let busybox = busyboxFolder.appendingPathComponent("bin/busybox")
    if !FileManager.default.fileExists(atPath: busybox.path) {
      progress("unpacking \(busyboxDeb.lastPathComponent)")
      try run("dpkg", ["-x", busyboxDeb.path, busyboxFolder.path], what: "dpkg -x")
    }
    return Unpacked(
      kernel: kernel, busybox: busybox, kernelPackage: kernelPackage, kernelDeb: kernelDeb,
      kernelFolder: kernelFolder)
  }

  /// The package `linux-image-amd64` depends on (the actual kernel).
  func resolveKernelPackage() throws(BenchSetupError) -> String {
    let output = try run(
      "apt-cache", ["depends", LinuxPeer.metaPackage],
      what: "apt-cache depends \(LinuxPeer.metaPackage)")
    for line in output.split(separator: "\n") {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("Depends: linux-image-") {
        return String(t.dropFirst("Depends: ".count))
      }
    }
    throw .failed(
      "apt-cache knows no kernel package for \(LinuxPeer.metaPackage) (run apt-get update; ci/setup does)"
    )
  }

  /// The package's .deb in `folder`, downloaded if missing.
  func download(_ package: String, into folder: URL) throws(BenchSetupError) -> URL {
    if let deb = findFile(in: folder, prefix: package + "_") { return deb }
    progress("apt-get download \(package)")
    try run(
      "apt-get", ["download", "-q", package], in: folder, what: "apt-get download \(package)")
    guard let deb = findFile(in: folder, prefix: package + "_") else {
      throw .failed("apt-get download \(package) left no .deb in \(folder.path)")
    }
    return deb
  }

  /// The initramfs for these inputs, built if it is not cached.
  func initramfs(busybox: URL) throws(BenchSetupError) -> URL {
    let sourceURL = project.root.appendingPathComponent(LinuxPeer.source)
    guard let source = try? Data(contentsOf: sourceURL),
      let busyboxData = try? Data(contentsOf: busybox)
    else { throw .failed("cannot read \(LinuxPeer.source) or \(busybox.path)") }
    let flags = [
      "-static", "-O2", "-Wall", "-Wextra",
      "-DEXIT_SUCCESS_VALUE=\(DebugExit.success.rawValue)",
      "-DEXIT_FAILURE_VALUE=\(DebugExit.userFailure.rawValue)",
    ]
    var hash = FNV64()
    hash.add(source)
    hash.add(Data(flags.joined(separator: " ").utf8))
    hash.add(busyboxData)
    hash.add(Data(LinuxPeer.initScript.utf8))
    let key = String(hash.value, radix: 16)
    let image = folder.appendingPathComponent("initramfs-\(key).cpio")
    if FileManager.default.fileExists(atPath: image.path) { return image }

    guard let gcc = ProcessRunner.which("gcc") else {
      throw .failed(
        "gcc not found: install gcc and libc6-dev (the benchmark is a static C program)")
    }
    let binary = folder.appendingPathComponent("linuxbench-\(key)")
    progress("gcc \(LinuxPeer.source)")
    try run(
      gcc, flags + ["-o", binary.path, sourceURL.path], what: "gcc -static \(LinuxPeer.source)")
    guard let program = try? Data(contentsOf: binary) else { throw .failed("gcc wrote no binary") }
    var archive = NewcArchive()
    archive.add(".", .directory, mode: 0o755)
    archive.add("bin", .directory, mode: 0o755)
    archive.add("bin/busybox", .file(busyboxData), mode: 0o755)
    archive.add("dev", .directory, mode: 0o755)
    archive.add("dev/console", .characterDevice(major: 5, minor: 1), mode: 0o600)
    archive.add("init", .file(Data(LinuxPeer.initScript.utf8)), mode: 0o755)
    archive.add("bench", .file(program), mode: 0o755)
    do {
      try archive.finished().write(to: image, options: .atomic)
    } catch {
      throw .failed("cannot write \(image.path): \(error)")
    }
    progress("initramfs \(image.lastPathComponent)")
    return image
  }

  @discardableResult
  func run(_ tool: String, _ arguments: [String], in directory: URL? = nil, what: String)
    throws(BenchSetupError) -> String
  {
    guard let path = ProcessRunner.which(tool) else {
      throw .failed("\(tool) not found (needed for \(what); it comes with Debian's apt and dpkg)")
    }
    let result: CommandResult
    do {
      result = try ProcessRunner.run(path, arguments, in: directory)
    } catch {
      throw .failed("\(what): cannot run \(tool): \(error)")
    }
    guard result.status == 0 else {
      throw .failed("\(what) failed (status \(result.status)):\n\(result.output)")
    }
    return result.output
  }

  func shell(_ command: String, what: String) throws(BenchSetupError) {
    try run("bash", ["-c", "set -e -o pipefail; " + command], what: what)
  }
}

/// Why the Linux side could not be prepared.
public enum BenchSetupError: Error, CustomStringConvertible {
  case failed(String)
  public var description: String {
    switch self {
    case .failed(let message): message
    }
  }
}

/// 64-bit FNV-1a: the cache key of the initramfs.
struct FNV64 {
  var value: UInt64 = 0xcbf2_9ce4_8422_2325
  mutating func add(_ data: Data) {
    for byte in data { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
    value = (value ^ 0xff) &* 0x100_0000_01b3  // separates the inputs
  }
}

func findFile(in folder: URL, prefix: String) -> URL? {
  let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
  return names.filter { $0.hasPrefix(prefix) }.sorted().last.map {
    folder.appendingPathComponent($0)
  }
}

func quote(_ s: String) -> String {
  "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
