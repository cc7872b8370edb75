// SPDX-License-Identifier: MIT
/* A thread that spins on a flag without a syscall: it loops `while (!flag);` until the main
 * thread, after about 100 million iterations of work of its own and a few syscalls, sets it. A
 * recorder that runs one thread at a time must take the CPU away from the spinning thread, or
 * the program never ends. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile int flag;
static volatile unsigned long work;

static void *spin(void *arg) {
  (void)arg;
  while (!flag)
    ;
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, spin, NULL) != 0) return perror("pthread_create"), 1;
  for (unsigned long i = 0; i < 100000000ul; i++) work += i;
  for (int i = 0; i < 3; i++) getppid();
  flag = 1;
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
