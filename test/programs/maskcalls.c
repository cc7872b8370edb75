// SPDX-License-Identifier: MIT
/* Calls that block with a signal mask of their own (ppoll, pselect6, epoll_pwait,
 * epoll_pwait2, sigsuspend), interrupted by a signal a child sends: once with the signal
 * blocked by the program's mask (only the call's mask lets it in), once with it unblocked all
 * along, while the call's mask blocks SIGCHLD (delivered after the call, with the program's
 * mask back). The handler prints the mask it runs with; main prints the call's result and the
 * mask after it. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int chld;

static unsigned long mask_now(void) {
  sigset_t s;
  sigprocmask(SIG_BLOCK, NULL, &s);
  unsigned long m = 0;
  for (int i = 1; i < 64; i++) if (sigismember(&s, i)) m |= 1ul << (i - 1);
  return m;
}

static void on_usr1(int sig) {
  char line[64];
  int n = snprintf(line, sizeof line, "  handler %d mask %lx\n", sig, mask_now());
  if (write(1, line, n) != n) _exit(1);
}

static void on_chld(int sig) { (void)sig; chld++; }

static long call(int which, int fd, int epfd, sigset_t *mask) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  struct timespec ts = {5, 0};
  fd_set set;
  FD_ZERO(&set);
  FD_SET(fd, &set);
  struct epoll_event ev;
  switch (which) {
  case 0: return ppoll(&p, 1, &ts, mask);
  case 1: return pselect(fd + 1, &set, NULL, NULL, &ts, mask);
  case 2: return epoll_pwait(epfd, &ev, 1, 5000, mask);
  case 3: return syscall(SYS_epoll_pwait2, epfd, &ev, 1, &ts, mask, 8);
  default: return sigsuspend(mask);
  }
}

int main(void) {
  static const char *names[] = {"ppoll", "pselect6", "epoll_pwait", "epoll_pwait2", "sigsuspend"};
  signal(SIGUSR1, on_usr1);
  signal(SIGCHLD, on_chld);
  int fds[2];
  if (pipe(fds) != 0) return 1;
  int epfd = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &ev);
  for (int which = 0; which < 5; which++) {
    for (int blocked = 0; blocked < 2; blocked++) {
      sigset_t program, during;
      sigemptyset(&program);
      if (blocked) sigaddset(&program, SIGUSR1);
      sigprocmask(SIG_SETMASK, &program, NULL);
      sigemptyset(&during);
      sigaddset(&during, SIGCHLD);
      sigaddset(&during, SIGUSR2);
      chld = 0;
      pid_t parent = getpid();
      pid_t child = fork();
      if (child == 0) {
        usleep(50000);
        kill(parent, SIGUSR1);
        _exit(0);
      }
      long r = call(which, fds[0], epfd, &during);
      int e = errno;
      printf("%s (SIGUSR1 %s): result %ld errno %d mask %lx\n", names[which], blocked ? "blocked" : "unblocked", r, r < 0 ? e : 0, mask_now());
      while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
      sigprocmask(SIG_SETMASK, &(sigset_t){0}, NULL);
      printf("  SIGCHLD handled %d\n", chld);
    }
  }
  return 0;
}
