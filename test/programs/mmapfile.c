// SPDX-License-Identifier: MIT
/* Maps the file argv[1] read-only and private and prints its content. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror("open"); return 1; }
  struct stat st;
  if (fstat(fd, &st) < 0) { perror("fstat"); return 1; }
  char *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  close(fd);
  unsigned sum = 2166136261u; /* FNV-1a */
  for (off_t i = 0; i < st.st_size; i++) sum = (sum ^ (unsigned char)p[i]) * 16777619u;
  printf("size %lld checksum %08x\n", (long long)st.st_size, sum);
  fwrite(p, 1, st.st_size, stdout);
  munmap(p, st.st_size);
  return 0;
}
