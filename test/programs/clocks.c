// SPDX-License-Identifier: MIT
/* Clock reads and ids by the thousand (calls the syscall buffer takes), from the main thread,
 * from threads, from a forked child, and from a SIGALRM handler that interrupts them every
 * millisecond (every argv[2] microseconds; 0: no timer): prints what it read, summed, so that
 * record and replay must agree on each. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile long alarms, alarm_sum;

static void on_alarm(int sig) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); // while the interrupted code may be inside one
  alarms++;
  alarm_sum += ts.tv_nsec & 0xff;
}

static long reads(long n) {
  long sum = 0;
  struct timespec ts;
  struct timeval tv;
  for (long i = 0; i < n; i++) {
    clock_gettime(i & 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    sum += ts.tv_nsec & 0xff;
    gettimeofday(&tv, NULL);
    sum += tv.tv_usec & 0xff;
    sum += time(NULL) & 1;
    sum += getpid() & 1;
  }
  return sum;
}

static void *worker(void *arg) { return (void *)reads((long)arg); }

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  long us = argc > 2 ? atol(argv[2]) : 1000;
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, us}, {0, us}};
  setitimer(ITIMER_REAL, &it, NULL);
  long sum = reads(n);
  pthread_t t[3];
  for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, worker, (void *)(n / 4));
  for (int i = 0; i < 3; i++) {
    void *r;
    pthread_join(t[i], &r);
    sum += (long)r;
  }
  pid_t child = fork();
  if (child == 0) _exit(reads(n / 4) & 0x7f);
  int status;
  while (waitpid(child, &status, 0) < 0) {
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("sum %ld child %d alarms %ld alarm_sum %ld pid %d\n", sum, WEXITSTATUS(status), alarms, alarm_sum, getpid());
  return 0;
}
