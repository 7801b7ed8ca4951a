import ExoABI
import Testing

@Suite("System-call arguments")
struct SyscallArgumentsTests {
  /// A different value in every register.
  static let distinct = ArgumentWords<UInt64>(
    0x1111_0000, 0x2222_0001, 0x3333_0002, 0x4444_0003, 0x5555_0004, 0x6666_0005)

  @Test(
    "each call's arguments type is for that call, and named after it", arguments: Syscall.allCases)
  func typeNamesItsCall(_ call: Syscall) {
    #expect(call.argumentsType.call == call)
    let name = "\(call)"
    let typeName = name.prefix(1).uppercased() + name.dropFirst() + "Arguments<UInt64>"
    #expect(String(describing: call.argumentsType) == typeName)
  }

  @Test(
    "the parameter names are the stored properties, in order", arguments: Syscall.allCases)
  func namesAreTheFields(_ call: Syscall) {
    let value = call.argumentsType.init(words: Self.distinct)
    let fields = Mirror(reflecting: value).children.map { $0.label ?? "?" }
    #expect(fields == call.parameters)
    #expect(call.parameters.count <= ArgumentWords<UInt64>.count)
  }

  @Test(
    "register i carries parameter i, and words round-trip", arguments: Syscall.allCases)
  func registersRoundTrip(_ call: Syscall) {
    let count = call.parameters.count
    let value = call.argumentsType.init(words: Self.distinct)
    // Decoding reads register i into parameter i.
    let fieldValues = Mirror(reflecting: value).children.map { $0.value as? UInt64 }
    #expect(fieldValues == Self.distinct.prefix(count))
    // Encoding puts them back, and the filler in every register left over.
    var expected = Self.distinct
    for i in count..<ArgumentWords<UInt64>.count { expected[i] = 0xF111 }
    #expect(value.words(filling: 0xF111) == expected)
    for i in count..<ArgumentWords<UInt64>.count { expected[i] = 0 }
    #expect(value.words == expected)
    // The tools' form: one word per parameter.
    #expect(value.arguments == Self.distinct.prefix(count))
    #expect(call.argumentsType.init(arguments: value.arguments).words == expected)
  }

  @Test("argument words: from fewer words, by index, from a list")
  func argumentWords() {
    let words = ArgumentWords<UInt64>(1, 2, filling: 9)
    #expect(words == ArgumentWords(1, 2, 9, 9, 9, 9))
    #expect((0..<6).map { words[$0] } == [1, 2, 9, 9, 9, 9])
    #expect(ArgumentWords([1, 2, 3], filling: 0) == ArgumentWords(1, 2, 3, 0, 0, 0))
    #expect(ArgumentWords<UInt64>(filling: 7).prefix(6) == [7, 7, 7, 7, 7, 7])
  }

  @Test("typed construction matches the documented order")
  func typedConstruction() {
    let map = PageMapArguments<UInt64>(
      target: 1, envCap: 2, memoryCap: 3, page: 4, slot: 5, rights: 6)
    #expect(map.words == ArgumentWords(1, 2, 3, 4, 5, 6))
    let call = CallArguments(capability: 7, message: Message(1, 2, 3, 4))
    #expect(call.words == ArgumentWords(7, 1, 2, 3, 4, 0))
    #expect(CallArguments(words: call.words).message == Message(1, 2, 3, 4))
    #expect(ReplyArguments(message: Message(5, 6, 7, 8)).words == ArgumentWords(5, 6, 7, 8, 0, 0))
  }
}
