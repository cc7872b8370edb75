// SPDX-License-Identifier: MIT
/* SIGCHLD: a handler counts the signals; three children exit with statuses 1, 2 and 3, 20 ms
 * apart (so that their signals usually do not merge). The parent keeps SIGCHLD blocked except
 * inside sigsuspend, reaps whatever has exited with waitpid(WNOHANG) after each wake-up, and
 * prints each child's status, in the order of the children, and how many SIGCHLDs it handled. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN 3

static volatile sig_atomic_t sigchlds;

static void on_chld(int sig) {
  (void)sig;
  sigchlds++;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_chld;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGCHLD, &sa, NULL) != 0) return perror("sigaction"), 1;
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);

  pid_t pids[CHILDREN];
  int statuses[CHILDREN];
  fflush(stdout);
  for (int i = 0; i < CHILDREN; i++) {
    pids[i] = fork();
    if (pids[i] < 0) return perror("fork"), 1;
    if (pids[i] == 0) {
      struct timespec ts = {0, (i + 1) * 20 * 1000 * 1000};
      nanosleep(&ts, NULL);
      _exit(i + 1);
    }
  }
  int reaped = 0, wakeups = 0;
  while (reaped < CHILDREN) {
    sigsuspend(&old);
    wakeups++;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (int i = 0; i < CHILDREN; i++)
        if (pids[i] == pid) statuses[i] = status;
      reaped++;
    }
  }
  for (int i = 0; i < CHILDREN; i++)
    printf("child %d: exited %d status %d\n", i, WIFEXITED(statuses[i]), WEXITSTATUS(statuses[i]));
  printf("SIGCHLD handled %d times, %d wake-ups\n", (int)sigchlds, wakeups);
  return 0;
}
