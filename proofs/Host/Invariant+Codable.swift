#if canImport(ExoSpec)
  import ExoSpec
#endif

extension Invariant: Codable {
  /// The invariant's name, e.g. `bindingBacked`: how reports, the proof
  /// cache and the kernel's panic messages name it.
  public var name: String { String(describing: self) }

  /// The invariant named `name`.
  public init?(name: String) {
    guard let found = Invariant.allCases.first(where: { $0.name == name }) else { return nil }
    self = found
  }

  public init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    let name = try container.decode(String.self)
    guard let found = Invariant(name: name) else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "no invariant named \(name)")
    }
    self = found
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(name)
  }
}
