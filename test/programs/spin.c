// SPDX-License-Identifier: MIT
/* Computes for about a second without a single syscall (a xorshift64 chain of argv[1] steps,
 * default 500 million), then prints the result: replay must run the same loop to the same end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 500000000ull;
  uint64_t x = 88172645463325252ull;
  for (uint64_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  printf("spin %llu steps: %016llx\n", (unsigned long long)n, (unsigned long long)x);
  return 0;
}
