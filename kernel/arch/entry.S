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

// struct trap_frame's general registers: rax at the lowest address.
.macro push_registers
  push %r15
  push %r14
  push %r13
  push %r12
  push %r11
  push %r10
  push %r9
  push %r8
  push %rbp
  push %rdi
  push %rsi
  push %rdx
  push %rcx
  push %rbx
  push %rax
.endm

exo_trap_common:
  push_registers
  cld
  mov %rsp, %rdi
  call exo_trap                       // returns the frame to resume in %rax
  mov %rax, %rdi
  jmp exo_return_to

// SYSCALL: rcx = user rip, r11 = user rflags, rsp = user stack; interrupts
// are off and DF is clear (SFMASK clears IF, TF, DF and AC).
//
// A call that runs in place (its bit set in exo_syscall_in_place_calls,
// which the kernel fills at boot from `Syscall.runsInPlace`) never
// switches environments nor reads or writes saved registers: it takes the
// short path. Only the registers the ABI preserves and the C convention
// does not are kept (rdi, rsi, r8, r9, r10; rbx, rbp and r12-r15 are kept
// by the Swift code as the C convention requires), with the return rip,
// rflags and rsp; the call's number and arguments go to
// exo_syscall_in_place in registers, its result comes back in rax and rdx,
// and sysretq returns. A return rip that is not a canonical user address
// (a syscall ending at the top of the lower half) takes the full path,
// whose iretq faults in ring 3 rather than sysretq in ring 0.
//
// Every other call builds the whole frame, whose iretq returns to the
// instruction after the syscall (the kernel may resume another frame).
  .globl exo_syscall_entry
exo_syscall_entry:
  mov %rsp, exo_user_rsp_scratch(%rip)
  mov exo_kernel_stack_top(%rip), %rsp
  cmp $64, %rax
  jae exo_syscall_full
  bt %rax, exo_syscall_in_place_calls(%rip)
  jnc exo_syscall_maybe_retried
  bt $47, %rcx
  jc exo_syscall_full
  mov %rcx, exo_user_rip_scratch(%rip)
  push %r11                           // user rflags
  push %rdi
  push %rsi
  push %r8
  push %r9
  push %r10                           // also the seventh argument (a3)
  mov %rax, %rcx                      // the call number
  call exo_syscall_in_place           // (a0, a1, a2, number, a4, a5, a3) -> rax, rdx
  pop %r10
  pop %r9
  pop %r8
  pop %rsi
  pop %rdi
  pop %r11
  mov exo_user_rip_scratch(%rip), %rcx
  mov exo_user_rsp_scratch(%rip), %rsp
  sysretq

// Every call outside exo_syscall_in_place_calls comes here first. One in
// exo_syscall_retried_calls runs in place too, but the full path may have
// to take it again: its number and rdx are kept as well. A status
// of all ones from exo_syscall_in_place means "take it again": every
// register goes back to what the caller had, and the full path starts
// over (the refused call changed nothing).
exo_syscall_maybe_retried:
  bt %rax, exo_syscall_retried_calls(%rip)
  jnc exo_syscall_full
  bt $47, %rcx
  jc exo_syscall_full
  mov %rcx, exo_user_rip_scratch(%rip)
  push %r11                           // user rflags
  push %rdi
  push %rsi
  push %rdx
  push %rax                           // the call number
  push %r8
  push %r9
  push %r10                           // also the seventh argument (a3)
  mov %rax, %rcx
  call exo_syscall_in_place
  cmp $-1, %rax                       // (pops leave the flags)
  pop %r10
  pop %r9
  pop %r8
  je 1f
  add $16, %rsp                       // the number and rdx
  pop %rsi
  pop %rdi
  pop %r11
  mov exo_user_rip_scratch(%rip), %rcx
  mov exo_user_rsp_scratch(%rip), %rsp
  sysretq
1:
  pop %rax
  pop %rdx
  pop %rsi
  pop %rdi
  pop %r11
  mov exo_user_rip_scratch(%rip), %rcx
  jmp exo_syscall_full

exo_syscall_full:
  pushq $EXO_USER_DATA_SELECTOR       // user ss
  pushq exo_user_rsp_scratch(%rip)    // user rsp
  pushq %r11                          // user rflags
  pushq $EXO_USER_CODE_SELECTOR       // user cs
  pushq %rcx                          // user rip
  pushq $0                            // error
  pushq $256                          // vector: EXO_VECTOR_SYSCALL
  push_registers
  mov %rsp, %rdi
  call exo_syscall
  mov %rax, %rdi
  jmp exo_return_to

  .globl exo_return_to
exo_return_to:
  mov %rdi, %rsp
  pop %rax
  pop %rbx
  pop %rcx
  pop %rdx
  pop %rsi
  pop %rdi
  pop %rbp
  pop %r8
  pop %r9
  pop %r10
  pop %r11
  pop %r12
  pop %r13
  pop %r14
  pop %r15
  add $16, %rsp                       // vector and error
  iretq

// void arch_zero(void *p, uint64_t n): zeroes n bytes at p (16-byte
// aligned) with 16-byte stores: 128-byte blocks, then 16-byte stores for
// the rest (a tail of n below a multiple of 16 is left). A page takes 32
// turns of the block loop, 11 instructions each, where `rep stosq` counts
// 512. The kernel's code is built without SSE, so xmm0 is the user's:
// it is saved and restored around the stores.
  .text
  .globl arch_zero
arch_zero:
  sub $16, %rsp
  movdqu %xmm0, (%rsp)
  pxor %xmm0, %xmm0
  mov %rsi, %rcx
  shr $7, %rcx
  jz 2f
1:
  movdqa %xmm0, (%rdi)
  movdqa %xmm0, 16(%rdi)
  movdqa %xmm0, 32(%rdi)
  movdqa %xmm0, 48(%rdi)
  movdqa %xmm0, 64(%rdi)
  movdqa %xmm0, 80(%rdi)
  movdqa %xmm0, 96(%rdi)
  movdqa %xmm0, 112(%rdi)
  add $128, %rdi
  dec %rcx
  jnz 1b
2:
  and $127, %rsi
  shr $4, %rsi
  jz 4f
3:
  movdqa %xmm0, (%rdi)
  add $16, %rdi
  dec %rsi
  jnz 3b
4:
  movdqu (%rsp), %xmm0
  add $16, %rsp
  ret

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
exo_user_rip_scratch: .quad 0
// Bit n set: system call n runs in place (the short path above) and is
// never taken again on the full path.
  .globl exo_syscall_in_place_calls
exo_syscall_in_place_calls: .quad 0
// Bit n set: system call n runs in place and may be taken again on the
// full path (exo_syscall_maybe_retried).
  .globl exo_syscall_retried_calls
exo_syscall_retried_calls: .quad 0
