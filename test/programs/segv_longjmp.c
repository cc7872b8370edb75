// SPDX-License-Identifier: MIT
/* Synchronous signals and handlers: three reads of a PROT_NONE page, each caught by a SIGSEGV
 * handler (running on an alternate stack, sigaltstack) that siglongjmps out; raise(SIGUSR1)
 * with a handler that returns; a ud2 (__builtin_trap) caught as SIGILL and siglongjmped out
 * of; an int3 caught as SIGTRAP by a handler that returns (execution goes on after the int3).
 * Prints what each handler saw. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf jump;
static char *page;
static char *altstack;
static size_t altsize;
static volatile int segv_on_altstack, segv_code, usr1_count, ill_code, trap_count;
static void *volatile segv_addr, *volatile ill_addr;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)ctx;
  char local;
  segv_on_altstack = &local >= altstack && &local < altstack + altsize;
  segv_addr = si->si_addr;
  segv_code = si->si_code;
  siglongjmp(jump, 1);
}

static void on_usr1(int sig) {
  (void)sig;
  usr1_count++;
}

static void on_ill(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)ctx;
  ill_addr = si->si_addr;
  ill_code = si->si_code;
  siglongjmp(jump, 2);
}

static void on_trap(int sig) {
  (void)sig;
  trap_count++;
}

static void handle(int sig, void (*fn)(int), void (*action)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  if (action) {
    sa.sa_sigaction = action;
    sa.sa_flags = SA_SIGINFO | flags;
  } else {
    sa.sa_handler = fn;
    sa.sa_flags = flags;
  }
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) perror("sigaction"), exit(1);
}

int main(void) {
  long pagesize = sysconf(_SC_PAGESIZE);
  page = mmap(NULL, pagesize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return perror("mmap"), 1;

  altsize = 64 * 1024;
  altstack = malloc(altsize);
  stack_t ss = {.ss_sp = altstack, .ss_size = altsize, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) return perror("sigaltstack"), 1;
  handle(SIGSEGV, NULL, on_segv, SA_ONSTACK);
  handle(SIGUSR1, on_usr1, NULL, 0);
  handle(SIGILL, NULL, on_ill, 0);
  handle(SIGTRAP, on_trap, NULL, 0);

  for (int i = 0; i < 3; i++) {
    volatile char *p = page + 100 * i;
    if (sigsetjmp(jump, 1) == 0) {
      char c = *p;
      printf("segv %d: read %d without a fault\n", i, c);
    } else {
      printf("segv %d: caught, at the address read %d, SEGV_ACCERR %d, on the alternate stack %d\n", i,
             segv_addr == (void *)p, segv_code == SEGV_ACCERR, segv_on_altstack);
    }
  }

  /* The signal mask was restored by siglongjmp: SIGSEGV is deliverable again. */
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  printf("SIGSEGV blocked after the jumps %d\n", sigismember(&mask, SIGSEGV));

  raise(SIGUSR1);
  raise(SIGUSR1);
  printf("SIGUSR1 handled %d times\n", usr1_count);

  if (sigsetjmp(jump, 1) == 0) {
    __builtin_trap();
  } else {
    const unsigned char *insn = ill_addr;
    printf("SIGILL caught, ILL_ILLOPN %d, at a ud2 %d\n", ill_code == ILL_ILLOPN, insn[0] == 0x0f && insn[1] == 0x0b);
  }

  for (int i = 0; i < 2; i++) __asm__ volatile("int3");
  printf("SIGTRAP handled %d times\n", trap_count);
  return 0;
}
