// Touches 256 MiB in phases with many small syscalls in between, so that the trace is long:
// phase 0 writes every page, each later phase rewrites another contiguous 1/16 of them.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIZE (256UL << 20)
#define PAGE 4096UL

int main(int argc, char **argv) {
  long calls = argc > 1 ? atol(argv[1]) : 40000;
  uint64_t *mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 1;
  uint64_t x = 88172645463325252ULL, sum = 0;
  for (int phase = 0; phase < 8; phase++) {
    size_t pages = SIZE / PAGE, first = phase == 0 ? 0 : (phase - 1) * pages / 16;
    size_t last = phase == 0 ? pages : first + pages / 16;
    for (size_t page = first; page < last; page++) {
      uint64_t *p = mem + page * (PAGE / 8);
      for (size_t w = 0; w < PAGE / 8; w += 2) { // half random words, half a counter: 2-3x compressible
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        p[w] = x;
        p[w + 1] = page * 1000 + w + phase;
      }
    }
    for (long i = 0; i < calls; i++) sum += getppid() > 0;
    printf("phase %d done %lu\n", phase, sum);
    fflush(stdout);
  }
  return 0;
}
