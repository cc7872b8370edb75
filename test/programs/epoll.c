// SPDX-License-Identifier: MIT
/* epoll over three fds: an eventfd that a child process writes 1, 2 and 3 to, 30 ms apart; an
 * eventfd that a thread writes 10, 20 and 30 to, 35 ms apart; a periodic timerfd (every 25 ms).
 * The parent waits with epoll_wait and prints each event, until both eventfds have summed up
 * to what was written and the timer has expired at least four times; the order of the events
 * and how the writes merge differ from run to run. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int thread_fd;

static void pause_ms(long ms) {
  struct timespec ts = {0, ms * 1000 * 1000};
  nanosleep(&ts, NULL);
}

static void *writer(void *arg) {
  (void)arg;
  for (uint64_t v = 10; v <= 30; v += 10) {
    pause_ms(35);
    if (write(thread_fd, &v, 8) != 8) perror("write eventfd");
  }
  return NULL;
}

int main(void) {
  int child_fd = eventfd(0, 0);
  thread_fd = eventfd(0, EFD_NONBLOCK);
  int timer = timerfd_create(CLOCK_MONOTONIC, 0);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (child_fd < 0 || thread_fd < 0 || timer < 0 || ep < 0) return perror("setup"), 1;

  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 1;
  if (pid == 0) {
    for (uint64_t v = 1; v <= 3; v++) {
      pause_ms(30);
      if (write(child_fd, &v, 8) != 8) _exit(1);
    }
    _exit(0);
  }
  pthread_t t;
  if (pthread_create(&t, NULL, writer, NULL) != 0) return perror("pthread_create"), 1;
  struct itimerspec its = {{0, 25 * 1000 * 1000}, {0, 25 * 1000 * 1000}};
  if (timerfd_settime(timer, 0, &its, NULL) != 0) return perror("timerfd_settime"), 1;

  int fds[] = {child_fd, thread_fd, timer};
  for (int i = 0; i < 3; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) return perror("epoll_ctl"), 1;
  }
  const char *names[] = {"child eventfd", "thread eventfd", "timerfd"};
  uint64_t sums[3] = {0, 0, 0};
  int waits = 0;
  while (sums[0] < 6 || sums[1] < 60 || sums[2] < 4) {
    struct epoll_event evs[4];
    int n = epoll_wait(ep, evs, 4, 5000);
    if (n <= 0) return printf("epoll_wait returned %d\n", n), 1;
    waits++;
    for (int i = 0; i < n; i++) {
      int which = evs[i].data.u32;
      uint64_t v;
      if (read(fds[which], &v, 8) != 8) return perror("read"), 1;
      sums[which] += v;
      printf("wait %d: %s read %llu\n", waits, names[which], (unsigned long long)v);
    }
  }
  pthread_join(t, NULL);
  int status;
  if (waitpid(pid, &status, 0) != pid) return perror("waitpid"), 1;
  printf("child eventfd total %llu, thread eventfd total %llu, timer expired at least 4 times %d\n",
         (unsigned long long)sums[0], (unsigned long long)sums[1], sums[2] >= 4);
  printf("child exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
  return 0;
}
