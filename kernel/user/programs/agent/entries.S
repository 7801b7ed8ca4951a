// The agent's entry points. Every way into an agent (boot, environmentStart,
// a protected control transfer, the return of a call the host asked for)
// starts over on a fresh stack below the I/O buffer and calls agent_resume,
// which never returns: no agent state lives on the stack across a call, so
// the kernel may resume any saved context of any copy.

#define STACK_TOP 0xBFFFFFE000   // DiffProtocol.bufferBase

  .text
  .p2align 12
// DiffProtocol.callEntry (imageBase + 0x1000): crt0's text comes first and
// is shorter than a page, so this page-aligned section starts there.
  .globl agent_call_entry
agent_call_entry:
  // Where the kernel put the stack and the frame (rdi), for the checks.
  mov %rsp, agent_entry_rsp(%rip)
  mov %rdi, agent_entry_rdi(%rip)
  // rflags first: the OR below changes them.
  movabs $STACK_TOP, %rsp
  pushfq
  popq agent_entry_flags(%rip)
  // A transfer, an exception or an upcall: every register the ABI does
  // not name is zero (docs/ABI.md "Registers").
  or %rbx, %rax
  or %rbp, %rax
  or %r10, %rax
  or %r11, %rax
  or %r12, %rax
  or %r13, %rax
  or %r14, %rax
  or %r15, %rax
  mov %rax, agent_entry_registers(%rip)
  mov $2, %edi                  // entered by a transfer
  xor %esi, %esi
  xor %edx, %edx
  call agent_resume
  ud2

  .p2align 6
// Where environmentStart starts an agent (the agent passes this address):
// every register but rsp is zero, the x87/SSE state is the initial one.
  .globl agent_start_entry
agent_start_entry:
  // rflags first: the OR below changes them. (rsp is not checked.)
  movabs $STACK_TOP, %rsp
  pushfq
  popq agent_entry_flags(%rip)
  or %rbx, %rax
  or %rcx, %rax
  or %rdx, %rax
  or %rsi, %rax
  or %rdi, %rax
  or %rbp, %rax
  or %r8, %rax
  or %r9, %rax
  or %r10, %rax
  or %r11, %rax
  or %r12, %rax
  or %r13, %rax
  or %r14, %rax
  or %r15, %rax
  mov %rax, agent_entry_registers(%rip)
  fxsave64 agent_fx_after(%rip)
  mov $3, %edi                  // started
  xor %esi, %esi
  xor %edx, %edx
  call agent_resume
  ud2

// Boot or reset: environment 0 from main.
  .globl agent_boot
agent_boot:
  movabs $STACK_TOP, %rsp
  xor %edi, %edi                // booted
  xor %esi, %esi
  xor %edx, %edx
  call agent_resume
  ud2

// agent_command(number, args, key): makes the call with six argument words
// and, when this context next runs, reports (1, rax, rdx) to agent_resume.
// Before the call every register the call does not take holds a pattern
// derived from `key` (rbx = key itself), the x87/SSE state is the image at
// agent_fx_seed (built from the key), and rflags is AGENT_FLAGS; after it
// the registers, rflags and the x87/SSE state go to agent_after and
// agent_fx_after for the agent to check against what the ABI says a call
// leaves (docs/ABI.md "Registers").
#define AGENT_FLAGS 0x2C7
  .globl agent_command
agent_command:
  mov %rsp, agent_command_rsp(%rip)
  mov %rdx, %rbx
  fxrstor64 agent_fx_seed(%rip)
  mov %rdi, %rax
  mov 40(%rsi), %r9
  mov 32(%rsi), %r8
  mov 24(%rsi), %r10
  mov 16(%rsi), %rdx
  mov 0(%rsi), %rdi
  mov 8(%rsi), %rsi
  movabs $0x5851F42D4C957F2D, %r11
  mov %rbx, %rbp
  xor %r11, %rbp
  movabs $0x14057B7EF767814F, %r11
  mov %rbx, %r12
  xor %r11, %r12
  movabs $0x9E3779B97F4A7C15, %r11
  mov %rbx, %r13
  xor %r11, %r13
  movabs $0xBF58476D1CE4E5B9, %r11
  mov %rbx, %r14
  xor %r11, %r14
  movabs $0x94D049BB133111EB, %r11
  mov %rbx, %r15
  xor %r11, %r15
  pushq $AGENT_FLAGS
  popfq
  syscall
  .globl agent_after_syscall
