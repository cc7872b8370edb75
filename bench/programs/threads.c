// Multithreaded: 4 threads mixing computation, a mutex-protected shared counter, clock_gettime
// and small writes to /dev/null.
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
static long iterations;
static int devnull;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter;

static void *work(void *arg) {
  unsigned long h = 1469598103934665603UL ^ (unsigned long)arg;
  struct timespec ts;
  for (long i = 0; i < iterations; i++) {
    for (int j = 0; j < 20000; j++) h = (h ^ (unsigned long)j) * 1099511628211UL;
    pthread_mutex_lock(&lock);
    counter += h & 0xff;
    pthread_mutex_unlock(&lock);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (i % 4 == 0 && write(devnull, &h, 1) != 1) abort();
  }
  return (void *)(h ^ (unsigned long)ts.tv_nsec);
}

int main(int argc, char **argv) {
  iterations = argc > 1 ? atol(argv[1]) : 5000;
  devnull = open("/dev/null", O_WRONLY);
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, work, (void *)i);
  unsigned long x = 0;
  for (int i = 0; i < THREADS; i++) {
    void *r;
    pthread_join(t[i], &r);
    x ^= (unsigned long)r;
  }
  printf("%lu %lx\n", counter, x & 0xf);
  return 0;
}
