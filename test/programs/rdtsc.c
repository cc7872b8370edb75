// SPDX-License-Identifier: MIT
/* Prints rdtsc and rdtscp values and their differences. */
#include <stdio.h>
#include <x86intrin.h>

int main(void) {
  unsigned long long v[8];
  unsigned aux[4];
  for (int i = 0; i < 4; i++) v[i] = __rdtsc();
  for (int i = 0; i < 4; i++) v[4 + i] = __rdtscp(&aux[i]);
  for (int i = 0; i < 8; i++) printf("%s %llu\n", i < 4 ? "rdtsc" : "rdtscp", v[i]);
  for (int i = 1; i < 8; i++) printf("diff %d %llu\n", i, v[i] - v[i - 1]);
  for (int i = 0; i < 4; i++) printf("aux %u\n", aux[i]);
  return 0;
}
