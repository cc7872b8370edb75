// SPDX-License-Identifier: MIT
/* vfork three ways: a child that only stores into the parent's memory (vfork shares it, and
 * the parent is suspended until the child exits) and _exits with status 5; a child that execs
 * /bin/true; and posix_spawn of /bin/false (glibc runs it as a clone with CLONE_VM|CLONE_VFORK
 * on a stack of its own). The parent prints what it saw after each. */
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile int shared;

int main(void) {
  fflush(stdout);
  pid_t pid = vfork();
  if (pid < 0) return perror("vfork"), 1;
  if (pid == 0) {
    shared = 42; /* the parent's memory: vfork does not copy it */
    _exit(5);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("vfork child: shared %d, exited %d status %d\n", shared, WIFEXITED(status), WEXITSTATUS(status));

  char *argv[] = {"/bin/true", NULL};
  fflush(stdout);
  pid = vfork();
  if (pid < 0) return perror("vfork"), 1;
  if (pid == 0) {
    execve(argv[0], argv, environ);
    _exit(127);
  }
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("vfork+execve /bin/true: exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));

  char *argv2[] = {"/bin/false", NULL};
  int err = posix_spawn(&pid, argv2[0], NULL, NULL, argv2, environ);
  if (err != 0) return printf("posix_spawn failed: %d\n", err), 1;
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("posix_spawn /bin/false: exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
  return 0;
}
