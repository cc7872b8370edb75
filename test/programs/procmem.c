// SPDX-License-Identifier: MIT
/* Writes into a process's memory from outside its own code: the parent writes into a child
 * through /proc/PID/mem (pwrite, and write after lseek through an fd passed over a socket
 * with SCM_RIGHTS) and with process_vm_writev, and into itself through /proc/self/mem; reads
 * back with process_vm_readv; the child prints what it finds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile char target[64] = "untouched";
static volatile long self_value = 1;

static int pass_fd(int fd) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return -1;
  char byte = 'x', space[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = space, .msg_controllen = sizeof space};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sv[1], &msg, 0) != 1) return -1;
  memset(space, 0, sizeof space);
  if (recvmsg(sv[0], &msg, 0) != 1) return -1;
  int got;
  memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof got);
  close(sv[0]);
  close(sv[1]);
  return got;
}

int main(void) {
  int go[2];
  if (pipe(go) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) return 2;
    printf("child sees: %s\n", (char *)target);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", child);
  int mem = open(path, O_RDWR);
  if (mem < 0 || pwrite(mem, "by pwrite", 10, (off_t)(long)target) != 10) return 3;
  int passed = pass_fd(mem);
  if (passed < 0 || lseek(passed, (off_t)(long)target + 3, SEEK_SET) < 0 || write(passed, "WRITE", 5) != 5) return 4;
  char tail[] = " + vm_writev";
  struct iovec local = {tail, sizeof tail}, remote = {(void *)(target + 9), sizeof tail};
  if (process_vm_writev(child, &local, 1, &remote, 1, 0) != (ssize_t)sizeof tail) return 5;
  char back[64] = {0};
  struct iovec into = {back, sizeof back - 1}, from = {(void *)target, sizeof back - 1};
  if (process_vm_readv(child, &into, 1, &from, 1, 0) < 0) return 6;
  printf("parent reads back: %s\n", back);
  fflush(stdout);
  int self = open("/proc/self/mem", O_RDWR);
  long v = 42;
  if (self < 0 || pwrite(self, &v, sizeof v, (off_t)(long)&self_value) != sizeof v) return 7;
  printf("self through /proc/self/mem: %ld\n", self_value);
  fflush(stdout);
  if (write(go[1], "g", 1) != 1) return 8;
  waitpid(child, NULL, 0);
  return 0;
}
