// SPDX-License-Identifier: MIT
/* The program's own seccomp filters: SECCOMP_RET_ERRNO on a call (getppid: one the syscall
 * buffer would take), SECCOMP_RET_TRAP with a handler that reads the SIGSYS and fakes a
 * result, two stacked filters where the kernel's precedence picks TRAP over ERRNO, a filter
 * that returns through the accumulator (ret A), a TRAP with SIGSYS blocked (fatal), a
 * SECCOMP_RET_KILL_PROCESS, and a filter synchronized to another thread (TSYNC); children
 * report how they ended. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void install(struct sock_filter *f, unsigned short n, unsigned flags) {
  struct sock_fprog prog = {n, f};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) != 0) {
    perror("seccomp");
    _exit(100);
  }
}

static volatile int sigsys_nr = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  sigsys_nr = si->si_syscall;
  ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = 4242; // the faked result
}

static void report(const char *what, pid_t child) {
  int status;
  waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) printf("%s: killed by signal %d\n", what, WTERMSIG(status));
  else printf("%s: exited %d\n", what, WEXITSTATUS(status));
  fflush(stdout);
}

static void *thread_main(void *arg) {
  (void)arg;
  sleep(1);
  errno = 0;
  long r = syscall(SYS_getuid);
  printf("thread getuid: %ld errno %d\n", r, errno);
  fflush(stdout);
  return NULL;
}

int main(void) {
  printf("before: seccomp mode %d\n", prctl(PR_GET_SECCOMP));
  fflush(stdout);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 1;

  pthread_t t;
  pthread_create(&t, NULL, thread_main, NULL);
  struct sock_filter getuid_eperm[] = {LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM), ALLOW};
  install(getuid_eperm, 4, SECCOMP_FILTER_FLAG_TSYNC);
  pthread_join(t, NULL);

  struct sock_filter ppid_errno[] = {LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ESRCH), ALLOW};
  install(ppid_errno, 4, 0);
  errno = 0;
  int r = getppid();
  printf("getppid: %d errno %d; seccomp mode %d\n", r, errno, prctl(PR_GET_SECCOMP));

  struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
  sigaction(SIGSYS, &sa, NULL);
  struct sock_filter euid_trap[] = {LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_geteuid, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 7), ALLOW};
  install(euid_trap, 4, 0);
  long e = syscall(SYS_geteuid);
  printf("geteuid trapped: result %ld, SIGSYS for call %d\n", e, sigsys_nr);

  // Stacked: ERRNO now, TRAP already (older): TRAP has precedence.
  struct sock_filter euid_errno[] = {LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_geteuid, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES), ALLOW};
  install(euid_errno, 4, 0);
  sigsys_nr = -1;
  e = syscall(SYS_geteuid);
  printf("geteuid under two filters: result %ld, SIGSYS for call %d\n", e, sigsys_nr);

  // A call tsrr makes a no-op of (tracees stay on their CPU): the filter sees it all the same.
  struct sock_filter affinity_trap[] = {LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sched_setaffinity, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 8), ALLOW};
  install(affinity_trap, 4, 0);
  sigsys_nr = -1;
  long a = syscall(SYS_sched_setaffinity, 0, 0, NULL);
  printf("sched_setaffinity trapped: result %ld, SIGSYS for call %d\n", a, sigsys_nr);

  // ret A: the action computed in the accumulator.
  struct sock_filter gid_by_a[] = {
      LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getgid, 0, 2), BPF_STMT(BPF_LD | BPF_IMM, SECCOMP_RET_ERRNO | EDOM), BPF_STMT(BPF_RET | BPF_A, 0), ALLOW,
  };
  install(gid_by_a, 5, 0);
  errno = 0;
  long g = syscall(SYS_getgid);
  printf("getgid by ret A: %ld errno %d\n", g, errno);
  fflush(stdout);

  pid_t child = fork();
  if (child == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSYS);
    sigprocmask(SIG_BLOCK, &set, NULL);
    syscall(SYS_geteuid); // TRAP with SIGSYS blocked: fatal
    _exit(0);
  }
  report("TRAP with SIGSYS blocked", child);

  child = fork();
  if (child == 0) {
    struct sock_filter kill_yield[] = {LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sched_yield, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), ALLOW};
    install(kill_yield, 4, 0);
    sched_yield();
    _exit(0);
  }
  report("KILL_PROCESS", child);
  return 0;
}
