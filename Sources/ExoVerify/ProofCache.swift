import Foundation

/// Proved obligations, keyed by a hash of the obligation's full SMT-LIB2
/// text: a changed transition, invariant or bound changes the text and so
/// misses the cache, while everything unchanged is answered without the
/// solver. Only proofs are cached; failures are always re-checked.
public final class ProofCache: @unchecked Sendable {
  public let folder: URL
  private let lock = NSLock()

  public init(folder: URL) {
    self.folder = folder
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  /// A 128-bit content hash (two FNV-1a lanes) in hex.
  static func key(_ text: String) -> String {
    var a: UInt64 = 0xCBF2_9CE4_8422_2325
    var b: UInt64 = 0x6C62_272E_07BB_0142
    for byte in text.utf8 {
      a = (a ^ UInt64(byte)) &* 0x100_0000_01B3
      b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 &+ 0x9E37_79B9
    }
    return String(a, radix: 16) + String(b, radix: 16)
  }

  func contains(_ key: String) -> Bool {
    FileManager.default.fileExists(atPath: folder.appendingPathComponent(key).path)
  }

  func insert(_ key: String) {
    lock.lock()
    defer { lock.unlock() }
    _ = FileManager.default.createFile(
      atPath: folder.appendingPathComponent(key).path, contents: Data("proved\n".utf8))
  }
}
