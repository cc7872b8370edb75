// SPDX-License-Identifier: MIT
/* Prints what a program can see of how it was started: signal dispositions and mask, the
 * parent-death signal, seccomp mode and no_new_privs (as prctl and /proc/self/status tell them), rlimits, umask, fds beyond 0-2 and the names
 * of the environment's variables in order. With "exec", blocks SIGUSR1 and SIGUSR2, ignores
 * SIGHUP and execs itself first (the mask and ignored signals survive exec). */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exec") == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGHUP, SIG_IGN);
    execl("/proc/self/exe", argv[0], (char *)NULL);
    return 127;
  }
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "SigBlk", 6) || !strncmp(line, "SigIgn", 6) || !strncmp(line, "Seccomp", 7) || !strncmp(line, "NoNewPrivs", 10)) fputs(line, stdout);
  }
  fclose(f);
  int sig = -1;
  prctl(PR_GET_PDEATHSIG, &sig);
  printf("pdeathsig %d seccomp %d no_new_privs %d\n", sig, prctl(PR_GET_SECCOMP), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  for (int r = 0; r < RLIM_NLIMITS; r++) {
    struct rlimit l;
    getrlimit(r, &l);
    printf("rlimit %d %llu %llu\n", r, (unsigned long long)l.rlim_cur, (unsigned long long)l.rlim_max);
  }
  mode_t mask = umask(0);
  printf("umask %03o\n", mask);
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while ((e = readdir(d))) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd < 3 || fd == dirfd(d)) continue;
    char target[256], path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    printf("fd %d %s\n", fd, target);
  }
  closedir(d);
  for (char **v = environ; *v; v++) printf("env %.*s\n", (int)strcspn(*v, "="), *v);
  return 0;
}
