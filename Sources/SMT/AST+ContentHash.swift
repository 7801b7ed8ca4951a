import CZ3

extension AST {
  /// A 128-bit hash of the term's structure, as 32 hex digits: equal for
  /// structurally equal terms in any context, and computed over the term's
  /// DAG with each shared node visited once (so it stays linear where the
  /// SMT-LIB2 text of a deeply shared term is exponential). It covers every
  /// operator, symbol name, numeral and sort width, so a cache keyed by it
  /// misses whenever the formula changes. Poisoned handles hash their error.
  public var contentHash: String {
    guard let raw else { return "poisoned:\(error.map { "\($0)" } ?? "")" }
    var memo: [UInt32: (UInt64, UInt64)] = [:]
    let (a, b) = ASTHasher(context: context.raw, memo: &memo).hash(raw)
    return hex(a) + hex(b)
  }
}

private func hex(_ v: UInt64) -> String {
  let s = String(v, radix: 16)
  return String(repeating: "0", count: 16 - s.count) + s
}

/// Two independent 64-bit FNV-style lanes over a post-order walk.
private struct ASTHasher {
  let context: Z3_context
  var memo: UnsafeMutablePointer<[UInt32: (UInt64, UInt64)]>

  init(context: Z3_context, memo: inout [UInt32: (UInt64, UInt64)]) {
    self.context = context
    self.memo = withUnsafeMutablePointer(to: &memo) { $0 }
  }

  struct Lanes {
    var a: UInt64 = 0xCBF2_9CE4_8422_2325
    var b: UInt64 = 0x8422_2325_CBF2_9CE4

    mutating func mix(_ v: UInt64) {
      a = (a ^ v) &* 0x100_0000_01B3
      b = (b ^ (v &* 0x9E37_79B9_7F4A_7C15)) &* 0xC2B2_AE3D_27D4_EB4F
      b ^= b >> 29
    }

    mutating func mix(_ text: String) {
      for byte in text.utf8 { mix(UInt64(byte)) }
      mix(0xFF)
    }
  }

  func string(_ p: Z3_string?) -> String { p.map { String(cString: $0) } ?? "" }

  func hash(_ ast: Z3_ast) -> (UInt64, UInt64) {
    let id = Z3_get_ast_id(context, ast)
    if let known = memo.pointee[id] { return known }
    var h = Lanes()
    let kind = Z3_get_ast_kind(context, ast)
    h.mix(UInt64(kind.rawValue))
    let sort = Z3_get_sort(context, ast)
    if let sort {
      h.mix(UInt64(Z3_get_sort_kind(context, sort).rawValue))
      if Z3_get_sort_kind(context, sort) == Z3_BV_SORT {
        h.mix(UInt64(Z3_get_bv_sort_size(context, sort)))
      }
    }
    switch kind {
    case Z3_NUMERAL_AST:
      h.mix(string(Z3_get_numeral_string(context, ast)))
    case Z3_APP_AST:
      let app = Z3_to_app(context, ast)
      let decl = Z3_get_app_decl(context, app)
      h.mix(UInt64(Z3_get_decl_kind(context, decl).rawValue))
      h.mix(string(Z3_get_symbol_string(context, Z3_get_decl_name(context, decl))))
      let parameters = Z3_get_decl_num_parameters(context, decl)
      for i in 0..<parameters where Z3_get_decl_parameter_kind(context, decl, i) == Z3_PARAMETER_INT
      {
        h.mix(UInt64(bitPattern: Int64(Z3_get_decl_int_parameter(context, decl, i))))
      }
      let count = Z3_get_app_num_args(context, app)
      h.mix(UInt64(count))
      for i in 0..<count {
        if let arg = Z3_get_app_arg(context, app, i) {
          let (x, y) = hash(arg)
          h.mix(x)
          h.mix(y)
        }
      }
    default:
      // Quantifiers and variables: fall back to the text (rare here).
      h.mix(string(Z3_ast_to_string(context, ast)))
    }
    memo.pointee[id] = (h.a, h.b)
    return (h.a, h.b)
  }
}
