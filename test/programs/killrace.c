// SPDX-License-Identifier: MIT
/* Children killed while their stops are on their way to the tracer: ten readers blocked on a
 * pipe are released and at once killed with SIGKILL, twenty times over; each round's statuses
 * are counted. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define READERS 10

int main(void) {
  int killed = 0;
  for (int round = 0; round < 20; round++) {
    int to_child[2], ready[2];
    if (pipe(to_child) != 0 || pipe(ready) != 0) return 1;
    pid_t pids[READERS];
    for (int i = 0; i < READERS; i++) {
      pids[i] = fork();
      if (pids[i] == 0) {
        char c;
        write(ready[1], "r", 1);
        read(to_child[0], &c, 1);
        pause();
        _exit(0);
      }
    }
    char buf[READERS];
    for (int got = 0; got < READERS;) got += (int)read(ready[0], buf + got, READERS - got);
    write(to_child[1], "xxxxxxxxxx", READERS);
    for (int i = 0; i < READERS; i++) kill(pids[i], SIGKILL);
    for (int i = 0; i < READERS; i++) {
      int status;
      if (waitpid(pids[i], &status, 0) == pids[i] && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) killed++;
    }
    close(to_child[0]);
    close(to_child[1]);
    close(ready[0]);
    close(ready[1]);
  }
  printf("killed %d of %d\n", killed, 20 * READERS);
  return 0;
}
