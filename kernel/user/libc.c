// The C library symbols an Embedded Swift user program may need beyond
// kernel/common/memory.c: strlen, a bump allocator over a fixed arena (free
// is a no-op) and arc4random_buf.
#include <stddef.h>
#include <stdint.h>

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static _Alignas(4096) unsigned char arena[256 * 1024];
static size_t arena_used;

int posix_memalign(void **out, size_t alignment, size_t size) {
  if (alignment < 16) alignment = 16;
  size_t start = (arena_used + alignment - 1) & ~(alignment - 1);
  if (start > sizeof arena || size > sizeof arena - start) return 12;  // ENOMEM
  arena_used = start + size;
  *out = arena + start;
  return 0;
}

void free(void *p) { (void)p; }

void arc4random_buf(void *buf, size_t n) {
  // Deterministic: hashing seeds are not a security boundary here.
  static uint64_t state = 0x9E3779B97F4A7C15ull;
  unsigned char *b = buf;
  for (size_t i = 0; i < n; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    b[i] = (unsigned char)(state >> 56);
  }
}
