// Compute-bound: integer and floating-point work with almost no syscalls.
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000000L;
  unsigned long h = 1469598103934665603UL;
  double x = 0;
  for (long i = 0; i < n; i++) {
    h = (h ^ (unsigned long)i) * 1099511628211UL;
    x += (double)(h & 0xffff) * 1e-9;
  }
  printf("%lx %.6f\n", h, x);
  return 0;
}
