import Foundation

/// Proved obligations, in two tiers. A run of the same executable at the
/// same bounds (``executableHash``) answers each obligation it proved
/// before by name, without building a term. Otherwise each goal is keyed
/// by a structural hash of its formula (with the assumptions): a changed
/// transition, invariant or bound changes the formula and so misses the
/// cache, while everything unchanged is answered without the solver. Only
/// proofs are cached; failures are always re-checked.
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

  /// A hash of this program's executable file, or nil if it cannot be
  /// read. The spec, the invariants, the properties and the checker are
  /// compiled into it, so with the same bounds and options it builds the
  /// same formula for every obligation: a proof recorded under it holds
  /// without building the formula again.
  public static let executableHash: String? = {
    guard let path = Bundle.main.executablePath,
      let data = FileManager.default.contents(atPath: path)
    else { return nil }
    return key(bytes: data)
  }()

  /// ``key(_:)`` over raw bytes, eight at a time.
  static func key(bytes data: Data) -> String {
    var a: UInt64 = 0xCBF2_9CE4_8422_2325
    var b: UInt64 = 0x6C62_272E_07BB_0142
    data.withUnsafeBytes { raw in
      let words = raw.count / 8
      for i in 0..<words {
        let w = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
        a = (a ^ w) &* 0x100_0000_01B3
        b = ((b ^ w) &* 0x0000_0100_0000_01B3 &+ 0x9E37_79B9) ^ (b >> 29)
      }
      for i in (words * 8)..<raw.count {
        a = (a ^ UInt64(raw[i])) &* 0x100_0000_01B3
        b = (b ^ UInt64(raw[i])) &* 0x0000_0100_0000_01B3 &+ 0x9E37_79B9
      }
    }
    return String(a, radix: 16) + String(b, radix: 16) + "-\(data.count)"
  }

  /// The text recorded with a proof (the report's detail, possibly empty),
  /// or nil if `key` was never proved.
  func recorded(_ key: String) -> String? {
    guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(key).path)
    else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard text.hasPrefix("proved\n") else { return nil }
    return String(text.dropFirst("proved\n".count))
  }

  /// Records a proof under `key` with the report's detail.
  func insert(_ key: String, detail: String?) {
    lock.lock()
    defer { lock.unlock() }
    _ = FileManager.default.createFile(
      atPath: folder.appendingPathComponent(key).path,
      contents: Data(("proved\n" + (detail ?? "")).utf8))
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
