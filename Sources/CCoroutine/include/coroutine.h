// Stackful coroutines for the libOS's host kernel: each simulated
// environment runs its program on its own stack, and the simulated machine
// switches stacks when the spec changes the current environment. One thread
// at a time; no scheduling here.
#ifndef EXO_COROUTINE_H
#define EXO_COROUTINE_H

#include <stddef.h>

typedef struct exo_coroutine exo_coroutine;

// A coroutine for the calling thread's own stack (the one to switch back to).
exo_coroutine *exo_coroutine_current(void);
// A coroutine that runs body(context) on a fresh stack of stack_size bytes
// when first switched to. body must never return: it switches away instead.
exo_coroutine *exo_coroutine_create(void (*body)(void *), void *context, size_t stack_size);
// Saves the running stack into from and resumes to.
void exo_coroutine_switch(exo_coroutine *from, exo_coroutine *to);
// Frees a coroutine that is not running.
void exo_coroutine_destroy(exo_coroutine *coroutine);

#endif
