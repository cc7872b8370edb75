// SPDX-License-Identifier: MIT
/* Reads the clocks that go through the vDSO (no syscall) and prints them with ns resolution. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int main(void) {
  struct timespec rt, mono;
  struct timeval tv;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  time_t t = time(NULL);
  gettimeofday(&tv, NULL);
  printf("realtime %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
  printf("monotonic %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
  printf("time %lld\n", (long long)t);
  printf("gettimeofday %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
  return 0;
}
