// SPDX-License-Identifier: MIT
/* File syscalls in the directory argv[1]: open, write, read, pread, pwrite, lseek, fstat,
 * getdents64, rename, unlink. Prints what it reads back. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(x) do { if ((x) < 0) { perror(#x); return 1; } } while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  CHECK(fd);
  char buf[4096];
  char *names[64];
  int count = 0;
  for (;;) {
    long n = getdents64(fd, buf, sizeof buf);
    CHECK(n);
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      if (count < 64) names[count++] = strdup(d->d_name);
      off += d->d_reclen;
    }
  }
  close(fd);
  qsort(names, count, sizeof names[0], cmp);
  printf("entries:");
  for (int i = 0; i < count; i++) printf(" %s", names[i]), free(names[i]);
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  char a[4096], b[4096], c[4096];
  snprintf(a, sizeof a, "%s/a.txt", argv[1]);
  snprintf(b, sizeof b, "%s/b.txt", argv[1]);
  snprintf(c, sizeof c, "%s/c.txt", argv[1]);

  int fd = open(a, O_RDWR | O_CREAT | O_TRUNC, 0644);
  CHECK(fd);
  const char *text = "hello, record and replay\n";
  CHECK(write(fd, text, strlen(text)));
  CHECK(pwrite(fd, "HELLO", 5, 0));
  off_t pos = lseek(fd, 0, SEEK_CUR);
  printf("position after write %lld\n", (long long)pos);
  CHECK(lseek(fd, 0, SEEK_SET));
  char buf[128] = {0};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  CHECK(n);
  printf("read %zd: %s", n, buf);
  memset(buf, 0, sizeof buf);
  n = pread(fd, buf, 6, 7);
  CHECK(n);
  printf("pread %zd: %s\n", n, buf);
  off_t end = lseek(fd, 0, SEEK_END);
  printf("end %lld\n", (long long)end);
  struct stat st;
  CHECK(fstat(fd, &st));
  printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  close(fd);

  fd = open(c, O_WRONLY | O_CREAT | O_EXCL, 0600);
  CHECK(fd);
  CHECK(write(fd, "c", 1));
  close(fd);
  if (list(argv[1])) return 1;
  CHECK(rename(a, b));
  if (list(argv[1])) return 1;
  CHECK(unlink(c));
  if (list(argv[1])) return 1;

  fd = open(b, O_RDONLY);
  CHECK(fd);
  memset(buf, 0, sizeof buf);
  n = read(fd, buf, sizeof buf - 1);
  CHECK(n);
  printf("renamed file %zd: %s", n, buf);
  close(fd);
  printf("open missing: %d\n", open(a, O_RDONLY) < 0);
  CHECK(unlink(b));
  if (list(argv[1])) return 1;
  return 0;
}
