// SPDX-License-Identifier: MIT
/* Asks to run on every CPU, then reads its CPU affinity back: under tsrr, bound to one CPU, the
 * request succeeds without taking effect; without it, the set stays all CPUs. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  cpu_set_t before, all, after;
  sched_getaffinity(0, sizeof before, &before);
  memset(&all, 0xff, sizeof all);
  int r = sched_setaffinity(0, sizeof all, &all);
  sched_getaffinity(0, sizeof after, &after);
  printf("setaffinity %d, unchanged %d\n", r, CPU_EQUAL(&before, &after));
  return 0;
}
