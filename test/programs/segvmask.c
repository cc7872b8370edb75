// SPDX-License-Identifier: MIT
/* SIGSEGV blocked, ignored or handled while the program runs instructions tsrr traps (rdtsc
 * always, cpuid where the CPU faults it, as the dynamic loader's after an exec): the kernel's
 * forced SIGSEGV must leave no trace. With SIGSEGV blocked and then ignored, the program execs
 * itself and checks what it inherited; then, with a handler installed and SIGSEGV blocked, it
 * runs cpuid and rdtsc, checks the mask and the handler, and takes a real fault in the
 * handler. */
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

static sigjmp_buf back;

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(back, 1);
}

static int blocked(void) {
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  return sigismember(&now, SIGSEGV);
}

static const char *action(void) {
  struct sigaction sa;
  sigaction(SIGSEGV, NULL, &sa);
  return sa.sa_handler == SIG_IGN ? "ignored" : sa.sa_handler == SIG_DFL ? "default" : "handler";
}

int main(int argc, char **argv) {
  if (argc > 1) {
    printf("after exec (%s): blocked %d, %s\n", argv[1], blocked(), action());
    return 0;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  sigset_t segv;
  sigemptyset(&segv);
  sigaddset(&segv, SIGSEGV);
  sigprocmask(SIG_BLOCK, &segv, NULL);
  // Each exec runs the dynamic loader's cpuid with SIGSEGV as set here.
  for (int i = 0; i < 2; i++) {
    if (fork() == 0) {
      if (i == 1) {
        sigprocmask(SIG_UNBLOCK, &segv, NULL);
        signal(SIGSEGV, SIG_IGN);
      }
      execl("/proc/self/exe", argv[0], i ? "ignored" : "blocked", (char *)NULL);
      _exit(1);
    }
    int status;
    wait(&status);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigaction(SIGSEGV, &sa, NULL);
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  unsigned long long t = __rdtsc();
  printf("after cpuid and rdtsc: blocked %d, %s (tsc %d)\n", blocked(), action(), t != 0);
  sigprocmask(SIG_UNBLOCK, &segv, NULL);
  if (sigsetjmp(back, 1) == 0) *(volatile int *)8 = 1;
  printf("the handler took a real fault: %s\n", action());
  return 0;
}
