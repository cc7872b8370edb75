// SPDX-License-Identifier: MIT
/* A thread gives itself an fd table of its own (unshare(CLONE_FILES)) and closes stdout in it:
 * the main thread still prints. Then, in a new PID namespace (where permitted), a child (its
 * init) starts a thread and joins it: glibc waits on the thread id the kernel wrote, which is
 * the thread's id in that namespace; then it ends, which kills its own child. The init of
 * another namespace faults, and dies of it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *close_stdout(void *arg) {
  (void)arg;
  if (unshare(CLONE_FILES) == 0) close(STDOUT_FILENO);
  return NULL;
}

static void *nothing(void *arg) { return arg; }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pthread_t t;
  pthread_create(&t, NULL, close_stdout, NULL);
  pthread_join(t, NULL);
  printf("stdout still open in the main thread\n");
  // A namespace's init that faults dies of it (the kernel drops only signals sent to it).
  pid_t helper = fork();
  if (helper == 0) {
    if (unshare(CLONE_NEWPID) != 0) _exit(0);
    pid_t init = fork();
    if (init == 0) {
      *(volatile int *)8 = 1;
      _exit(9);
    }
    int status;
    waitpid(init, &status, 0);
    printf("a faulting init: killed by %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    _exit(0);
  }
  waitpid(helper, NULL, 0);
  if (unshare(CLONE_NEWPID) != 0) {
    printf("PID namespace: not permitted here\n");
    return 0;
  }
  pid_t child = fork();
  if (child == 0) {
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);
    printf("in the namespace: pid %d, thread joined\n", getpid());
    // Its end kills the namespace's other processes, and waits until they are reaped.
    if (fork() == 0) {
      sleep(100);
      _exit(1);
    }
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  printf("PID namespace: child exited %d\n", WEXITSTATUS(status));
  return 0;
}
