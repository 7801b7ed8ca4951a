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
  movabs $STACK_TOP, %rsp
  mov $2, %edi                  // entered by a transfer
  xor %esi, %esi
  xor %edx, %edx
  call agent_resume
  ud2

  .p2align 6
// Where environmentStart starts an agent (the agent passes this address).
  .globl agent_start_entry
agent_start_entry:
  movabs $STACK_TOP, %rsp
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

// agent_command(number, args): makes the call with six argument words
// and, when this context next runs, reports (1, rax, rdx) to agent_resume.
  .globl agent_command
agent_command:
  mov %rdi, %rax
  mov 40(%rsi), %r9
  mov 32(%rsi), %r8
  mov 24(%rsi), %r10
  mov 16(%rsi), %rdx
  mov 0(%rsi), %rdi
  mov 8(%rsi), %rsi
  syscall
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
