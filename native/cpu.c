// SPDX-License-Identifier: MIT
// Instructions the tracer must execute itself: cpuid (recorded per machine and emulated where
// CPUID faulting exists), rdtsc (the value a trapped rdtsc returns while recording) and xgetbv
// (which xsave components the machine enables); and probes of what some virtual machines leave
// out (trapping rdtsc, debug registers).
//
// The tracer thread also traps its own rdtsc (tsrr_trap_own_tsc): the CR4.TSD bit is switched
// at every context switch between a thread that traps rdtsc and one that does not, and in a VM
// that costs ~5 us, at every ptrace stop. With tracer and tracees alike, nothing switches. A
// stray rdtsc in this thread (libcrypto does them) is then emulated from CLOCK_MONOTONIC_RAW.
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

void tsrr_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out) {
  __asm__ volatile("cpuid"
                   : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                   : "a"(leaf), "c"(subleaf));
}

static uint64_t real_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

uint64_t tsrr_xgetbv(uint32_t index) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
  return ((uint64_t)hi << 32) | lo;
}

static __thread int trapped;
static uint64_t tsc0, ns0;
static double ticks_per_ns = 1.0;
static struct sigaction previous;
static volatile int traps;

// A real syscall: the vDSO's clock reads rdtsc itself.
static uint64_t now_ns(void) {
  struct timespec ts;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC_RAW, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t emulated_tsc(void) {
  return tsc0 + (uint64_t)((double)(now_ns() - ns0) * ticks_per_ns);
}

uint64_t tsrr_rdtsc(void) {
  return trapped ? emulated_tsc() : real_rdtsc();
}

static void on_segv(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  const uint8_t *ip = (const uint8_t *)g[REG_RIP];
  if (si->si_code == SI_KERNEL && ip[0] == 0x0f && (ip[1] == 0x31 || (ip[1] == 0x01 && ip[2] == 0xf9))) {
    traps++;
    uint64_t v = emulated_tsc();
    g[REG_RAX] = (uint32_t)v;
    g[REG_RDX] = v >> 32;
    if (ip[1] == 0x01) g[REG_RCX] = 0;
    g[REG_RIP] += ip[1] == 0x31 ? 2 : 3;
    return;
  }
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, si, ucv);
  } else if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
    signal(sig, SIG_DFL); // returning re-runs the fault, which now takes the default action
  } else {
    previous.sa_handler(sig);
  }
}

// Makes the calling thread trap rdtsc/rdtscp like its tracees. Returns 0 on success.
int tsrr_trap_own_tsc(void) {
  if (trapped) return 0;
  if (tsc0 == 0) {
    uint64_t t1 = real_rdtsc(), n1 = now_ns();
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    uint64_t t2 = real_rdtsc(), n2 = now_ns();
    if (n2 > n1 && t2 > t1) ticks_per_ns = (double)(t2 - t1) / (double)(n2 - n1);
    tsc0 = t2;
    ns0 = n2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &previous) != 0) return -1;
  }
  if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0) return -1;
  trapped = 1;
  return 0;
}

// Whether rdtsc traps in this thread once it asked for it: some virtual machines ignore
// PR_SET_TSC. 1 if it does, 0 if not, -1 if trapping could not be asked for.
int tsrr_rdtsc_traps(void) {
  if (tsrr_trap_own_tsc() != 0) return -1;
  int before = traps;
  real_rdtsc();
  return traps != before;
}

static volatile int watched;

// Whether a write watchpoint in the debug registers stops a traced child. 1 if it does, 0 if
// not, -1 if the probe could not run.
int tsrr_debug_registers_work(void) {
  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlives tsrr, even stopped
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(1); // stopped untraced, it would hang the wait
    raise(SIGSTOP);
    watched = 1;
    _exit(0);
  }
  int status, works = -1;
  if (waitpid(child, &status, __WALL) == child && WIFSTOPPED(status) &&
      ptrace(PTRACE_POKEUSER, child, offsetof(struct user, u_debugreg[0]), (void *)&watched) == 0 &&
      ptrace(PTRACE_POKEUSER, child, offsetof(struct user, u_debugreg[7]), (void *)(1L | 1L << 16 | 3L << 18)) == 0 &&
      ptrace(PTRACE_CONT, child, 0, 0) == 0 && waitpid(child, &status, __WALL) == child) {
    works = WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP;
  }
  kill(child, SIGKILL);
  while (waitpid(child, &status, __WALL) == child && !WIFEXITED(status) && !WIFSIGNALED(status)) {
  }
  return works;
}
