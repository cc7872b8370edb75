// SPDX-License-Identifier: MIT
/* A program to debug: a loop that calls a function and bumps a global, a few syscalls between
 * iterations (so the replay has events along the way), and two threads at the end. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

int counter;
long checksum;

static int square(int x) {
  int y = x * x;
  return y;
}

static void *worker(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < 1000; i++) __atomic_add_fetch(&checksum, i * n, __ATOMIC_RELAXED);
  return NULL;
}

int main(void) {
  int total = 0;
  for (int i = 0; i < 10; i++) {
    total += square(i);
    counter++;
    getpid();
  }
  printf("total %d counter %d\n", total, counter);
  pthread_t t[2];
  for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("checksum %ld\n", checksum);
  return 0;
}
