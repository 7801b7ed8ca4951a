// The differential tester's agent: entry points in
// kernel/user/programs/agent/entries.S (linked only into that program).
#ifndef EXO_AGENT_H
#define EXO_AGENT_H

#include <stdint.h>

__attribute__((noreturn)) void agent_boot(void);
__attribute__((noreturn)) void agent_command(uint64_t number, const uint64_t *_Nonnull args);
void agent_last_result(uint64_t *_Nonnull out);
uint64_t agent_start_address(void);
uint64_t agent_call_address(void);

#endif
