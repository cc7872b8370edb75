// SPDX-License-Identifier: MIT
/* Files mapped shared, or mapped privately through an fd open for writing, that change under
 * their mappings: two shared mappings of one file see each other's stores; pwrite, write
 * through a second fd, ftruncate (growing and shrinking) and an open with O_TRUNC show in the
 * mappings; a forked child's stores reach the parent through a shared file and through
 * /dev/zero; a private mapping sees the file grow; two adjacent mappings from one fd are
 * remapped as one; a System V segment attached twice is shared with a child. Prints what it reads back. Works in the directory given as argv[1]. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static unsigned sum(const unsigned char *p, size_t n) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) != 0) return 10;
  int fd = open("shared.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, 2 * PAGE) != 0) return 1;
  char *rw = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *ro = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
  if (rw == MAP_FAILED || ro == MAP_FAILED) return 2;
  strcpy(rw, "stored through one mapping");
  printf("other mapping: %s\n", ro);
  if (pwrite(fd, "PWRITE", 6, PAGE) != 6) return 3;
  printf("after pwrite: %.6s\n", ro + PAGE);
  int fd2 = open("shared.bin", O_WRONLY);
  if (lseek(fd2, 10, SEEK_SET) != 10 || write(fd2, "WRITE", 5) != 5) return 4;
  printf("after write through another fd: %s\n", ro);
  if (ftruncate(fd, 3 * PAGE) != 0) return 5;
  char *big = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
  printf("grown: byte %d, sum %08x\n", big[3 * PAGE - 1], sum((unsigned char *)big, 3 * PAGE));
  int fd3 = open("shared.bin", O_RDWR | O_TRUNC);
  if (fd3 < 0 || ftruncate(fd3, 3 * PAGE) != 0) return 6;
  printf("after O_TRUNC and regrowth: sum %08x\n", sum((unsigned char *)big, 3 * PAGE));

  pid_t child = fork();
  if (child == 0) {
    strcpy(rw + 100, "from the child");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  printf("child's store through the file: %s\n", ro + 100);

  int zero = open("/dev/zero", O_RDWR);
  char *z = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
  char *z2 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, zero, 0);
  if (z == MAP_FAILED || z2 == MAP_FAILED) return 7;
  child = fork();
  if (child == 0) {
    strcpy(z, "child wrote /dev/zero memory");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  printf("/dev/zero: shared with the child: %s; another mapping is apart: %d\n", z, z2[0]);

  int pfd = open("private.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
  char *priv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd, 0);
  if (priv == MAP_FAILED || pwrite(pfd, "grown later", 11, PAGE) != 11) return 8;
  printf("private mapping of a file that grew: %s\n", priv + PAGE);

  char *two = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
  if (two == MAP_FAILED || mmap(two + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, PAGE) == MAP_FAILED) return 9;
  char *moved = mremap(two, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE);
  printf("adjacent mappings remapped as one: %s\n", moved == MAP_FAILED ? "failed" : "ok");

  int shm = shmget(IPC_PRIVATE, 2 * PAGE, 0600);
  char *seg = shmat(shm, NULL, 0);
  if (shm < 0 || seg == (void *)-1) return 11;
  child = fork();
  if (child == 0) {
    char *own = shmat(shm, NULL, 0); // a second attachment, in the child
    strcpy(own + PAGE, "child wrote the segment");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  printf("System V segment: %s\n", seg + PAGE);
  shmdt(seg);
  shmctl(shm, IPC_RMID, NULL);
  unlink("shared.bin");
  unlink("private.bin");
  return 0;
}
