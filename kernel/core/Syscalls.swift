import Arch
import ExoABI

/// The system-call path: entry.S → `syscall` (dispatch on `Syscall`) →
/// `sys_*` (decode: validate every argument, may fail with a named error) →
/// the operation (cannot fail on user input).
@_cdecl("exo_syscall")
func syscall(_ frame: UnsafeMutablePointer<trap_frame>) -> UnsafeMutablePointer<trap_frame> {
  let result: SyscallResult
  if let call = Syscall(rawValue: frame.pointee.rax) {
    result = dispatch(call, frame.pointee)
  } else {
    result = .failure(.noSuchCall)
  }
  frame.pointee.rax = result.status
  frame.pointee.rdx = result.value
  return frame
}

private func dispatch(_ call: Syscall, _ f: trap_frame) -> SyscallResult {
  switch call {
  case .consoleWrite:
    return sys_consoleWrite(VirtualAddress(rawValue: f.rdi), length: f.rsi)
  case .exit:
    Programs.exitCurrent(status: f.rdi)
  case .ticks:
    return .success(Timer.ticks)
  }
}

private func sys_consoleWrite(_ address: VirtualAddress, length: UInt64) -> SyscallResult {
  guard length <= ConsoleLimits.maximumWrite else { return .failure(.invalidArgument) }
  switch UserBuffer.claim(address, length: length, in: Programs.currentSpace) {
  case .failure(let error):
    return .failure(error)
  case .success(let buffer):
    buffer.forEachChunk { start, count in Log("").bytes(start, count: count) }
    return .success(length)
  }
}
