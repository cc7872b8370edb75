// SPDX-License-Identifier: MIT
/* Runs for a long time while making syscalls: prints a line, then N times (argv[1], default
 * 1000) sleeps 10 ms and prints a counter. stdout is unbuffered, so every line is written as it
 * is printed: what a reader of the pipe got is exactly what the program did before it stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("sleeper starts, %ld iterations\n", n);
  for (long i = 0; i < n; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("tick %ld\n", i);
  }
  printf("sleeper done\n");
  return 0;
}
