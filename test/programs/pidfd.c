// SPDX-License-Identifier: MIT
/* Process fds: a child made by clone with CLONE_PIDFD (the pidfd stored at parent_tid, and
 * clone3's at clone_args.pidfd), polled until it ends and waited for with waitid(P_PIDFD);
 * another child's pidfd from pidfd_open, which pidfd_send_signal kills. Through both kinds,
 * pidfd_getfd takes a child's copy of stdout (its fd 8, 9) to print with. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[65536];

static int child_main(void *arg) {
  (void)arg;
  _exit(5);
}

static void wait_pidfd(const char *what, int pidfd) {
  struct pollfd p = {pidfd, POLLIN, 0};
  int ready = poll(&p, 1, 5000);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  int r = waitid(P_PIDFD, pidfd, &info, WEXITED);
  printf("%s: poll %d revents %#x, waitid %d code %d status %d\n", what, ready, p.revents, r, info.si_code, info.si_status);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int pidfd = -1;
  pid_t pid = clone(child_main, stack + sizeof stack, CLONE_PIDFD | SIGCHLD, NULL, &pidfd);
  printf("clone: pid ok %d, pidfd %d\n", pid > 0, pidfd);
  wait_pidfd("clone child", pidfd);
  close(pidfd);

  int ready[2], go[2];
  char c;
  if (pipe(ready) != 0 || pipe(go) != 0) return 1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  int pidfd3 = -1;
  args.flags = CLONE_PIDFD;
  args.pidfd = (uintptr_t)&pidfd3;
  args.exit_signal = SIGCHLD;
  pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    dup2(1, 8);
    write(ready[1], "r", 1);
    read(go[0], &c, 1);
    _exit(6);
  }
  printf("clone3: pidfd %d\n", pidfd3);
  read(ready[0], &c, 1);
  int taken3 = syscall(SYS_pidfd_getfd, pidfd3, 8, 0);
  dprintf(taken3, "clone3 pidfd_getfd: printed through the child's fd 8\n");
  close(taken3);
  write(go[1], "g", 1);
  wait_pidfd("clone3 child", pidfd3);
  close(pidfd3);

  pid = fork();
  if (pid == 0) {
    dup2(1, 9);
    write(ready[1], "r", 1);
    pause();
    _exit(1);
  }
  read(ready[0], &c, 1);
  int opened = syscall(SYS_pidfd_open, pid, 0);
  printf("pidfd_open: %d\n", opened);
  int taken = syscall(SYS_pidfd_getfd, opened, 9, 0);
  dprintf(taken, "pidfd_getfd: printed through the child's fd 9\n");
  close(taken);
  printf("pidfd_send_signal: %ld\n", syscall(SYS_pidfd_send_signal, opened, SIGTERM, NULL, 0));
  siginfo_t info;
  memset(&info, 0, sizeof info);
  waitid(P_PIDFD, opened, &info, WEXITED);
  printf("killed child: code %d status %d\n", info.si_code, info.si_status);
  return 0;
}
