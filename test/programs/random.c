// SPDX-License-Identifier: MIT
/* Prints randomness from getrandom, /dev/urandom and AT_RANDOM, and the pid. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <unistd.h>

static void hex(const char *label, const unsigned char *b, size_t n) {
  printf("%s ", label);
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\n");
}

int main(void) {
  unsigned char buf[32];
  ssize_t n = getrandom(buf, sizeof buf, 0);
  if (n != (ssize_t)sizeof buf) return 1;
  hex("getrandom", buf, sizeof buf);
  int fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0) return 2;
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t r = read(fd, buf + got, sizeof buf - got);
    if (r <= 0) return 3;
    got += (size_t)r;
  }
  close(fd);
  hex("urandom", buf, sizeof buf);
  hex("at_random", (const unsigned char *)getauxval(AT_RANDOM), 16);
  printf("pid %d\n", (int)getpid());
  return 0;
}
