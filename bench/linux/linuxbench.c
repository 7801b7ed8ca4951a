// The Linux side of `exo bench`: the nearest Linux equivalents of the
// kernel paths the exokernel's `bench` program measures, timed with rdtsc.
// Under QEMU's -icount shift=0 rdtsc counts guest instructions, so each
// figure is an instruction count.
//
// Runs as a child of the initramfs's /init; at the end prints one line per
// workload,
//
//     BENCH <name> <median> <min> <max> <iterations>
//
// (per-iteration counts with the cost of an empty rdtsc pair taken off)
// then `BENCH-END` and ends the machine through QEMU's isa-debug-exit
// device with EXIT_SUCCESS_VALUE (or EXIT_FAILURE_VALUE), both given on the
// compiler's command line from ExoABI's DebugExit.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef EXIT_SUCCESS_VALUE
#error "EXIT_SUCCESS_VALUE must be defined"
#endif
#ifndef EXIT_FAILURE_VALUE
#error "EXIT_FAILURE_VALUE must be defined"
#endif
#define DEBUG_EXIT_PORT 0xf4

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

static void end_machine(int value) {
  fflush(stdout);
  if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0) outl(value, DEBUG_EXIT_PORT);
  perror("linuxbench: isa-debug-exit");
  exit(value == EXIT_SUCCESS_VALUE ? 0 : 1);
}

static void fail(const char *what) {
  printf("BENCH-FAIL %s\n", what);
  end_machine(EXIT_FAILURE_VALUE);
}

enum { maxIterations = 2000 };
static uint64_t samples[maxIterations];
static uint64_t overhead;

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

// Sorts the samples, takes the rdtsc overhead off, prints the line.
static void report(const char *name, int n) {
  qsort(samples, n, sizeof samples[0], compare);
  uint64_t median = samples[n / 2], min = samples[0], max = samples[n - 1];
  printf("BENCH %s %llu %llu %llu %d\n", name, (unsigned long long)(median - overhead),
         (unsigned long long)(min - overhead), (unsigned long long)(max - overhead), n);
}

static void measure_overhead(void) {
  for (int i = 0; i < 1000; i++) {
    uint64_t t0 = rdtsc();
    uint64_t t1 = rdtsc();
    samples[i] = t1 - t0;
  }
  qsort(samples, 1000, sizeof samples[0], compare);
  overhead = samples[500];
  printf("BENCH-OVERHEAD %llu\n", (unsigned long long)overhead);
}

// getppid: the nearest thing Linux has to a null system call.
static void bench_getppid(int n) {
  for (int i = 0; i < n; i++) {
    uint64_t t0 = rdtsc();
    syscall(SYS_getppid);
    uint64_t t1 = rdtsc();
    samples[i] = t1 - t0;
  }
  report("linux.getppid", n);
}

// A write to a read-only page raises SIGSEGV; the handler makes the page
// writable with mprotect and returns, and the write is retried.
static volatile char *fault_page;
static volatile int faults;

static void segv_handler(int sig, siginfo_t *info, void *context) {
  (void)sig, (void)context;
  if (((uintptr_t)info->si_addr & ~(uintptr_t)4095) != (uintptr_t)fault_page) {
    static const char message[] = "BENCH-FAIL sigsegv: a fault outside the test page\n";
    write(1, message, sizeof message - 1);
    end_machine(EXIT_FAILURE_VALUE);
  }
  mprotect((void *)fault_page, 4096, PROT_READ | PROT_WRITE);
  faults++;
}

static void bench_sigsegv(int n) {
  fault_page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (fault_page == MAP_FAILED) fail("mmap");
  fault_page[0] = 1;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = segv_handler;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGSEGV, &action, 0) != 0) fail("sigaction");
  for (int i = 0; i < n; i++) {
    if (mprotect((void *)fault_page, 4096, PROT_READ) != 0) fail("mprotect");
    uint64_t t0 = rdtsc();
    fault_page[8] = (char)i;
    uint64_t t1 = rdtsc();
    samples[i] = t1 - t0;
  }
  if (faults != n) fail("sigsegv: not every write faulted");
  report("linux.sigsegv", n);
}

// One byte to a child over a pipe and one byte back.
static void bench_pipe(int n) {
  int there[2], back[2];
  if (pipe(there) != 0 || pipe(back) != 0) fail("pipe");
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    close(there[1]);
    close(back[0]);
    char c;
    while (read(there[0], &c, 1) == 1) {
      if (write(back[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  close(there[0]);
  close(back[1]);
  char c = 'x';
  for (int i = 0; i < n; i++) {
    uint64_t t0 = rdtsc();
    if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) fail("pipe ping-pong");
    uint64_t t1 = rdtsc();
    samples[i] = t1 - t0;
  }
  close(there[1]);
  close(back[0]);
  int status;
  if (waitpid(child, &status, 0) != child) fail("pipe: waitpid");
  report("linux.pipe", n);
}

// Map a fresh anonymous page, touch it, unmap it.
static void bench_mmap(int n) {
  for (int i = 0; i < n; i++) {
    uint64_t t0 = rdtsc();
    volatile char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("mmap");
    p[0] = 1;
    munmap((void *)p, 4096);
    uint64_t t1 = rdtsc();
    samples[i] = t1 - t0;
  }
  report("linux.mmap", n);
}

// fork a child that exits at once; wait for it.
static void bench_fork(int n) {
  for (int i = 0; i < n; i++) {
    uint64_t t0 = rdtsc();
    pid_t child = fork();
    if (child < 0) fail("fork");
    if (child == 0) _exit(0);
    int status;
    if (waitpid(child, &status, 0) != child) fail("waitpid");
    uint64_t t1 = rdtsc();
    samples[i] = t1 - t0;
  }
  report("linux.fork", n);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--fail") == 0) end_machine(EXIT_FAILURE_VALUE);
  // All output waits for the end: console work (tty interrupts and
  // workers) between the measurements would move their counts.
  static char output[16384];
  setvbuf(stdout, output, _IOFBF, sizeof output);
  printf("BENCH-BEGIN linux\n");
  measure_overhead();
  bench_getppid(1000);
  bench_sigsegv(1000);
  bench_pipe(500);
  bench_mmap(500);
  bench_fork(200);
  printf("BENCH-END\n");
  end_machine(EXIT_SUCCESS_VALUE);
  return 0;
}
