// SPDX-License-Identifier: MIT
/* Exec in a process with threads, each in a child whose status the parent prints: a thread
 * other than the main one execs (it takes over the process's id; the main thread and a third
 * thread, blocked, are gone), and the main thread execs while another thread sleeps (one that
 * never ran, and one blocked). The new program checks its pid is the one the parent forked. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char pid_arg[16];

static void exec_self(const char *how) {
  execl("/proc/self/exe", "threadexec", how, pid_arg, (char *)NULL);
  _exit(9);
}

static void *execing_thread(void *arg) {
  (void)arg;
  exec_self("from a thread");
  return NULL;
}

static void *sleeping_thread(void *arg) {
  (void)arg;
  sleep(1000);
  return NULL;
}

static void run(const char *what, void (*child)(void)) {
  pid_t pid = fork();
  if (pid == 0) {
    snprintf(pid_arg, sizeof pid_arg, "%d", (int)getpid());
    child();
    _exit(8);
  }
  int status;
  waitpid(pid, &status, 0);
  printf("%s: exited %d\n", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  fflush(stdout);
}

static void from_thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, sleeping_thread, NULL);
  pthread_create(&t, NULL, execing_thread, NULL);
  sleep(1000);
}

static void from_main(void) {
  pthread_t t;
  pthread_create(&t, NULL, sleeping_thread, NULL);
  usleep(10000);
  pthread_create(&t, NULL, sleeping_thread, NULL);
  exec_self("from the main thread");
}

int main(int argc, char **argv) {
  if (argc > 2) {
    printf("execed %s: same pid %d\n", argv[1], getpid() == atoi(argv[2]));
    fflush(stdout);
    return 42;
  }
  run("exec from a thread", from_thread);
  run("exec from the main thread", from_main);
  return 0;
}
