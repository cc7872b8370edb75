// SPDX-License-Identifier: MIT
/* A single-threaded workload for persistent checkpoints: over 60 steps it writes progress to
 * stdout, does file I/O in the directory argv[1] (create, write, lseek, read), mutates malloc'd
 * buffers (some large enough that malloc mmaps them) and a 4 MiB anonymous mapping touched in
 * phases (part of it made read-only for a while), maps the file argv[2] read-only, reads the
 * clock and getrandom, keeps /dev/null open, and prints a checksum of all its memory state at
 * every step. Everything it prints derives from what it was given, so a replay prints the
 * same bytes. Usage: pcpwork DIR MAPPED-FILE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STEPS 60
#define NBUF 8
#define REGION (4u << 20)
#define PAGE 4096u

static uint32_t fnv(uint32_t s, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) s = (s ^ b[i]) * 16777619u;
  return s;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof line - 1) n = sizeof line - 1;
  for (int off = 0; off < n;) {
    ssize_t w = write(1, line + off, (size_t)(n - off));
    if (w <= 0) exit(90);
    off += (int)w;
  }
}

static void die(const char *what) {
  out("error: %s\n", what);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 3) die("usage: pcpwork DIR MAPPED-FILE");
  char path[4096];
  snprintf(path, sizeof path, "%s/pcpwork.dat", argv[1]);

  int devnull = open("/dev/null", O_WRONLY);
  if (devnull < 0) die("open /dev/null");

  int mf = open(argv[2], O_RDONLY);
  if (mf < 0) die("open mapped file");
  struct stat st;
  if (fstat(mf, &st) < 0 || st.st_size == 0) die("fstat mapped file");
  size_t mlen = (size_t)st.st_size;
  const unsigned char *mapped = mmap(NULL, mlen, PROT_READ, MAP_PRIVATE, mf, 0);
  if (mapped == MAP_FAILED) die("mmap file");
  close(mf);
  out("mapped %zu bytes checksum %08x\n", mlen, fnv(2166136261u, mapped, mlen));

  unsigned char *region = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) die("mmap anonymous");

  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) die("open data file");

  unsigned char *bufs[NBUF] = {0};
  size_t sizes[NBUF] = {0};
  uint64_t rolling = 0x9e3779b97f4a7c15ull;
  size_t file_len = 0;

  for (int step = 0; step < STEPS; step++) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0) die("clock_gettime");
    uint64_t rnd[2];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) die("getrandom");
    rolling = rolling * 6364136223846793005ull + (uint64_t)ts.tv_nsec + rnd[0] + (rnd[1] >> 7);

    /* malloc'd buffers: one grows or is replaced each step; every 7th is large (mmap'd by malloc). */
    int b = step % NBUF;
    size_t want = (step % 7 == 3) ? (256u << 10) + (size_t)step * 1000 : 200u + (size_t)step * 37 + (size_t)(rnd[0] % 512);
    if (step % 5 == 4) {
      free(bufs[b]);
      bufs[b] = malloc(want);
    } else {
      bufs[b] = realloc(bufs[b], want);
    }
    if (!bufs[b]) die("malloc");
    sizes[b] = want;
    for (size_t i = 0; i < want; i++) bufs[b][i] = (unsigned char)(rolling >> ((i % 8) * 8)) ^ (unsigned char)i;

    /* The anonymous region, in phases: each step writes a stride of pages in one eighth (not
     * the last one while it is read-only). */
    size_t phase = (size_t)(step % 8) * (REGION / 8);
    int readonly = step % 8 == 7 && step >= 20 && step < 40;
    for (size_t off = phase; readonly && off < phase + REGION / 8; off += PAGE) rolling += region[off];
    for (size_t off = phase + (size_t)(step % 3) * PAGE; !readonly && off < phase + REGION / 8; off += 3 * PAGE) {
      memset(region + off, (int)(rolling >> 16) + step, 64);
      region[off + 100] ^= (unsigned char)rnd[1];
    }
    /* For a while, its last eighth is read-only. */
    if (step == 20 && mprotect(region + REGION - REGION / 8, REGION / 8, PROT_READ) < 0) die("mprotect ro");
    if (step == 40 && mprotect(region + REGION - REGION / 8, REGION / 8, PROT_READ | PROT_WRITE) < 0) die("mprotect rw");

    /* File I/O: append a record, seek back to a pseudo-random earlier one and read it. */
    char rec[64];
    int rl = snprintf(rec, sizeof rec, "step %02d t %09ld r %016llx\n", step, (long)ts.tv_nsec, (unsigned long long)rnd[0]);
    if (lseek(fd, (off_t)file_len, SEEK_SET) != (off_t)file_len) die("lseek end");
    if (write(fd, rec, (size_t)rl) != rl) die("write data file");
    file_len += (size_t)rl;
    off_t at = (off_t)((rnd[1] % (uint64_t)(step + 1)) * (uint64_t)rl);
    if (at + rl > (off_t)file_len) at = 0;
    char back[64];
    if (lseek(fd, at, SEEK_SET) != at) die("lseek back");
    ssize_t got = read(fd, back, (size_t)rl);
    if (got != rl) die("read data file");
    if (write(devnull, back, (size_t)got) != got) die("write /dev/null");

    /* A checksum of everything this program keeps. */
    uint32_t sum = fnv(2166136261u, &rolling, sizeof rolling);
    for (int i = 0; i < NBUF; i++)
      if (bufs[i]) sum = fnv(sum, bufs[i], sizes[i]);
    sum = fnv(sum, region, REGION);
    sum = fnv(sum, mapped + (size_t)step * 97 % mlen, mlen - (size_t)step * 97 % mlen);
    sum = fnv(sum, back, (size_t)got);
    out("step %02d time %lld.%09ld random %016llx read@%lld %.*s sum %08x\n", step, (long long)ts.tv_sec, (long)ts.tv_nsec,
        (unsigned long long)rnd[0], (long long)at, (int)got - 1, back, sum);
  }

  for (int i = 0; i < NBUF; i++) free(bufs[i]);
  munmap(region, REGION);
  munmap((void *)mapped, mlen);
  close(fd);
  if (unlink(path) < 0) die("unlink");
  close(devnull);
  out("done\n");
  return 0;
}
