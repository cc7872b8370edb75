// SPDX-License-Identifier: MIT
/* Calls of every sort for the plugins' view of syscalls: buffered ones (reads and writes of a
 * regular file, getpid, clock_gettime) and traced ones (open, pipe, nanosleep) from the main
 * thread and two others, and a child that the parent waits for with waitpid while it sleeps. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void calls(const char *path) {
  char buf[64];
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) exit(1);
  for (int i = 0; i < 20; i++) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (write(fd, "abcdefgh", 8) != 8 || pread(fd, buf, 8, 0) != 8) exit(2);
    (void)getpid();
  }
  close(fd);
}

static void *thread(void *arg) {
  calls(arg);
  return NULL;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  char paths[3][4096];
  for (int i = 0; i < 3; i++) snprintf(paths[i], sizeof paths[i], "%s/callmix.%d", dir, i);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, thread, paths[i + 1]);
  calls(paths[0]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    struct timespec nap = {0, 20000000};
    nanosleep(&nap, NULL);
    calls(paths[1]);
    _exit(3);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) return 1;
  printf("child exited with %d\n", WEXITSTATUS(status));
  return 0;
}
