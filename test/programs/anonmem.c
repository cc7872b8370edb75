// SPDX-License-Identifier: MIT
/* Anonymous memory: mmap, mprotect, mremap, brk growth, a large malloc. Prints addresses
 * and checksums of what it wrote. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned checksum(const unsigned char *p, size_t n) {
  unsigned s = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) s = (s ^ p[i]) * 16777619u;
  return s;
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7 + seed);
}

int main(void) {
  size_t page = 4096, n = 16 * page;
  unsigned char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  fill(m, n, 1);
  printf("mmap %p checksum %08x\n", (void *)m, checksum(m, n));
  if (mprotect(m + 4 * page, 4 * page, PROT_READ) < 0) return 2;
  printf("mprotect ok checksum %08x\n", checksum(m, n));
  if (mprotect(m + 4 * page, 4 * page, PROT_READ | PROT_WRITE) < 0) return 3;
  unsigned char *g = mremap(m, n, 64 * n, MREMAP_MAYMOVE);
  if (g == MAP_FAILED) return 4;
  fill(g + n, 63 * n, 2);
  printf("mremap %p moved %d checksum %08x\n", (void *)g, g != m, checksum(g, 64 * n));
  munmap(g, 64 * n);

  unsigned char *b0 = sbrk(0);
  unsigned char *b = sbrk(1 << 20);
  if (b == (void *)-1) return 5;
  fill(b, 1 << 20, 3);
  unsigned char *b1 = sbrk(0);
  printf("brk %p grew %ld checksum %08x\n", (void *)b0, (long)(b1 - b0), checksum(b, 1 << 20));

  size_t big = 32u << 20;
  unsigned char *h = malloc(big);
  if (!h) return 6;
  fill(h, big, 4);
  printf("malloc %p checksum %08x\n", (void *)h, checksum(h, big));
  free(h);
  return 0;
}
