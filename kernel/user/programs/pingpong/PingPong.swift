import ExoABI
import LibOS

/// Two environments exchange a counter by RPC: the parent calls, the child
/// (a fork of it) serves each call by adding one.
public enum PingPong {
  public static func main<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart?)
    throws(ExoError) -> UInt64
  {
    if start != nil {
      var done = false
      os.serve { caller, message in
        if message.m1 == 1 {
          done = true
          return Message()
        }
        os.print("pingpong: environment \(os.me) got \(message.m0) from \(caller)")
        return Message(message.m0 + 1)
      }
      while !done { os.yield() }
      return 0
    }
    let child = try os.fork(function: 1)
    var counter: UInt64 = 0
    for _ in 0..<10 {
      let reply = try os.rpc(child, Message(counter))
      guard reply.m0 == counter + 1 else {
        os.print("pingpong: sent \(counter), got \(reply.m0)")
        return 1
      }
      counter = reply.m0 + 1
      os.print("pingpong: environment \(os.me) got \(reply.m0) back")
    }
    _ = try os.rpc(child, Message(0, 1))
    try os.reapAll()
    os.print("pingpong: counter reached \(counter)")
    return 0
  }
}
