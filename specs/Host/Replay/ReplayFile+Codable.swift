import ExoABI

/// The JSON form of replay files (docs/replay-format.md).
extension ReplayFile: Codable {
  enum Key: String, CodingKey {
    case format, version, bounds, firstPage, initial, policy, steps, final
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    let format = try c.decode(String.self, forKey: .format)
    guard format == Self.formatName else {
      throw DecodingError.dataCorruptedError(
        forKey: .format, in: c,
        debugDescription: "expected \"\(Self.formatName)\", got \"\(format)\"")
    }
    let version = try c.decode(Int.self, forKey: .version)
    guard version == Self.currentVersion else {
      throw DecodingError.dataCorruptedError(
        forKey: .version, in: c,
        debugDescription:
          "version \(version) is not supported (this reader reads \(Self.currentVersion))")
    }
    bounds = try BoundsCoding.decode(from: c.superDecoder(forKey: .bounds))
    firstPage = try c.decode(ReplayWord.self, forKey: .firstPage).value
    if let name = try? c.decode(String.self, forKey: .initial) {
      guard name == "initial" else {
        throw DecodingError.dataCorruptedError(
          forKey: .initial, in: c,
          debugDescription: "expected \"initial\" or a state object, got \"\(name)\"")
      }
      initial = .initial
    } else {
      initial = .state(
        try StateCoding.decode(
          from: c.superDecoder(forKey: .initial), bounds: bounds, firstPage: firstPage))
    }
    if let name = try c.decodeIfPresent(String.self, forKey: .policy) {
      guard let decoded = ReplayPolicy(rawValue: name) else {
        throw DecodingError.dataCorruptedError(
          forKey: .policy, in: c,
          debugDescription: "expected \"transitions\" or \"kernel\", got \"\(name)\"")
      }
      policy = decoded
    } else {
      policy = .transitions
    }
    steps = try c.decodeIfPresent([ReplayStep].self, forKey: .steps) ?? []
    final =
      c.contains(.final)
      ? try StateCoding.decode(
        from: c.superDecoder(forKey: .final), bounds: bounds, firstPage: firstPage) : nil
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(Self.formatName, forKey: .format)
    try c.encode(Self.currentVersion, forKey: .version)
    try BoundsCoding.encode(bounds, to: c.superEncoder(forKey: .bounds))
    try c.encode(ReplayWord(firstPage), forKey: .firstPage)
    switch initial {
    case .initial: try c.encode("initial", forKey: .initial)
    case .state(let state): try StateCoding.encode(state, to: c.superEncoder(forKey: .initial))
    }
    if policy != .transitions { try c.encode(policy.rawValue, forKey: .policy) }
    try c.encode(steps, forKey: .steps)
    if let final { try StateCoding.encode(final, to: c.superEncoder(forKey: .final)) }
  }
}

