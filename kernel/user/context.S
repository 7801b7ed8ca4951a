// User-level thread switching for the libOS (kernel/user/libos): a thread's
// context is its stack pointer, with the callee-saved registers pushed on
// its stack (System V: rbx, rbp, r12-r15; everything else is the caller's).
  .text
// void exo_context_switch(uint64_t *save, uint64_t next): saves the running
// thread's stack pointer into *save and resumes the thread whose stack
// pointer is next.
  .globl exo_context_switch
exo_context_switch:
  push %rbp
  push %rbx
  push %r12
  push %r13
  push %r14
  push %r15
  mov %rsp, (%rdi)
  mov %rsi, %rsp
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbx
  pop %rbp
  ret

// A new thread's first return lands here (exo_context_prepare put it on
// the stack) with its id in r12: runs exo_thread_main(id), which never
// returns.
  .globl exo_context_start
exo_context_start:
  mov %r12, %rdi
  and $-16, %rsp
  call exo_thread_main
  ud2
