// SPDX-License-Identifier: MIT
/* Sockets between a parent and its child: three ping/pong exchanges over a socketpair, then a
 * TCP connection over 127.0.0.1 (the parent listens on a port the kernel chooses, the child
 * connects and sends a greeting, the parent answers). Only the parent prints; the child checks
 * what it received and exits with 0 when all was as expected. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reads exactly n bytes (stream sockets may split a message). */
static int read_all(int fd, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += r;
  }
  buf[n] = 0;
  return 0;
}

static int finish(pid_t pid, const char *what) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("%s child: exited %d status %d\n", what, WIFEXITED(status), WEXITSTATUS(status));
  return 0;
}

int main(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return perror("socketpair"), 1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 1;
  if (pid == 0) {
    close(sv[0]);
    for (int i = 0; i < 3; i++) {
      char buf[16], expect[16];
      snprintf(expect, sizeof expect, "ping %d", i);
      if (read_all(sv[1], buf, 6) != 0 || strcmp(buf, expect) != 0) _exit(1);
      snprintf(buf, sizeof buf, "pong %d", i);
      if (write(sv[1], buf, 6) != 6) _exit(2);
    }
    _exit(0);
  }
  close(sv[1]);
  for (int i = 0; i < 3; i++) {
    char buf[16];
    snprintf(buf, sizeof buf, "ping %d", i);
    if (write(sv[0], buf, 6) != 6) return perror("write"), 1;
    if (read_all(sv[0], buf, 6) != 0) return perror("read"), 1;
    printf("socketpair: sent ping %d, got %s\n", i, buf);
  }
  close(sv[0]);
  if (finish(pid, "socketpair")) return 1;

  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 1) != 0 ||
      getsockname(ls, (struct sockaddr *)&addr, &len) != 0)
    return perror("listen"), 1;
  printf("tcp: listening on port %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  pid = fork();
  if (pid < 0) return perror("fork"), 1;
  if (pid == 0) {
    close(ls);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) _exit(1);
    char buf[32];
    struct sockaddr_in me;
    socklen_t melen = sizeof me;
    getsockname(s, (struct sockaddr *)&me, &melen);
    int n = snprintf(buf, sizeof buf, "hello from port %5d", ntohs(me.sin_port));
    if (write(s, buf, n) != n) _exit(2);
    if (read_all(s, buf, 13) != 0 || strcmp(buf, "hello, client") != 0) _exit(3);
    _exit(0);
  }
  struct sockaddr_in peer;
  socklen_t peerlen = sizeof peer;
  int c = accept(ls, (struct sockaddr *)&peer, &peerlen);
  if (c < 0) return perror("accept"), 1;
  char buf[32];
  if (read_all(c, buf, 21) != 0) return perror("read"), 1;
  printf("tcp: accepted a connection from port %d; it says \"%s\"\n", ntohs(peer.sin_port), buf);
  if (write(c, "hello, client", 13) != 13) return perror("write"), 1;
  close(c);
  close(ls);
  return finish(pid, "tcp");
}
