// SPDX-License-Identifier: MIT
/* Huge mappings that hold little: a 64 GiB sparse file mapped shared, written in two places
 * and mapped again after a hole is punched; a 16 GiB memfd; a terabyte of reserved address
 * space of which one page is used. Run in a scratch directory (it creates "big" there). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  off_t size = 64LL << 30;
  int fd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || pwrite(fd, "x", 1, size) != 1) return 1;
  char *p = mmap(NULL, size + 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 2;
  p[size / 2] = 1;
  p[size / 2 + 65536] = 2;
  munmap(p, size + 1);
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, size / 2, 4096) != 0) return 3;
  p = mmap(NULL, size + 1, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 4;
  printf("file: %d %d %c\n", p[size / 2], p[size / 2 + 65536], p[size]);

  int mfd = memfd_create("huge", 0);
  if (mfd < 0 || ftruncate(mfd, 16LL << 30) != 0) return 5;
  char *m = mmap(NULL, 16LL << 30, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  if (m == MAP_FAILED) return 6;
  m[12345] = 42;
  printf("memfd: %d\n", m[12345]);

  char *r = mmap(NULL, 1LL << 40, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return 7;
  if (mprotect(r + (1LL << 39), 4096, PROT_READ | PROT_WRITE) != 0) return 8;
  r[1LL << 39] = 7;
  printf("reserved: %d\n", r[1LL << 39]);
  unlink("big");
  return 0;
}
