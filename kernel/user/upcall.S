// User-level entry points the kernel transfers to (docs/ABI.md): the
// exception handler and the protected-control-transfer entry. Frame offsets
// come from ExoABI's ExceptionFrame through the generated abi_layout.h.
#include "abi_layout.h"

  .text
// Exception: rsp = rdi = the ExceptionFrame the kernel wrote. Saves the
// x87/SSE state, runs the Swift handler, restores that state, then resumes
// the interrupted code from the (possibly edited) frame with a ring-3 iretq,
// which restores rip, rflags and rsp together.
  .globl exo_exception_entry
exo_exception_entry:
  // The interrupted code's x87/SSE registers are not in the frame: keep
  // them below it while the (Swift) handler runs. The frame is 16-byte
  // aligned and 512 is a multiple of 16, so the call stays aligned.
  mov %rsp, %rbx
  sub $512, %rsp
  fxsave (%rsp)
  call exo_exception_dispatch
  fxrstor (%rsp)
  mov %rbx, %rsp
  mov %rsp, %rax
  sub $40, %rsp
  movq $EXO_USER_DATA_SELECTOR, 32(%rsp)
  mov EXO_FRAME_RSP(%rax), %rcx
  mov %rcx, 24(%rsp)
  mov EXO_FRAME_RFLAGS(%rax), %rcx
  mov %rcx, 16(%rsp)
  movq $EXO_USER_CODE_SELECTOR, 8(%rsp)
  mov EXO_FRAME_RIP(%rax), %rcx
  mov %rcx, (%rsp)
  mov EXO_FRAME_RBX(%rax), %rbx
  mov EXO_FRAME_RCX(%rax), %rcx
  mov EXO_FRAME_RDX(%rax), %rdx
  mov EXO_FRAME_RSI(%rax), %rsi
  mov EXO_FRAME_RDI(%rax), %rdi
  mov EXO_FRAME_RBP(%rax), %rbp
  mov EXO_FRAME_R8(%rax), %r8
  mov EXO_FRAME_R9(%rax), %r9
  mov EXO_FRAME_R10(%rax), %r10
  mov EXO_FRAME_R11(%rax), %r11
  mov EXO_FRAME_R12(%rax), %r12
  mov EXO_FRAME_R13(%rax), %r13
  mov EXO_FRAME_R14(%rax), %r14
  mov EXO_FRAME_R15(%rax), %r15
  mov EXO_FRAME_RAX(%rax), %rax
  iretq

// Protected control transfer: rdi = caller, rsi, rdx, rcx, r8 = message,
// r9 = 1 if asynchronous. The Swift dispatcher replies; reply does not
// return here.
  .globl exo_call_entry
exo_call_entry:
  and $-16, %rsp
  call exo_call_dispatch
  ud2

