// SPDX-License-Identifier: MIT
/* Four threads and a condition variable: each thread, under the mutex, logs its arrival (its
 * number, the order it came in, its CLOCK_MONOTONIC time), then waits until main, woken when
 * all four have arrived, lets them go; each then logs its release the same way. Main joins
 * them and prints the log: the order and the times differ from run to run. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define THREADS 4

struct entry {
  int thread, order;
  const char *what;
  struct timespec at;
};

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int arrived, released, go;
static struct entry log_[2 * THREADS];
static int logged;

static void note(int thread, int order, const char *what) {
  struct entry *e = &log_[logged++];
  e->thread = thread;
  e->order = order;
  e->what = what;
  clock_gettime(CLOCK_MONOTONIC, &e->at);
}

static void *run(void *arg) {
  int me = (int)(long)arg;
  pthread_mutex_lock(&mutex);
  note(me, arrived++, "arrived");
  pthread_cond_broadcast(&cond);
  while (!go) pthread_cond_wait(&cond, &mutex);
  note(me, released++, "released");
  pthread_mutex_unlock(&mutex);
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, run, (void *)i) != 0) return perror("pthread_create"), 1;
  pthread_mutex_lock(&mutex);
  while (arrived < THREADS) pthread_cond_wait(&cond, &mutex);
  go = 1;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&mutex);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < logged; i++)
    printf("%d: thread %d %s #%d at %lld.%09ld\n", i, log_[i].thread, log_[i].what, log_[i].order, (long long)log_[i].at.tv_sec, log_[i].at.tv_nsec);
  printf("arrived %d released %d\n", arrived, released);
  return 0;
}
