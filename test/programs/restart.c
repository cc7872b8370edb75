// SPDX-License-Identifier: MIT
/* A signal interrupting a blocking read, with and without SA_RESTART. For each variant the
 * parent installs a SIGUSR1 handler and blocks in read() on an empty pipe; a child waits until
 * the parent is asleep (its state in /proc/PPID/stat is S), sends it SIGUSR1, then 50 ms later
 * writes one byte into the pipe. With SA_RESTART the kernel restarts the read, which returns
 * the byte; without, read fails with EINTR and the parent reads the byte with a second read. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

static void pause_ms(long ms) {
  struct timespec ts = {0, ms * 1000 * 1000};
  nanosleep(&ts, NULL);
}

/* The state letter of process `pid` (R, S, t, ...), or 0. */
static char state_of(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *paren = strrchr(buf, ')');
  return paren && paren[1] == ' ' ? paren[2] : 0;
}

static int variant(int flags, const char *name) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return perror("sigaction"), 1;
  handled = 0;
  int fds[2];
  if (pipe(fds) != 0) return perror("pipe"), 1;
  fflush(stdout);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 1;
  if (pid == 0) {
    close(fds[0]);
    /* Up to 10 s for the parent to block in its read. */
    for (int i = 0; i < 10000 && state_of(parent) != 'S'; i++) pause_ms(1);
    pause_ms(20);
    kill(parent, SIGUSR1);
    pause_ms(50);
    if (write(fds[1], "x", 1) != 1) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  char c = 0;
  ssize_t n = read(fds[0], &c, 1);
  int err = errno;
  if (n == 1) {
    printf("%s: read returned 1 (%c): restarted; handler ran %d times\n", name, c, (int)handled);
  } else {
    printf("%s: read returned %zd, %s; handler ran %d times\n", name, n, n < 0 && err == EINTR ? "EINTR" : strerror(err), (int)handled);
    n = read(fds[0], &c, 1);
    printf("%s: read again returned %zd (%c)\n", name, n, n == 1 ? c : '-');
  }
  close(fds[0]);
  int status;
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("%s: child exited %d status %d\n", name, WIFEXITED(status), WEXITSTATUS(status));
  return 0;
}

/* A poll with a timeout interrupted by a signal that runs no handler (the SIGCHLD of a child
 * that exits, which reaches a traced process although it is ignored): the kernel resumes it as
 * restart_syscall, and what the resumed poll writes (revents) must be the recorded one. */
static int poll_restarted(void) {
  signal(SIGCHLD, SIG_DFL);
  int fds[2];
  if (pipe(fds) != 0) return perror("pipe"), 1;
  fflush(stdout);
  pid_t parent = getpid();
  pid_t children[2];
  for (int i = 0; i < 2; i++) {
    children[i] = fork();
    if (children[i] < 0) return perror("fork"), 1;
    if (children[i] == 0) {
      for (int j = 0; j < 10000 && state_of(parent) != 'S'; j++) pause_ms(1);
      /* The first ends (SIGCHLD) while the parent polls, the second writes later. */
      pause_ms(i == 0 ? 20 : 200);
      if (i == 1 && write(fds[1], "y", 1) != 1) _exit(1);
      _exit(0);
    }
  }
  struct pollfd pfd = {fds[0], POLLIN, 0};
  int n = poll(&pfd, 1, 10000);
  printf("poll: returned %d revents 0x%x\n", n, pfd.revents);
  for (int i = 0; i < 2; i++) waitpid(children[i], NULL, 0);
  return 0;
}

int main(void) {
  if (variant(SA_RESTART, "SA_RESTART")) return 1;
  if (variant(0, "no SA_RESTART")) return 1;
  return poll_restarted();
}
