// SPDX-License-Identifier: MIT
// tsrr-launch: the first process of a recording or replay. It makes sure it dies with the
// tracer thread until tsrr has seized it, turns off address-space randomization, pins itself
// to one CPU (cpuid results such as the APIC id and the rseq cpu number depend on it), then
// stops until the tracer has seized it, and execs the program with the start state a shell
// would give it. Nothing it says may reach the program's stderr.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: tsrr-launch CPU PATH ARGV0 [ARGS...]\n");
    return 127;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return 127;
  if (getppid() == 1) return 127; // the tracer died before we could ask to die with it
  personality(personality(0xffffffff) | ADDR_NO_RANDOMIZE);
  int cpu = atoi(argv[1]);
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  raise(SIGSTOP);
  // Seized now (tsrr's PTRACE_O_EXITKILL ends us with the tracer): the program starts with no
  // parent-death signal, and with the dispositions a shell gives: Node ignores SIGPIPE and
  // SIGXFSZ, and posix_spawn ignores glibc's internal signals 32 and 33 (which glibc's
  // sigaction refuses to touch).
  prctl(PR_SET_PDEATHSIG, 0);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGXFSZ, SIG_DFL);
  unsigned long dfl[4] = {0}; // struct k_sigaction: handler SIG_DFL, no flags, no mask
  for (int sig = 32; sig <= 33; sig++) syscall(SYS_rt_sigaction, sig, dfl, 0, 8);
  execv(argv[2], argv + 3);
  _exit(128 + (errno & 127)); // tsrr reads errno from the exit status and says what failed
}
