// SPDX-License-Identifier: MIT
/* A data race: four threads each increment a shared counter 2,000,000 times without a lock
 * (a volatile int, so each increment is a separate load and store). On more than one CPU the
 * final value is usually less than 8,000,000 and differs from run to run; replay must
 * reproduce exactly the interleaving that was recorded. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define STEPS 2000000

static volatile int counter;

static void *run(void *arg) {
  (void)arg;
  for (int i = 0; i < STEPS; i++) counter++;
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, run, NULL) != 0) return perror("pthread_create"), 1;
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  printf("counter %d of %d\n", counter, THREADS * STEPS);
  return 0;
}
