// SPDX-License-Identifier: MIT
/* Children made with CLONE_UNTRACED (clone and clone3), which a tracer does not follow: each
 * writes to a pipe and exits with a status its parent prints; the flags word clone3 read is
 * the program's again afterwards. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fds[2];
static char stack[65536];

static int child_main(void *arg) {
  write(fds[1], "c", 1);
  return (int)(intptr_t)arg;
}

static void report(const char *what, pid_t pid) {
  char c = 0;
  read(fds[0], &c, 1);
  int status;
  waitpid(pid, &status, __WALL);
  printf("%s: wrote '%c', exited %d\n", what, c, WEXITSTATUS(status));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pipe(fds);
  pid_t pid = clone(child_main, stack + sizeof stack, CLONE_UNTRACED | SIGCHLD, (void *)3);
  report("clone", pid);
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_UNTRACED;
  args.exit_signal = SIGCHLD;
  pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(child_main((void *)4));
  report("clone3", pid);
  printf("clone3 flags kept: %d\n", args.flags == CLONE_UNTRACED);
  return 0;
}
