import ExoABI

/// Remote procedure calls on protected control transfer: a server installs
/// a handler (``LibOS/server``); a client calls it through an environment
/// capability with the `call` right. The call donates the caller's slice;
/// the reply comes back in the same transfer.
extension LibOS {
  /// Calls the environment `capability` names with `message` and returns
  /// its reply. While the server is busy with another caller (or has not
  /// registered its entry yet) the client yields and tries again, up to
  /// `attempts` times.
  public func rpc(_ capability: UInt64, _ message: Message, attempts: Int = 1000)
    throws(ExoError) -> Message
  {
    var tries = 0
    while true {
      let (status, reply) = kernel.transfer(capability, message)
      if status == 0 { return reply }
      let error = ExoError(rawValue: status)
      tries += 1
      guard error == .busy || error == .noEntry, tries < attempts else { throw error }
      yield()
    }
  }

  /// Calls `child`.
  public func rpc(_ child: Child, _ message: Message, attempts: Int = 1000) throws(ExoError)
    -> Message
  {
    try rpc(child.capability, message, attempts: attempts)
  }

  /// Serves RPCs with `handler` (caller, message) → reply, from now on.
  public func serve(_ handler: @escaping (UInt64, Message) -> Message) {
    server = handler
    _ = try? registerEntries(call: true)
  }
}
