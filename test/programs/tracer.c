// SPDX-License-Identifier: MIT
/* A program that traces its own children, as debuggers, sandboxes and test harnesses do; each
 * part prints what its tracer saw:
 * - PTRACE_TRACEME: the child's SIGSTOP, PEEKDATA/POKEDATA of a variable, PTRACE_SYSCALL stops
 *   at getppid (through glibc) whose result the tracer changes at the exit stop with SETREGS,
 *   single steps, the exit stop (PTRACE_O_TRACEEXIT) and its event message;
 * - PTRACE_SEIZE of a running child, PTRACE_INTERRUPT, a signal the tracer suppresses and one it
 *   delivers (PTRACE_GETSIGINFO names the sender);
 * - PTRACE_SYSEMU: the tracer skips a call and puts its own result in rax;
 * - exec under PTRACE_TRACEME: the SIGTRAP after it;
 * - a tracer that dies with its tracee stopped: the tracee goes on;
 * - PTRACE_O_TRACEFORK, TRACEVFORK, TRACEVFORKDONE and TRACECLONE: the tracee's fork, vfork and
 *   thread are traced from their start, and its tracer sees each event;
 * - PTRACE_SEIZE of a child in a group-stop: it stops for its tracer at once, registers readable. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile long secret = 11;
static volatile sig_atomic_t got1, got2;

static void on_usr1(int sig) { (void)sig; got1 = 1; }
static void on_usr2(int sig) { (void)sig; got2 = 1; }

static int stopped_by(pid_t pid) {
  int status;
  if (waitpid(pid, &status, __WALL) != pid) { perror("waitpid"); exit(9); }
  if (!WIFSTOPPED(status)) { printf("not stopped: %#x\n", status); exit(9); }
  return status >> 8;
}

static void wait_exit(const char *what, pid_t pid) {
  int status;
  if (waitpid(pid, &status, __WALL) != pid) { perror("waitpid"); exit(9); }
  if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) printf("%s: killed by %d\n", what, WTERMSIG(status));
  else printf("%s: status %#x\n", what, status);
}

static long raw_getpid(void) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_getpid) : "rcx", "r11", "memory");
  return r;
}

static void traceme(void) {
  pid_t child = fork();
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    long a = getppid(), b = getppid(), c = getppid();
    // Straight-line code for the single steps.
    __asm__ volatile("nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n");
    _exit(secret == 42 && b == 12345 && a == c ? 7 : 1);
  }
  printf("traceme: stop signal %d\n", stopped_by(child));
  long peeked = ptrace(PTRACE_PEEKDATA, child, &secret, 0);
  ptrace(PTRACE_POKEDATA, child, &secret, (void *)42L);
  printf("traceme: peeked %ld, poked 42\n", peeked);
  ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT);
  int getppids = 0, exits = 0;
  for (;;) {
    ptrace(PTRACE_SYSCALL, child, 0, 0);
    int sig = stopped_by(child);
    if (sig != (SIGTRAP | 0x80)) { printf("traceme: stop %#x\n", sig); exit(9); }
    struct user_regs_struct regs;
    ptrace(PTRACE_GETREGS, child, 0, &regs);
    if (regs.orig_rax != SYS_getppid) continue;
    // Stops alternate: the entry (rax is -ENOSYS there), then the exit.
    if ((long)regs.rax == -38) getppids++;
    else if (++exits == 2) {
      regs.rax = 12345;
      ptrace(PTRACE_SETREGS, child, 0, &regs);
    }
    if (exits == 3) break;
  }
  printf("traceme: %d getppid entries, %d exits\n", getppids, exits);
  int steps = 0;
  for (int i = 0; i < 4; i++) {
    struct user_regs_struct before, after;
    ptrace(PTRACE_GETREGS, child, 0, &before);
    ptrace(PTRACE_SINGLESTEP, child, 0, 0);
    if (stopped_by(child) != SIGTRAP) break;
    ptrace(PTRACE_GETREGS, child, 0, &after);
    steps += after.rip != before.rip;
  }
  printf("traceme: %d single steps moved\n", steps);
  ptrace(PTRACE_CONT, child, 0, 0);
  int sig = stopped_by(child);
  unsigned long msg = 0;
  ptrace(PTRACE_GETEVENTMSG, child, 0, &msg);
  printf("traceme: exit stop %d, event %d, message %#lx\n", sig & 0xff, sig >> 8, msg);
  ptrace(PTRACE_CONT, child, 0, 0);
  wait_exit("traceme", child);
}

static void seize(void) {
  int ready[2];
  if (pipe(ready) != 0) exit(9);
  pid_t child = fork();
  if (child == 0) {
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    write(ready[1], "r", 1);
    while (!got2) pause();
    _exit(got1 ? 1 : 3);
  }
  char c;
  read(ready[0], &c, 1);
  if (ptrace(PTRACE_SEIZE, child, 0, 0) != 0) { perror("PTRACE_SEIZE"); exit(9); }
  ptrace(PTRACE_INTERRUPT, child, 0, 0);
  int sig = stopped_by(child);
  printf("seize: interrupt stop %d event %d\n", sig & 0xff, sig >> 8);
  kill(child, SIGUSR1);
  ptrace(PTRACE_CONT, child, 0, 0);
  sig = stopped_by(child);
  siginfo_t info;
  ptrace(PTRACE_GETSIGINFO, child, 0, &info);
  printf("seize: signal stop %d, sent by me %d; suppressed\n", sig, info.si_pid == getpid());
  ptrace(PTRACE_CONT, child, 0, 0);
  kill(child, SIGUSR2);
  sig = stopped_by(child);
  printf("seize: signal stop %d; delivered\n", sig);
  ptrace(PTRACE_CONT, child, 0, (void *)(long)sig);
  wait_exit("seize", child);
  close(ready[0]);
  close(ready[1]);
}

static void sysemu(void) {
  pid_t child = fork();
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    _exit(raw_getpid() == 777 ? 5 : 1);
  }
  stopped_by(child);
  int skipped = 0;
  for (;;) {
    ptrace(PTRACE_SYSEMU, child, 0, 0);
    int status;
    waitpid(child, &status, __WALL);
    if (!WIFSTOPPED(status)) break;
    struct user_regs_struct regs;
    ptrace(PTRACE_GETREGS, child, 0, &regs);
    if (regs.orig_rax == SYS_getpid) {
      regs.rax = 777;
      ptrace(PTRACE_SETREGS, child, 0, &regs);
      skipped++;
      break;
    }
    // Another call (from the signal's return): made for it, as an emulator would.
    regs.rax = syscall(regs.orig_rax, regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9);
    ptrace(PTRACE_SETREGS, child, 0, &regs);
  }
  printf("sysemu: skipped %d getpid\n", skipped);
  ptrace(PTRACE_CONT, child, 0, 0);
  wait_exit("sysemu", child);
}

static void exec_trap(void) {
  pid_t child = fork();
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execl("/bin/true", "true", (char *)NULL);
    _exit(1);
  }
  printf("exec: stop signal %d\n", stopped_by(child));
  ptrace(PTRACE_CONT, child, 0, 0);
  wait_exit("exec", child);
}

static void tracer_death(void) {
  int ready[2];
  if (pipe(ready) != 0) exit(9);
  pid_t target = fork();
  if (target == 0) {
    signal(SIGUSR2, on_usr2);
    write(ready[1], "r", 1);
    while (!got2) pause();
    _exit(4);
  }
  char c;
  read(ready[0], &c, 1);
  pid_t tracer = fork();
  if (tracer == 0) {
    if (ptrace(PTRACE_ATTACH, target, 0, 0) != 0) _exit(1);
    // Dies with its tracee in its attach stop.
    _exit(stopped_by(target) == SIGSTOP ? 0 : 2);
  }
  wait_exit("death: tracer", tracer);
  kill(target, SIGUSR2);
  wait_exit("death: tracee", target);
}

static void *thread_main(void *arg) { return arg; }

enum { FORK, VFORK, CLONE, KINDS };

static void follow(void) {
  int ready[2];
  if (pipe(ready) != 0) exit(9);
  pid_t child = fork();
  if (child == 0) {
    char c;
    read(ready[0], &c, 1);
    pid_t g = fork();
    if (g == 0) _exit(66);
    waitpid(g, NULL, 0);
    g = vfork();
    if (g == 0) _exit(67);
    waitpid(g, NULL, 0);
    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    pthread_join(t, NULL);
    _exit(77);
  }
  long options = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACECLONE;
  if (ptrace(PTRACE_SEIZE, child, 0, (void *)options) != 0) { perror("PTRACE_SEIZE"); exit(9); }
  write(ready[1], "g", 1);
  int events[KINDS] = {0}, vfork_done = 0, initial = 0, child_sigchld = 0;
  pid_t made[KINDS] = {0};
  int exits[KINDS] = {-1, -1, -1};
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) { perror("waitpid"); exit(9); }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (pid == child) {
        printf("follow: exited %d\n", WEXITSTATUS(status));
        break;
      }
      for (int k = 0; k < KINDS; k++) if (made[k] == pid) exits[k] = WEXITSTATUS(status);
      continue;
    }
    int event = status >> 16, sig = WSTOPSIG(status);
    int deliver = 0;
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
      int k = event == PTRACE_EVENT_FORK ? FORK : event == PTRACE_EVENT_VFORK ? VFORK : CLONE;
      unsigned long msg;
      ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
      made[k] = (pid_t)msg;
      events[k]++;
    } else if (event == PTRACE_EVENT_VFORK_DONE) {
      vfork_done++;
    } else if (event == PTRACE_EVENT_STOP && pid != child) {
      initial++;
    } else if (event == 0) {
      child_sigchld += pid == child && sig == SIGCHLD;
      deliver = sig;
    }
    ptrace(PTRACE_CONT, pid, 0, (void *)(long)deliver);
  }
  printf("follow: events fork %d vfork %d vfork-done %d clone %d; %d started stopped\n", events[FORK], events[VFORK], vfork_done, events[CLONE], initial);
  // (A thread's end may report its own status or its process's exit_group's.)
  printf("follow: exits fork %d vfork %d; thread seen ending %d; SIGCHLD stops %d\n", exits[FORK], exits[VFORK], exits[CLONE] >= 0, child_sigchld);
  close(ready[0]);
  close(ready[1]);
}

static void seize_stopped(void) {
  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  kill(child, SIGSTOP);
  int status;
  waitpid(child, &status, WUNTRACED);
  if (ptrace(PTRACE_SEIZE, child, 0, 0) != 0) { perror("PTRACE_SEIZE"); exit(9); }
  int sig = stopped_by(child);
  struct user_regs_struct regs;
  long r = ptrace(PTRACE_GETREGS, child, 0, &regs);
  printf("seize stopped: stop %d event %d, getregs %ld\n", sig & 0xff, sig >> 8, r);
  kill(child, SIGKILL);
  wait_exit("seize stopped", child);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  traceme();
  seize();
  sysemu();
  exec_trap();
  tracer_death();
  follow();
  seize_stopped();
  return 0;
}
