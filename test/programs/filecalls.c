// SPDX-License-Identifier: MIT
/* File calls the syscall buffer takes (read, write, pread, pwrite, lseek, fstat, stat, lstat,
 * fstatat, statx, readlink, lgetxattr, poll without a wait) on a file in the directory argv[1], /dev/zero, /dev/urandom and /dev/null,
 * argv[2] times, from the main thread, a second thread, a forked child and a SIGALRM handler;
 * between them, a pipe (whose calls must stop: they may block), an fd moved with dup2 between
 * a pipe and the file, and reads too big for the buffer. Also writes "line N" to stdout with
 * write(1) every 1000 rounds, after a first line with the fds (file, zero, urandom, null,
 * pipe read and write ends). Prints a checksum of everything it read, so that record and
 * replay must agree on every byte. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if ((long)(x) < 0) { perror(#x); exit(1); } } while (0)

static char path[4096], link_path[4096];
static int file, zero, urandom, null, pipe_in;
static volatile unsigned long alarm_sum;

static unsigned long sum(const void *p, size_t n) {
  unsigned long s = 0;
  for (size_t i = 0; i < n; i++) s = s * 31 + ((const unsigned char *)p)[i];
  return s;
}

static void on_alarm(int sig) {
  (void)sig;
  char b[16];
  ssize_t n = pread(file, b, sizeof b, 8);
  if (n > 0) alarm_sum += sum(b, (size_t)n);
  write(null, b, 1);
}

/** One round of calls on fd `f` (the file) at round `i`; returns a checksum of what it read. */
static unsigned long round_of(int f, long i) {
  unsigned long s = 0;
  char b[64];
  struct stat st;
  struct statx sx;
  snprintf(b, sizeof b, "record %ld\n", i);
  CHECK(pwrite(f, b, strlen(b), (i % 100) * 16));
  CHECK(lseek(f, (i % 50) * 16, SEEK_SET));
  ssize_t n = read(f, b, 16);
  CHECK(n);
  s += sum(b, (size_t)n);
  CHECK(n = pread(f, b, sizeof b, 0));
  s += sum(b, (size_t)n);
  CHECK(fstat(f, &st));
  s += (unsigned long)st.st_size;
  CHECK(stat(path, &st));
  s += (unsigned long)st.st_size + st.st_ino;
  CHECK(lstat(path, &st));
  CHECK(fstatat(AT_FDCWD, path, &st, 0));
  CHECK(statx(AT_FDCWD, path, 0, STATX_SIZE, &sx));
  s += sx.stx_size;
  CHECK(read(zero, b, 8));
  s += sum(b, 8);
  CHECK(read(urandom, b, 8));
  s += sum(b, 8);
  CHECK(write(null, b, 8));
  CHECK(n = readlink(link_path, b, sizeof b));
  s += sum(b, (size_t)n);
  errno = 0;
  s += (unsigned long)lgetxattr(path, "user.tsrr", b, sizeof b) + (unsigned long)errno;
  struct pollfd p = {pipe_in, POLLIN, 0};
  s += (unsigned long)poll(&p, 1, 0) + (unsigned long)p.revents;
  return s;
}

static void *thread_main(void *arg) {
  long n = (long)arg;
  unsigned long s = 0;
  for (long i = 0; i < n; i++) s += round_of(file, i + 1000000);
  return (void *)s;
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: filecalls DIR ROUNDS\n"), 2;
  long rounds = atol(argv[2]);
  snprintf(path, sizeof path, "%s/filecalls.dat", argv[1]);
  CHECK(file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
  snprintf(link_path, sizeof link_path, "%s/filecalls.link", argv[1]);
  unlink(link_path);
  CHECK(symlink(path, link_path));
  CHECK(zero = open("/dev/zero", O_RDONLY));
  CHECK(urandom = open("/dev/urandom", O_RDONLY));
  CHECK(null = open("/dev/null", O_WRONLY));
  char big[700 * 1024];
  memset(big, 'x', sizeof big);
  CHECK(write(file, big, 4096));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_REAL, &it, NULL);

  int fds[2];
  CHECK(pipe(fds));
  pipe_in = fds[0];
  dprintf(1, "fds %d %d %d %d %d %d\n", file, zero, urandom, null, fds[0], fds[1]);
  pthread_t t;
  pthread_create(&t, NULL, thread_main, (void *)(rounds / 2));
  unsigned long s = 0;
  for (long i = 0; i < rounds; i++) {
    s += round_of(file, i);
    if (i % 1000 == 0) {
      // A pipe: its calls stop, and a fd number that was a pipe becomes the file and back.
      char b[32];
      int len = snprintf(b, sizeof b, "line %ld\n", i);
      CHECK(write(fds[1], b, (size_t)len));
      CHECK(read(fds[0], b, sizeof b));
      CHECK(write(1, b, (size_t)len));
      int saved = dup(fds[0]);
      CHECK(dup2(file, fds[0]));
      CHECK(pread(fds[0], b, 8, 0));
      s += sum(b, 8);
      CHECK(dup2(saved, fds[0]));
      close(saved);
      // Too big for the buffer: a plain call.
      CHECK(pread(file, big, sizeof big, 0));
      s += sum(big, 64);
    }
  }
  it.it_value.tv_usec = it.it_interval.tv_usec = 0;
  setitimer(ITIMER_REAL, &it, NULL);
  void *ts;
  pthread_join(t, &ts);
  s += (unsigned long)ts;

  pid_t child = fork();
  CHECK(child);
  if (child == 0) _exit((int)(round_of(file, 7) & 0x7f));
  int status;
  waitpid(child, &status, 0);
  s += (unsigned long)WEXITSTATUS(status);
  close(file);
  unlink(path);
  unlink(link_path);
  printf("sum %lu alarm_sum %lu\n", s, alarm_sum);
  return 0;
}
