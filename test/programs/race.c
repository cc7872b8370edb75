// SPDX-License-Identifier: MIT
/* A data race: four threads each increment a shared counter N times (argv[1], default
 * 2,000,000) without a lock (a volatile int, so each increment is a separate load and store).
 * On more than one CPU the final value is usually less than 4 N and differs from run to run;
 * replay must reproduce exactly the interleaving that was recorded. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4

static volatile int counter;
static int steps = 2000000;

static void *run(void *arg) {
  (void)arg;
  for (int i = 0; i < steps; i++) counter++;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) steps = atoi(argv[1]);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, run, NULL) != 0) return perror("pthread_create"), 1;
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  printf("counter %d of %d\n", counter, THREADS * steps);
  return 0;
}
