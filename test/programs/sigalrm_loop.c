// SPDX-License-Identifier: MIT
/* An asynchronous signal in the middle of a loop without syscalls: three times, a 50 ms
 * one-shot ITIMER_REAL, then `while (!fired) count++;` until the SIGALRM handler sets fired;
 * prints how far the loop got, which differs from run to run. Replay must deliver the signal
 * at exactly the recorded iteration. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t fired;
static volatile int handled;

static void on_alarm(int sig) {
  (void)sig;
  fired = 1;
  handled++;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) != 0) return perror("sigaction"), 1;
  for (int round = 0; round < 3; round++) {
    volatile unsigned long count = 0;
    fired = 0;
    struct itimerval it = {{0, 0}, {0, 50 * 1000}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) return perror("setitimer"), 1;
    while (!fired) count++;
    printf("round %d: count %lu handled %d\n", round, count, handled);
  }
  return 0;
}
