// SPDX-License-Identifier: MIT
/* Going back in a long replay: a loop of N iterations (default 100000), each with a syscall
 * (an event), that calls marker() every 1000 iterations. */
#include <stdlib.h>
#include <unistd.h>

volatile long sink;

__attribute__((noinline)) void marker(long i) { sink = i; }

__attribute__((noinline)) void done(void) { sink = -1; }

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  for (long i = 0; i < n; i++) {
    getppid();
    if (i % 1000 == 0) marker(i);
  }
  done();
  return 0;
}
