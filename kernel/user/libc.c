// The C library symbols an Embedded Swift user program may need: memory
// routines and a bump allocator over a fixed arena (free is a no-op).
#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  if (dp < sp) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x < *y ? -1 : 1;
  return 0;
}

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
