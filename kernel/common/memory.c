// The memory routines the compiler may emit calls to, for the kernel and for
// user programs alike (exo build compiles this file once for each, with
// their own flags). Freestanding; no SIMD.
//
// Copies and fills move eight bytes per step with `rep movsq`/`rep stosq`
// and finish the tail with `rep movsb`/`rep stosb`. Both the kernel and the
// user runtime keep the direction flag clear (the kernel clears it on
// entry; the ABI requires it clear in user code).
#include <stddef.h>
#include <stdint.h>

static inline void copy_forward(unsigned char *d, const unsigned char *s, size_t n) {
  size_t words = n >> 3, bytes = n & 7;
  __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words)::"memory");
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(bytes)::"memory");
}

void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  uint64_t pattern = (uint64_t)(unsigned char)c * 0x0101010101010101ull;
  size_t words = n >> 3, bytes = n & 7;
  __asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(pattern) : "memory");
  __asm__ volatile("rep stosb" : "+D"(p), "+c"(bytes) : "a"(pattern) : "memory");
  return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  copy_forward(d, s, n);
  return d;
}

// A forward copy is safe whenever the destination starts below the source
// (each step reads before it writes, and never reads what an earlier step
// wrote); otherwise overlapping ranges are copied backwards, a byte at a
// time.
void *memmove(void *d, const void *s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  if (dp <= sp || dp >= sp + n) {
    copy_forward(dp, sp, n);
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
