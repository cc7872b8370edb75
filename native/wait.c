// SPDX-License-Identifier: MIT
// waitpid with a time limit, for the tracer's scheduler: it must notice a tracee that blocks
// in the kernel or runs too long without a stop, while waiting for any tracee to stop. A timer
// signals this thread only; its handler does nothing and is installed without SA_RESTART, so
// the signal makes waitpid fail with EINTR. The timer runs only during the wait, so no other
// call of the thread is ever interrupted. It repeats: an expiry that lands after the timer is
// armed but before waitpid blocks only runs the handler, and the next one ends the wait.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAKE_SIGNAL (SIGRTMAX - 3)

static __thread int timer_ready;
static __thread timer_t timer;

static void on_wake(int sig) { (void)sig; }

static int prepare(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_wake;
  sigemptyset(&sa.sa_mask);
  if (sigaction(WAKE_SIGNAL, &sa, NULL) != 0) return -1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, WAKE_SIGNAL);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = WAKE_SIGNAL;
  sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) return -1;
  timer_ready = 1;
  return 0;
}

static void arm(long ns) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = ns / 1000000000L;
  its.it_value.tv_nsec = ns % 1000000000L;
  // Not shorter than 1 ms: a storm of expiries would leave the thread no time to wait.
  long every = ns < 1000000L ? 1000000L : ns;
  its.it_interval.tv_sec = every / 1000000000L;
  its.it_interval.tv_nsec = every % 1000000000L;
  timer_settime(timer, 0, &its, NULL);
}

// Returns the pid that changed state, 0 when `timeout_ns` passed first (rarely up to 1 ms or
// twice that later, or with WNOHANG and nothing ready), -errno on failure. timeout_ns <= 0 waits without a limit.
int tsrr_wait(int pid, int options, long timeout_ns, int *status) {
  if (timeout_ns > 0 && !timer_ready && prepare() != 0) return -errno;
  if (timeout_ns > 0) arm(timeout_ns);
  int r = waitpid(pid, status, options);
  int err = errno;
  if (timeout_ns > 0) arm(0);
  if (r >= 0) return r;
  return err == EINTR ? 0 : -err;
}
