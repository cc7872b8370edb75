// SPDX-License-Identifier: MIT
/* Prints cpuid leaves 0, 1 and 7. */
#include <cpuid.h>
#include <stdio.h>

int main(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return 1;
  printf("leaf 0: max %u vendor %.4s%.4s%.4s\n", a, (char *)&b, (char *)&d, (char *)&c);
  __get_cpuid(1, &a, &b, &c, &d);
  printf("leaf 1: eax %08x ebx %08x ecx %08x edx %08x apic %u\n", a, b, c, d, b >> 24);
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) printf("leaf 7: eax %08x ebx %08x ecx %08x edx %08x\n", a, b, c, d);
  return 0;
}