agent_after_syscall:
  mov %rbx, agent_after+0(%rip)
  mov %rbp, agent_after+8(%rip)
  mov %r12, agent_after+16(%rip)
  mov %r13, agent_after+24(%rip)
  mov %r14, agent_after+32(%rip)
  mov %r15, agent_after+40(%rip)
  mov %rdi, agent_after+48(%rip)
  mov %rsi, agent_after+56(%rip)
  mov %r10, agent_after+64(%rip)
  mov %r8, agent_after+72(%rip)
  mov %r9, agent_after+80(%rip)
  mov %rcx, agent_after+88(%rip)
  mov %r11, agent_after+96(%rip)
  mov %rsp, agent_after+104(%rip)
  pushfq
  popq agent_after+112(%rip)
  fxsave64 agent_fx_after(%rip)
  movabs $STACK_TOP, %rsp
  mov %rax, %rsi
  mov $1, %edi                  // returned from the call
  call agent_resume
  ud2

// agent_last_result(out): diffLastResult; out[0..2] = status, value, caller.
  .globl agent_last_result
agent_last_result:
  mov %rdi, %r9
  mov $71, %eax
  syscall
  mov %rax, 0(%r9)
  mov %rdx, 8(%r9)
  mov %rsi, 16(%r9)
  ret

  .globl agent_start_address
agent_start_address:
  lea agent_start_entry(%rip), %rax
  ret

  .globl agent_call_address
agent_call_address:
  lea agent_call_entry(%rip), %rax
  ret

// The memory probes. A page fault on their access resumes at
// agent_probe_recover with rax = 1 (diffProbe, registered at boot), so
// each returns 0 when the access went through and 1 when it faulted.
// agent_probe_read(address, out): *out = the word at address.
  .globl agent_probe_read, agent_probe_write, agent_probe_execute
  .globl agent_probe_first, agent_probe_end, agent_probe_recover
agent_probe_read:
  xor %eax, %eax
agent_probe_first:
  mov (%rdi), %rdx
  mov %rdx, (%rsi)
  ret
// agent_probe_write(address, value).
agent_probe_write:
  xor %eax, %eax
  mov %rsi, (%rdi)
  ret
// agent_probe_execute(address): 2 if the two bytes at address are not
// zero (nothing runs); else the instruction there (`add [rax], al`, rax
// = the scratch word) runs single-stepped: the kernel resumes at
// agent_probe_recover with rax = 0 once it ran, 1 if its fetch faulted.
agent_probe_execute:
  movzwl (%rdi), %eax
agent_probe_end:
  test %eax, %eax
  jnz 1f
  lea agent_probe_scratch(%rip), %rax
  pushfq
  orq $0x100, (%rsp)
  popfq
  jmp *%rdi
1:
  mov $2, %eax
  ret
// The kernel has set rax.
agent_probe_recover:
  ret

  .globl agent_probe_addresses
// agent_probe_addresses(out): out[0..2] = first, end, recovery.
agent_probe_addresses:
  lea agent_probe_first(%rip), %rax
  mov %rax, 0(%rdi)
  lea agent_probe_end(%rip), %rax
  mov %rax, 8(%rdi)
  lea agent_probe_recover(%rip), %rax
  mov %rax, 16(%rdi)
  ret

// agent_fault(address, write): an access that must fault (an exception
// step); returns only if it did not.
  .globl agent_fault
agent_fault:
  test %rsi, %rsi
  jnz 1f
  mov (%rdi), %rax
  ret
1:
  mov %rsi, (%rdi)
  ret

  .globl agent_after_address
agent_after_address:
  lea agent_after_syscall(%rip), %rax
  ret

// What the entry paths and agent_command leave for the agent to check.
  .bss
  .p2align 6
  .globl agent_after, agent_entry_registers, agent_entry_flags, agent_command_rsp
  .globl agent_entry_rsp, agent_entry_rdi
  .globl agent_fx_seed, agent_fx_after, agent_fx_expected, agent_sent
agent_after: .skip 128
agent_entry_registers: .skip 8
agent_entry_flags: .skip 8
agent_command_rsp: .skip 8
agent_entry_rsp: .skip 8
agent_entry_rdi: .skip 8
// What an execute probe's instruction adds to.
agent_probe_scratch: .skip 8
  .p2align 6
agent_fx_seed: .skip 512
agent_fx_after: .skip 512
agent_fx_expected: .skip 512
agent_sent: .skip 64 * 8 * 8
