// SPDX-License-Identifier: MIT
/* A process tree through a pipe: the parent forks a child that writes five lines (each naming
 * its own pid, from getpid) into a pipe and exits with status 7; the parent reads the pipe to
 * its end, prints what it got, waits for the child and prints how it ended and whether the pid
 * fork returned is the one the child reported. Only the parent prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int fds[2];
  if (pipe(fds) != 0) return perror("pipe"), 1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 1;
  if (pid == 0) {
    close(fds[0]);
    for (int i = 0; i < 5; i++) {
      char line[64];
      int n = snprintf(line, sizeof line, "line %d from child %d\n", i, (int)getpid());
      if (write(fds[1], line, n) != n) _exit(2);
    }
    _exit(7);
  }
  close(fds[1]);
  char buf[4096];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fds[0], buf + len, sizeof buf - 1 - len);
    if (n < 0) return perror("read"), 1;
    if (n == 0) break;
    len += n;
  }
  buf[len] = 0;
  printf("parent read %zu bytes:\n%s", len, buf);
  char expect[32];
  snprintf(expect, sizeof expect, "from child %d\n", (int)pid);
  printf("child pid matches fork's: %d\n", strstr(buf, expect) != NULL);
  int status;
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("child exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
  return 0;
}