extension ReplayStep: Codable {
  enum Key: String, CodingKey { case call, event, args, expect, note, probes }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    if let name = try c.decodeIfPresent(String.self, forKey: .call) {
      guard let call = Syscall(name: name) else {
        throw DecodingError.dataCorruptedError(
          forKey: .call, in: c,
          debugDescription: "no system call named \"\(name)\"; calls: "
            + Syscall.allCases.map(\.name).joined(separator: ", "))
      }
      guard !c.contains(.event) else {
        throw DecodingError.dataCorruptedError(
          forKey: .event, in: c, debugDescription: "a step has either \"call\" or \"event\"")
      }
      transition = .call(call)
    } else if let name = try c.decodeIfPresent(String.self, forKey: .event) {
      guard let event = KernelEvent(rawValue: name) else {
        throw DecodingError.dataCorruptedError(
          forKey: .event, in: c,
          debugDescription: "no kernel event named \"\(name)\"; events: "
            + KernelEvent.allCases.map(\.rawValue).joined(separator: ", "))
      }
      transition = .event(event)
    } else {
      throw DecodingError.keyNotFound(
        Key.call,
        DecodingError.Context(
          codingPath: c.codingPath, debugDescription: "a step needs \"call\" or \"event\""))
    }
    arguments = (try c.decodeIfPresent([ReplayWord].self, forKey: .args) ?? []).map(\.value)
    let parameters = transition.parameters
    guard arguments.count == parameters.count else {
      throw DecodingError.dataCorruptedError(
        forKey: .args, in: c,
        debugDescription: "\(transition) takes \(parameters.count) arguments "
          + "(\(parameters.joined(separator: ", "))), got \(arguments.count)")
    }
    expect = try c.decodeIfPresent(ReplayExpectation.self, forKey: .expect)
    note = try c.decodeIfPresent(String.self, forKey: .note)
    probes = try c.decodeIfPresent([ProbeCoding].self, forKey: .probes)?.map(\.probe) ?? []
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    switch transition {
    case .call(let call): try c.encode(call.name, forKey: .call)
    case .event(let event): try c.encode(event.rawValue, forKey: .event)
    }
    if !arguments.isEmpty { try c.encode(arguments.map(ReplayWord.init), forKey: .args) }
    try c.encodeIfPresent(expect, forKey: .expect)
    try c.encodeIfPresent(note, forKey: .note)
    if !probes.isEmpty { try c.encode(probes.map(ProbeCoding.init), forKey: .probes) }
  }
}

/// A probe in a replay file: `{"read": ADDRESS}`,
/// `{"write": ADDRESS, "value": WORD}` or `{"execute": ADDRESS}`.
struct ProbeCoding: Codable {
  var probe: DiffProbe
  init(_ probe: DiffProbe) { self.probe = probe }

  enum Key: String, CodingKey { case read, write, value, execute }

  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    if let address = try c.decodeIfPresent(ReplayWord.self, forKey: .read) {
      probe = DiffProbe(.read, address.value)
    } else if let address = try c.decodeIfPresent(ReplayWord.self, forKey: .write) {
      let value = try c.decode(ReplayWord.self, forKey: .value)
      probe = DiffProbe(.write, address.value, value: value.value)
    } else if let address = try c.decodeIfPresent(ReplayWord.self, forKey: .execute) {
      probe = DiffProbe(.execute, address.value)
    } else {
      throw DecodingError.keyNotFound(
        Key.read,
        DecodingError.Context(
          codingPath: c.codingPath,
          debugDescription:
            "a probe needs \"read\", \"write\" (with \"value\") or \"execute\""))
    }
    guard probe.address % 8 == 0 else {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(
          codingPath: c.codingPath,
          debugDescription: "a probe's address must be 8-byte aligned, got "
            + "0x\(String(probe.address, radix: 16))"))
    }
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    switch probe.kind {
    case .read: try c.encode(ReplayWord(probe.address), forKey: .read)
    case .write:
      try c.encode(ReplayWord(probe.address), forKey: .write)
      try c.encode(ReplayWord(probe.value), forKey: .value)
    case .execute: try c.encode(ReplayWord(probe.address), forKey: .execute)
    }
  }
}

extension ReplayExpectation: Codable {
  enum Key: String, CodingKey { case value, error }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    if let name = try c.decodeIfPresent(String.self, forKey: .error) {
      guard let error = ExoError.all.first(where: { "\($0.name)" == name }) else {
        throw DecodingError.dataCorruptedError(
          forKey: .error, in: c,
          debugDescription: "no error named \"\(name)\"; errors: "
            + ExoError.all.map { "\($0.name)" }.joined(separator: ", "))
      }
      self = .error(error)
    } else if let value = try c.decodeIfPresent(ReplayWord.self, forKey: .value) {
      self = .value(value.value)
    } else {
      throw DecodingError.keyNotFound(
        Key.value,
        DecodingError.Context(
          codingPath: c.codingPath, debugDescription: "expect needs \"value\" or \"error\""))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    switch self {
    case .value(let value): try c.encode(ReplayWord(value), forKey: .value)
    case .error(let error): try c.encode("\(error.name)", forKey: .error)
    }
  }
}

