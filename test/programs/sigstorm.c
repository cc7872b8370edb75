// SPDX-License-Identifier: MIT
/* A target for a storm of signals sent from outside: counts SIGUSR1s in a handler, prints its
 * pid and "ready", then computes (with a getppid every 64 rounds, so that signals arrive both
 * in the middle of computing and at syscalls) until a SIGUSR2 arrives, and prints how many
 * SIGUSR1s it handled (fewer than were sent: a standard signal that is already pending is not
 * queued again). Gives up with status 2 after a minute without SIGUSR2. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2;

static void on_usr1(int sig) {
  (void)sig;
  usr1++;
}

static void on_usr2(int sig) {
  (void)sig;
  usr2 = 1;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_usr1;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return perror("sigaction"), 1;
  sa.sa_handler = on_usr2;
  if (sigaction(SIGUSR2, &sa, NULL) != 0) return perror("sigaction"), 1;
  time_t start = time(NULL);
  printf("pid %d\nready\n", (int)getpid());
  fflush(stdout);
  volatile unsigned long work = 0;
  for (unsigned long round = 0; !usr2; round++) {
    for (int i = 0; i < 10000; i++) work += i;
    if (round % 64 == 0) {
      getppid();
      if (time(NULL) - start > 60) return printf("no SIGUSR2 within a minute\n"), 2;
    }
  }
  printf("SIGUSR1 handled %d times\n", (int)usr1);
  return 0;
}
