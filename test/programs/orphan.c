// SPDX-License-Identifier: MIT
/* The first process ends while a child it started goes on: the child prints a line after
 * 300 ms (a daemon's shape: it has its own session). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  if (fork() == 0) {
    setsid();
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    printf("late child\n");
    return 0;
  }
  printf("parent done\n");
  return 0;
}
