// The README's worked example: prints the time and a random number, different on every run.
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned int r;
  getrandom(&r, sizeof r, 0);
  printf("time %ld.%09ld random %u\n", (long)ts.tv_sec, ts.tv_nsec, r);
  return 0;
}
