#include "coroutine.h"

#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

struct exo_coroutine {
  ucontext_t context;
  void *stack;
  void (*body)(void *);
  void *argument;
};

exo_coroutine *exo_coroutine_current(void) {
  exo_coroutine *c = calloc(1, sizeof *c);
  return c;
}

// makecontext passes int arguments: the pointer travels in two halves.
static void trampoline(unsigned int high, unsigned int low) {
  exo_coroutine *c = (exo_coroutine *)(((uintptr_t)high << 32) | (uintptr_t)low);
  c->body(c->argument);
  abort();  // body must switch away, never return
}

exo_coroutine *exo_coroutine_create(void (*body)(void *), void *context, size_t stack_size) {
  exo_coroutine *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->stack = malloc(stack_size);
  if (!c->stack) {
    free(c);
    return NULL;
  }
  c->body = body;
  c->argument = context;
  getcontext(&c->context);
  c->context.uc_stack.ss_sp = c->stack;
  c->context.uc_stack.ss_size = stack_size;
  c->context.uc_link = NULL;
  uintptr_t p = (uintptr_t)c;
  makecontext(&c->context, (void (*)(void))trampoline, 2, (unsigned int)(p >> 32),
              (unsigned int)(p & 0xffffffffu));
  return c;
}

void exo_coroutine_switch(exo_coroutine *from, exo_coroutine *to) {
  swapcontext(&from->context, &to->context);
}

void exo_coroutine_destroy(exo_coroutine *coroutine) {
  if (!coroutine) return;
  free(coroutine->stack);
  free(coroutine);
}
