// SPDX-License-Identifier: MIT
/* Stop signals: a child stops itself with SIGSTOP, and with SIGTSTP (default action); the
 * parent sees it stopped (waitpid WUNTRACED), checks it stays stopped, continues it with
 * SIGCONT (waitpid WCONTINUED), and the child, continued, reports and exits. Then a child with
 * a SIGCONT handler is stopped and continued from outside. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t conts;

static void on_cont(int sig) { (void)sig; conts++; }

static void settle(void) {
  struct timespec ts = {0, 50000000};
  nanosleep(&ts, NULL);
}

static void stopped_child(int stopsig) {
  int go[2];
  if (pipe(go) != 0) exit(9);
  pid_t child = fork();
  if (child == 0) {
    // A group of its own, with its parent outside it: the kernel discards SIGTSTP sent to an
    // orphaned process group, which the caller's may be.
    setpgid(0, 0);
    kill(getpid(), stopsig);
    char c;
    // Ends only once the parent saw it continued.
    if (read(go[0], &c, 1) != 1) _exit(8);
    printf("child continued after signal %d\n", stopsig);
    fflush(stdout);
    _exit(5);
  }
  int status;
  if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status)) exit(1);
  printf("child stopped by %d\n", WSTOPSIG(status));
  settle();
  if (waitpid(child, &status, WNOHANG) != 0) exit(2); // still stopped, not ended
  kill(child, SIGCONT);
  if (waitpid(child, &status, WCONTINUED) != child || !WIFCONTINUED(status)) exit(3);
  printf("child continued\n");
  if (write(go[1], "x", 1) != 1) exit(10);
  close(go[0]);
  close(go[1]);
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) exit(4);
  printf("child exited %d\n", WEXITSTATUS(status));
  fflush(stdout);
}

int main(void) {
  stopped_child(SIGSTOP);
  stopped_child(SIGTSTP);
  int ready[2];
  if (pipe(ready) != 0) return 9;
  pid_t child = fork();
  if (child == 0) {
    // SIGCONT blocked but in sigsuspend: a handler run before the wait would be missed.
    sigset_t cont, old;
    sigemptyset(&cont);
    sigaddset(&cont, SIGCONT);
    sigprocmask(SIG_BLOCK, &cont, &old);
    signal(SIGCONT, on_cont);
    if (write(ready[1], "r", 1) != 1) _exit(7);
    while (conts == 0) sigsuspend(&old);
    printf("child handled SIGCONT %d time(s)\n", (int)conts);
    fflush(stdout);
    _exit(0);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return 7;
  kill(child, SIGSTOP);
  int status;
  if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status)) return 5;
  kill(child, SIGCONT);
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 6;
  printf("done\n");
  return 0;
}
