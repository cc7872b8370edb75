// SPDX-License-Identifier: MIT
/* Robust mutexes whose owner dies holding them, which the next locker learns (EOWNERDEAD):
 * a thread that exits, a child process killed by SIGKILL, and one that calls _exit, the last
 * two with a process-shared mutex in shared memory. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t *mutex;

static void *locker(void *arg) {
  (void)arg;
  pthread_mutex_lock(mutex);
  return NULL;
}

static void check(const char *what) {
  int r = pthread_mutex_lock(mutex);
  printf("%s: lock %s\n", what, r == EOWNERDEAD ? "EOWNERDEAD" : r == 0 ? "0" : "other");
  if (r == EOWNERDEAD) pthread_mutex_consistent(mutex);
  pthread_mutex_unlock(mutex);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  mutex = mmap(NULL, sizeof *mutex, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(mutex, &attr);

  pthread_t t;
  pthread_create(&t, NULL, locker, NULL);
  pthread_join(t, NULL);
  check("after a thread's exit");

  for (int killed = 1; killed >= 0; killed--) {
    int ready[2];
    pipe(ready);
    pid_t child = fork();
    if (child == 0) {
      pthread_mutex_lock(mutex);
      write(ready[1], "x", 1);
      if (!killed) _exit(0);
      pause();
    }
    char c;
    read(ready[0], &c, 1);
    if (killed) kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    check(killed ? "after a child's SIGKILL" : "after a child's _exit");
  }
  check("again");
  return 0;
}
