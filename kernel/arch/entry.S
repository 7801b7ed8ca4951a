// Kernel entry and exit. Every way into the kernel (CPU exception, interrupt,
// system call) builds the same struct trap_frame (include/arch.h) on the
// kernel stack and calls Swift; Swift returns the frame to resume, which may
// be a different one, and exo_return_to restores it with iretq.

#include "abi_layout.h"

  .text
  .code64

// Exceptions that push an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13,
// #PF 14, #AC 17, #CP 21, #VC 29, #SX 30.
.macro isr_stub vec
  .p2align 4
exo_isr_\vec:
  .if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
  .else
  pushq $0
  .endif
  pushq $\vec
  jmp exo_trap_common
.endm

.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,255
  isr_stub \vec
.endr

.macro push_registers
  push %rax
  push %rbx
  push %rcx
  push %rdx
  push %rsi
  push %rdi
  push %rbp
  push %r8
  push %r9
  push %r10
  push %r11
  push %r12
  push %r13
  push %r14
  push %r15
.endm

exo_trap_common:
  push_registers
  cld
  mov %rsp, %rdi
  call exo_trap                       // returns the frame to resume in %rax
  mov %rax, %rdi
  jmp exo_return_to

// SYSCALL: rcx = user rip, r11 = user rflags, rsp = user stack; interrupts
// are off (SFMASK clears IF). Switch to the kernel stack and build a frame
// whose iretq returns to the instruction after the syscall.
  .globl exo_syscall_entry
exo_syscall_entry:
  mov %rsp, exo_user_rsp_scratch(%rip)
  mov exo_kernel_stack_top(%rip), %rsp
  pushq $EXO_USER_DATA_SELECTOR     // user ss
  pushq exo_user_rsp_scratch(%rip)    // user rsp
  pushq %r11                          // user rflags
  pushq $EXO_USER_CODE_SELECTOR       // user cs
  pushq %rcx                          // user rip
  pushq $0                            // error
  pushq $256                          // vector: EXO_VECTOR_SYSCALL
  push_registers
  cld
  mov %rsp, %rdi
  call exo_syscall
  mov %rax, %rdi
  jmp exo_return_to

  .globl exo_return_to
exo_return_to:
  mov %rdi, %rsp
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %r11
  pop %r10
  pop %r9
  pop %r8
  pop %rbp
  pop %rdi
  pop %rsi
  pop %rdx
  pop %rcx
  pop %rbx
  pop %rax
  add $16, %rsp                       // vector and error
  iretq

  .section .rodata
  .p2align 3
  .globl exo_isr_table
exo_isr_table:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
  .quad exo_isr_\vec
.endr
  .fill 255 - 48, 8, 0
  .quad exo_isr_255

  .section .data
  .p2align 3
  .globl exo_kernel_stack_top
exo_kernel_stack_top: .quad exo_boot_stack_top
exo_user_rsp_scratch: .quad 0
