// Waits for a SIGINT (a terminal's Ctrl-C reaches every process of the foreground group),
// which its handler notes; then says so and exits 0.
#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t interrupted;

static void on_int(int sig) {
  (void)sig;
  interrupted = 1;
}

int main(void) {
  signal(SIGINT, on_int);
  printf("ready\n");
  fflush(stdout);
  for (int i = 0; i < 3000 && !interrupted; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  printf(interrupted ? "got SIGINT\n" : "no SIGINT\n");
  return 0;
}
