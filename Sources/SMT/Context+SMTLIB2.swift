import CZ3

extension Context {
  /// Parses an SMT-LIB2 script (`Z3_parse_smtlib2_string`) and returns its
  /// assertions. Constants it declares are the same terms as constants of the same name
  /// and sort made with this context. A parse error is thrown as `.z3(code:
  /// .parserError, message:)` with Z3's diagnostic.
  public func parseSMTLIB2(_ text: String) throws -> [BoolTerm] {
    let vector = try callNonNull("Z3_parse_smtlib2_string") {
      Z3_parse_smtlib2_string(raw, text, 0, nil, nil, 0, nil, nil)
    }
    return terms(of: vector).map(BoolTerm.init(unchecked:))
  }

  /// The elements of a fresh `Z3_ast_vector`, each retained; releases the vector.
  func terms(of vector: OpaquePointer) -> [AST] {
    Z3_ast_vector_inc_ref(raw, vector)
    defer { Z3_ast_vector_dec_ref(raw, vector) }
    return (0..<Z3_ast_vector_size(raw, vector)).compactMap { i in
      Z3_ast_vector_get(raw, vector, i).map { AST(context: self, retaining: $0) }
    }
  }
}
