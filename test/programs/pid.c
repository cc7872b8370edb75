// SPDX-License-Identifier: MIT
/* Prints getpid() three times, flushing each line: each write's length depends on the pid. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  for (int i = 0; i < 3; i++) {
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
  }
  return 0;
}