/// A 64-bit word in a replay file: a JSON number, or a string holding
/// `"none"`, `"asynchronousCaller"`, a `0x` hexadecimal or a decimal
/// numeral. Written as `"none"` for `UInt64.max`, a number up to 2^53 (exact
/// in every JSON reader), `0x…` above.
public struct ReplayWord: Codable, Equatable, Sendable {
  public var value: UInt64
  public init(_ value: UInt64) { self.value = value }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let number = try? c.decode(UInt64.self) {
      value = number
      return
    }
    guard let text = try? c.decode(String.self) else {
      throw DecodingError.dataCorruptedError(
        in: c, debugDescription: "expected a word: a non-negative integer, \"none\" or \"0x…\"")
    }
    guard let parsed = Self.parse(text) else {
      throw DecodingError.dataCorruptedError(
        in: c, debugDescription: "\"\(text)\" is not a word (a number, \"none\", \"0x…\")")
    }
    value = parsed
  }

  static func parse(_ text: String) -> UInt64? {
    switch text {
    case "none": return ExoABI.none
    case "asynchronousCaller": return asynchronousCaller
    default:
      let clean = text.replacingOccurrences(of: "_", with: "")
      if clean.hasPrefix("0x") { return UInt64(clean.dropFirst(2), radix: 16) }
      return UInt64(clean)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    if value == ExoABI.none {
      try c.encode("none")
    } else if value <= 1 << 53 {
      try c.encode(value)
    } else {
      try c.encode("0x" + String(value, radix: 16))
    }
  }
}

/// `"kernel"` for `Bounds.kernel`, else an object with every field.
enum BoundsCoding {
  enum Key: String, CodingKey, CaseIterable {
    case environments, pages, capabilities, windowSlots, slices, maximumDepth, maximumRun
    /// Optional: 16 when absent.
    case filters
  }

  static func decode(from decoder: any Decoder) throws -> Bounds {
    if let name = try? decoder.singleValueContainer().decode(String.self) {
      guard name == "kernel" else {
        throw DecodingError.dataCorrupted(
          DecodingError.Context(
            codingPath: decoder.codingPath,
            debugDescription: "expected \"kernel\" or a bounds object, got \"\(name)\""))
      }
      return .kernel
    }
    let c = try decoder.container(keyedBy: Key.self)
    func field(_ key: Key) throws -> Int {
      let value = try c.decode(Int.self, forKey: key)
      guard value >= 1, value <= 1 << 20 else {
        throw DecodingError.dataCorruptedError(
          forKey: key, in: c, debugDescription: "must be between 1 and 2^20, got \(value)")
      }
      return value
    }
    return Bounds(
      environments: try field(.environments), pages: try field(.pages),
      capabilities: try field(.capabilities), windowSlots: try field(.windowSlots),
      slices: try field(.slices), maximumDepth: try field(.maximumDepth),
      maximumRun: try field(.maximumRun), filters: try filters())
    func filters() throws -> Int {
      guard c.contains(.filters) else { return 16 }
      let value = try c.decode(Int.self, forKey: .filters)
      guard value >= 1, value <= 64 else {
        throw DecodingError.dataCorruptedError(
          forKey: .filters, in: c, debugDescription: "must be between 1 and 64, got \(value)")
      }
      return value
    }
  }

  static func encode(_ bounds: Bounds, to encoder: any Encoder) throws {
    if bounds == .kernel {
      var c = encoder.singleValueContainer()
      try c.encode("kernel")
      return
    }
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(bounds.environments, forKey: .environments)
    try c.encode(bounds.pages, forKey: .pages)
    try c.encode(bounds.capabilities, forKey: .capabilities)
    try c.encode(bounds.windowSlots, forKey: .windowSlots)
    try c.encode(bounds.slices, forKey: .slices)
    try c.encode(bounds.maximumDepth, forKey: .maximumDepth)
    try c.encode(bounds.maximumRun, forKey: .maximumRun)
    if bounds.filters != 16 { try c.encode(bounds.filters, forKey: .filters) }
  }
}
