// SPDX-License-Identifier: MIT
/* A parent and its child share a file through shared mappings, and the parent also maps it
 * privately through its writable fd; they share anonymous memory too (split in three by an
 * mprotect). In rounds taken in turn (a pipe each way), they change the file with stores,
 * pwrite, write and ftruncate (growing it, then mapping the new part) and store into the
 * anonymous memory and a System V segment (which the parent removes half way, attached);
 * the parent also fills a second segment while attached between two rounds and reads it back
 * in a later attachment. Each prints checksums of what it sees. The file is unlinked once open: only the mappings and fds
 * name it. With an argument, the parent does its rounds alone (no child). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define ROUNDS 12

static unsigned sum(const unsigned char *p, size_t n) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static void work(void) {
  volatile unsigned x = 0;
  for (int i = 0; i < 3000000; i++) x += i;
}

int main(int argc, char **argv) {
  (void)argv;
  int alone = argc > 1;
  char path[] = "/tmp/tsrr-sharedwrites-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0 || unlink(path) != 0 || ftruncate(fd, 4 * PAGE) != 0) return 1;
  unsigned char *shared = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  unsigned char *private = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (shared == MAP_FAILED || private == MAP_FAILED) return 2;
  unsigned char *anon = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED || mprotect(anon + PAGE, PAGE, PROT_READ) != 0) return 2;
  int segment = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
  int later = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
  unsigned char *sysv = segment < 0 ? (void *)-1 : shmat(segment, NULL, 0);
  if (later < 0 || sysv == (void *)-1) return 2;
  unsigned later_sum = 0;
  unsigned char *grown = NULL;
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) return 3;
  pid_t child = alone ? 1 : fork();
  int in = child == 0 ? to_child[0] : to_parent[0];
  int out = child == 0 ? to_parent[1] : to_child[1];
  char token = 't';
  for (int round = 0; round < ROUNDS; round++) {
    if (!alone && (child == 0 || round > 0) && read(in, &token, 1) != 1) return 4;
    work();
    if (child == 0) {
      shared[PAGE + round] = (unsigned char)('a' + round);
      anon[round] = (unsigned char)(round + 1);
      sysv[round] = (unsigned char)(round + 7);
      if (pwrite(fd, "c", 1, 2 * PAGE + round) != 1) return 5;
    } else {
      shared[round] = (unsigned char)('A' + round);
      anon[2 * PAGE + round] = (unsigned char)(round + 100);
      sysv[PAGE + round] = (unsigned char)(round + 50);
      if (round == 3 || round == 9) {
        unsigned char *l = shmat(later, NULL, 0);
        if (l == (void *)-1) return 10;
        if (round == 3) for (int i = 0; i < PAGE; i += 64) l[i] = (unsigned char)i;
        later_sum = sum(l, PAGE);
        shmdt(l);
      }
      if (round == ROUNDS / 2 - 1) shmctl(segment, IPC_RMID, NULL);
      if (lseek(fd, 3 * PAGE + round, SEEK_SET) < 0 || write(fd, "w", 1) != 1) return 6;
      private[round] = (unsigned char)('p' + round);
      if (round == ROUNDS / 2) {
        if (ftruncate(fd, 6 * PAGE) != 0) return 7;
        grown = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4 * PAGE);
        if (grown == MAP_FAILED) return 8;
      }
      if (grown) grown[round] = (unsigned char)round;
    }
    work();
    printf("%s round %d: shared %08x private %08x anonymous %08x sysv %08x %08x\n", child == 0 ? "child" : "parent", round, sum(shared, 4 * PAGE), child == 0 ? 0 : sum(private, 4 * PAGE), sum(anon, 3 * PAGE), sum(sysv, 2 * PAGE), later_sum);
    fflush(stdout);
    if (!alone && write(out, &token, 1) != 1) return 9;
  }
  if (child == 0) return 0;
  shmctl(later, IPC_RMID, NULL);
  int status = 0;
  if (!alone) waitpid(child, &status, 0);
  if (!alone) printf("child exited %d\n", WEXITSTATUS(status));
  printf("the file's last pages %08x\n", grown ? sum(grown, 2 * PAGE) : 0);
  return 0;
}
