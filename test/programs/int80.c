// SPDX-License-Identifier: MIT
/* A 64-bit program that makes a 32-bit syscall: getpid through int 0x80 (20 in the i386
 * table), then stays around for a second. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  long pid;
  __asm__ volatile("int $0x80" : "=a"(pid) : "a"(20L) : "memory");
  printf("int 0x80 getpid: %d\n", pid == getpid());
  fflush(stdout);
  sleep(1);
  return 0;
}
