// SPDX-License-Identifier: MIT
/* fork + execve of /bin/echo (argv[0] is the full path, so that `tsrr ps` shows it); echo
 * writes to the same stdout; the parent waits for it and prints its exit status. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void) {
  printf("parent forks\n");
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 1;
  if (pid == 0) {
    char *argv[] = {"/bin/echo", "hello", "from", "echo", NULL};
    execve(argv[0], argv, environ);
    perror("execve");
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("child exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
  return 0;
}
