// SPDX-License-Identifier: MIT
/* Reads all of stdin and prints its length and a checksum. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  unsigned char buf[4096];
  unsigned long total = 0;
  unsigned sum = 2166136261u; /* FNV-1a */
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) return 1;
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++) sum = (sum ^ buf[i]) * 16777619u;
    total += (unsigned long)n;
  }
  printf("stdin %lu bytes checksum %08x\n", total, sum);
  return 0;
}
