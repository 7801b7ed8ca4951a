import CZ3

/// An uninterpreted function symbol returning `Result` (`Z3_mk_func_decl`).
///
/// Applying it with `f(x, y)` gives a `Result` term; arguments of the wrong sort or
/// number give a poisoned term (`.sortMismatch`, `.invalidArgument`).
public struct Function<Result: Term> {
  /// The declaration handle.
  public let decl: AST
  /// The function's name.
  public let name: String
  /// Argument sorts.
  public let domain: [Sort]
  /// Result sort.
  public let range: Sort

  /// Applies the function (`Z3_mk_app`).
  public func callAsFunction(_ arguments: any Term...) -> Result {
    let context = decl.context
    if arguments.count != domain.count {
      return Result(
        context.poisoned(
          .invalidArgument(
            operation: name, reason: "\(arguments.count) arguments, expected \(domain.count)")))
    }
    for (expected, argument) in zip(domain, arguments) {
      if argument.error == nil, let found = argument.sort, found != expected {
        return Result(
          context.poisoned(
            .sortMismatch(operation: name, expected: "\(expected)", found: "\(found)")))
      }
    }
    return Result(
      context.build(name, [decl] + arguments.map(\.ast)) { raws in
        let args: [OpaquePointer?] = raws.dropFirst().map(Optional.some)
        return Z3_mk_app(context.raw, raws[0], UInt32(args.count), args)
      })
  }
}

extension Context {
  /// Declares the uninterpreted function `name : domain → range`. If `Result` cannot
  /// hold `range`, every application is poisoned with `.sortMismatch`.
  public func function<Result: Term>(
    _ name: String, domain: [Sort], range: Sort
  ) -> Function<Result> {
    let sorts = domain.map(z3Sort) + [z3Sort(range)]
    let decl = build("declare-fun \(name)", sorts) { raws in
      let domainRaws: [OpaquePointer?] = raws.dropLast().map(Optional.some)
      return Z3_mk_func_decl(
        raw, Z3_mk_string_symbol(raw, name), UInt32(domainRaws.count), domainRaws, raws.last)
    }
    return Function(decl: decl, name: name, domain: domain, range: range)
  }
}
