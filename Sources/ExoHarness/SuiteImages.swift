import Foundation

/// The project around a source file and its images, built once: what a
/// test suite that boots the kernel starts from.
public struct SuiteImages: Sendable {
  public let project: Project
  public let build: Result<BuildReport, HarnessError>

  /// Locates the project containing `file` (a test's `#filePath`) and builds
  /// every image, with `mutants` compiled into kernels of their own. A
  /// project that cannot be located stops the test run: nothing can run.
  public init(containing file: String, mutants: [KernelMutant] = []) {
    do {
      project = try Project.locate(from: URL(fileURLWithPath: file))
    } catch {
      fatalError("\(error)")
    }
    let project = project
    build = Result { () throws(HarnessError) in
      try KernelBuild(project: project, toolchain: Toolchain.locate()).run(mutants: mutants)
    }
  }

  /// The build's report, or the error that stopped it.
  public func report() throws -> BuildReport { try build.get() }
}
