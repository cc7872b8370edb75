// SPDX-License-Identifier: MIT
/* Prints a line, sets a global and dies of SIGSEGV writing it to address 8. */
#include <stdio.h>

int g;

int main(void) {
  printf("about to crash\n");
  fflush(stdout);
  g = 5;
  *(volatile int *)8 = g;
  return 0;
}
