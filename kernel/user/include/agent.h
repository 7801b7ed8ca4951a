// The differential tester's agent: entry points in
// kernel/user/programs/agent/entries.S (linked only into that program).
#ifndef EXO_AGENT_H
#define EXO_AGENT_H

#include <stdint.h>

__attribute__((noreturn)) void agent_boot(void);
__attribute__((noreturn)) void agent_command(
    uint64_t number, const uint64_t *_Nonnull args, uint64_t key);
void agent_last_result(uint64_t *_Nonnull out);
uint64_t agent_start_address(void);
uint64_t agent_call_address(void);
uint64_t agent_after_address(void);
// Memory probes: 0 when the access went through, 1 when it faulted.
uint64_t agent_probe_read(uint64_t address, uint64_t *_Nonnull out);
uint64_t agent_probe_write(uint64_t address, uint64_t value);
// 0 when the instruction at address ran, 1 when its fetch faulted, 2 when
// the bytes there were not zero (nothing ran).
uint64_t agent_probe_execute(uint64_t address);
void agent_probe_addresses(uint64_t *_Nonnull out);
// An access that must fault (write if `write` is not 0); returns if not.
void agent_fault(uint64_t address, uint64_t write);

// Left by agent_command after its call returns: rbx, rbp, r12-r15, rdi,
// rsi, r10, r8, r9, rcx, r11, rsp, rflags (in that order).
extern uint64_t agent_after[16];
// Left by the transfer and start entries: the OR of the registers the ABI
// says are zero there, and rflags.
extern uint64_t agent_entry_registers;
extern uint64_t agent_entry_flags;
// The stack pointer agent_command was called with (the same for every call).
extern uint64_t agent_command_rsp;
// rsp and rdi as the transfer entry found them.
extern uint64_t agent_entry_rsp;
extern uint64_t agent_entry_rdi;
// fxsave64 images: the one agent_command loads before its call, and the
// one saved after it returns (or at the start entry).
extern uint8_t agent_fx_seed[512];
extern uint8_t agent_fx_after[512];
// Scratch for the image the agent expects.
extern uint8_t agent_fx_expected[512];
// Per call (64 entries): key, number, six argument words.
extern uint64_t agent_sent[512];

#endif
