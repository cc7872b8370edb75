// SPDX-License-Identifier: MIT
/* Ends of processes that replay must reproduce, each in a child whose status the parent
 * prints: a thread's fatal SIGSEGV ends its process while the main thread sleeps; SIGTERM from
 * outside ends a process whose threads are blocked; a raw clone sharing memory (CLONE_VM, no
 * CLONE_SETTLS) makes calls and kills itself, and its parent goes on with the memory they
 * share; the init of a new PID namespace ignores a signal it has no handler for. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *segv_thread(void *arg) {
  (void)arg;
  *(volatile int *)8 = 1;
  return NULL;
}

static void *blocked_thread(void *arg) {
  (void)arg;
  pause();
  return NULL;
}

static int shared_counter;

static int raw_clone_child(void *arg) {
  (void)arg;
  shared_counter = getpid() > 0 ? 42 : 0;
  kill(getpid(), SIGKILL);
  return 0;
}

static void report(const char *what, pid_t child) {
  int status;
  if (waitpid(child, &status, __WALL) != child) exit(9);
  if (WIFSIGNALED(status)) printf("%s: killed by %d\n", what, WTERMSIG(status));
  else printf("%s: exited %d\n", what, WEXITSTATUS(status));
  fflush(stdout);
}

int main(void) {
  pid_t child = fork();
  if (child == 0) {
    pthread_t t;
    pthread_create(&t, NULL, segv_thread, NULL);
    sleep(100);
    _exit(1);
  }
  report("thread SIGSEGV", child);

  int ready[2];
  if (pipe(ready) != 0) return 1;
  child = fork();
  if (child == 0) {
    pthread_t t;
    pthread_create(&t, NULL, blocked_thread, NULL);
    if (write(ready[1], "x", 1) != 1) _exit(2);
    pause();
    _exit(3);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return 2;
  struct timespec ts = {0, 20000000};
  nanosleep(&ts, NULL);
  kill(child, SIGTERM);
  report("SIGTERM with threads blocked", child);

  char *stack = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  child = clone(raw_clone_child, stack + (1 << 16), CLONE_VM | SIGCHLD, NULL);
  report("raw clone that kills itself", child);
  printf("shared counter %d, pid %s\n", shared_counter, getpid() > 0 ? "ok" : "bad");

  if (unshare(CLONE_NEWPID) != 0) {
    printf("PID namespace init: not permitted here\n");
    return 0;
  }
  child = fork();
  if (child == 0) {
    kill(getpid(), SIGQUIT); // no handler: init ignores it
    _exit(getpid() == 1 ? 55 : 56);
  }
  report("PID namespace init", child);
  return 0;
}
