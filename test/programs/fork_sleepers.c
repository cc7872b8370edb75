// SPDX-License-Identifier: MIT
/* A process tree that runs for a long time: the parent forks three children; each of the four
 * processes then sleeps 10 ms and prints a tick, N times (argv[1], default 1000). stdout is
 * unbuffered. Each child prints "child I pid P started" first; the parent prints "parent pid P
 * started" before forking and waits for the children at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void ticks(const char *who, long n) {
  for (long i = 0; i < n; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("%s tick %ld\n", who, i);
  }
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("parent pid %d started\n", (int)getpid());
  for (int i = 0; i < 3; i++) {
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 1;
    if (pid == 0) {
      char who[16];
      snprintf(who, sizeof who, "child %d", i);
      printf("%s pid %d started\n", who, (int)getpid());
      ticks(who, n);
      _exit(0);
    }
  }
  ticks("parent", n);
  while (wait(NULL) > 0)
    ;
  printf("all done\n");
  return 0;
}
