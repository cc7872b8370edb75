// Syscall-heavy: many small syscalls that return quickly.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000L;
  int fd = open("/dev/null", O_WRONLY);
  long sum = 0;
  char c = 'x';
  for (long i = 0; i < n; i++) {
    sum += getppid() > 0;
    sum += write(fd, &c, 1);
  }
  printf("%ld\n", sum);
  return 0;
}
