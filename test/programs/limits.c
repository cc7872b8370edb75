// SPDX-License-Identifier: MIT
/* Resource limits: a child lowers RLIMIT_STACK and recurses until its stack cannot grow (SIGSEGV, at a depth the limit
 * decides); RLIMIT_AS makes a large mmap fail. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int depth;

static int recurse(void) {
  char frame[512];
  memset(frame, depth & 0xff, sizeof frame);
  depth++;
  return recurse() + frame[depth % sizeof frame];
}

int main(void) {
  pid_t child = fork();
  if (child == 0) {
    struct rlimit stack = {1 << 20, 1 << 20};
    setrlimit(RLIMIT_STACK, &stack);
    return recurse();
  }
  int status;
  waitpid(child, &status, 0);
  printf("child: %s %d\n", WIFSIGNALED(status) ? "killed by" : "exited", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  struct rlimit as = {256 << 20, 256 << 20};
  if (setrlimit(RLIMIT_AS, &as) != 0) perror("setrlimit");
  void *p = mmap(NULL, 512 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("mmap beyond RLIMIT_AS: %s\n", p == MAP_FAILED ? "failed" : "mapped");
  return 0;
}
