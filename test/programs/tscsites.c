// SPDX-License-Identifier: MIT
/* rdtsc and rdtscp wherever code runs: the program's own; its code mapped again from its file
 * (mmap with PROT_EXEC, mmap then mprotect to PROT_EXEC, and that copy moved by mremap); a
 * forked child; a thread; with SIGILL blocked, then ignored; and with PR_SET_TSC asking for
 * SIGSEGV at rdtsc. Prints each value read, and whether the values only grew. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <x86intrin.h>

typedef unsigned long long (*reader)(void);

__attribute__((noinline)) static unsigned long long tick(void) { return __rdtsc(); }

__attribute__((noinline)) static unsigned long long tickp(void) {
  unsigned aux;
  return __rdtscp(&aux);
}

static unsigned long long last;
static int grew = 1;

static void show(const char *where, unsigned long long v) {
  if (v < last) grew = 0;
  last = v;
  printf("%s %llu\n", where, v);
}

/* `fn`, a function of this program, at its place in a fresh mapping of the program's file. */
static reader remapped(reader fn, int via_mprotect, void **map, size_t *len) {
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  unsigned long start = 0, end = 0, offset = 0;
  while (fgets(line, sizeof line, maps)) {
    unsigned long s, e, o;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s %lx", &s, &e, perms, &o) == 4 && (unsigned long)fn >= s && (unsigned long)fn < e) {
      start = s, end = e, offset = o;
      break;
    }
  }
  fclose(maps);
  int fd = open("/proc/self/exe", O_RDONLY);
  *len = end - start;
  *map = mmap(NULL, *len, via_mprotect ? PROT_READ : PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, (off_t)offset);
  close(fd);
  if (*map == MAP_FAILED) exit(2);
  if (via_mprotect && mprotect(*map, *len, PROT_READ | PROT_EXEC) != 0) exit(3);
  return (reader)((char *)*map + ((unsigned long)fn - start));
}

static void *in_thread(void *arg) {
  (void)arg;
  unsigned long long *v = malloc(sizeof *v);
  *v = tickp();
  return v;
}

static sigjmp_buf back;
static void on_segv(int sig) {
  (void)sig;
  siglongjmp(back, 1);
}

int main(void) {
  show("main rdtsc", tick());
  show("main rdtscp", tickp());

  void *map;
  size_t len;
  reader copy = remapped(tick, 0, &map, &len);
  show("mmap copy", copy());
  reader copy2 = remapped(tickp, 1, &map, &len);
  show("mprotect copy", copy2());
  void *room = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void *moved = mremap(map, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, room);
  if (moved == MAP_FAILED) return 4;
  show("mremap copy", ((reader)((char *)moved + ((char *)copy2 - (char *)map)))());

  int to_parent[2];
  if (pipe(to_parent) != 0) return 5;
  pid_t child = fork();
  if (child == 0) {
    unsigned long long v = tick();
    write(to_parent[1], &v, sizeof v);
    _exit(0);
  }
  unsigned long long from_child;
  read(to_parent[0], &from_child, sizeof from_child);
  waitpid(child, NULL, 0);
  show("child", from_child);

  pthread_t t;
  void *res;
  pthread_create(&t, NULL, in_thread, NULL);
  pthread_join(t, &res);
  show("thread", *(unsigned long long *)res);

  sigset_t ill, now;
  sigemptyset(&ill);
  sigaddset(&ill, SIGILL);
  sigprocmask(SIG_BLOCK, &ill, NULL);
  show("SIGILL blocked", tick());
  sigprocmask(SIG_SETMASK, NULL, &now);
  printf("SIGILL still blocked %d\n", sigismember(&now, SIGILL));
  sigprocmask(SIG_UNBLOCK, &ill, NULL);
  signal(SIGILL, SIG_IGN);
  show("SIGILL ignored", tick());
  struct sigaction act;
  sigaction(SIGILL, NULL, &act);
  printf("SIGILL still ignored %d\n", act.sa_handler == SIG_IGN);

  signal(SIGSEGV, on_segv);
  prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
  if (sigsetjmp(back, 1) == 0) {
    show("after PR_SET_TSC", tick());
  } else {
    printf("SIGSEGV at rdtsc\n");
  }
  prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
  show("enabled again", tick());
  printf("grew %d\n", grew);
  return 0;
}
