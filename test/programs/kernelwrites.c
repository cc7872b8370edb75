// SPDX-License-Identifier: MIT
/* Calls whose output the kernel writes in less obvious ways, each into a buffer filled with a
 * pattern first, then prints the call's result and a hash of the whole buffer: a replay that
 * misses a byte the kernel wrote prints another hash. Covers writes made by failing calls
 * (capget's version probe, the time left of an interrupted sleep, waitid), ioctls of several
 * families (terminal, pty, file, perf), an ioctl tsrr does not know (refused with EINVAL),
 * fcntl hints, System V IPC control commands, sysfs, prctl getters and bpf maps. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <linux/perf_event.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static unsigned char buf[8192];

static void fill(void) { memset(buf, 0xa5, sizeof buf); }

static void show(const char *what, long result) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < sizeof buf; i++) h = (h ^ buf[i]) * 16777619u;
  printf("%-28s result %-6ld errno %-3d hash %08x\n", what, result, result < 0 ? errno : 0, h);
}

static void on_alarm(int sig) { (void)sig; }

int main(void) {
  struct __user_cap_header_struct *hdr = (void *)buf;
  fill();
  hdr->version = 0;
  show("capget probe", syscall(SYS_capget, hdr, NULL));
  fill();
  hdr->version = 0x12345678;
  show("capget bad version", syscall(SYS_capget, hdr, buf + 64));
  // FUTEX_WAKE_OP sets the second word (no waiter to wake).
  static uint32_t words[2] = {0, 0xa5a5a5a5};
  long woke = syscall(SYS_futex, &words[0], FUTEX_WAKE_OP, 1, NULL, &words[1], FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0));
  printf("futex WAKE_OP woke %ld, word %x\n", woke, words[1]);

  struct sigaction sa = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &sa, NULL);
  struct timespec long_sleep = {5, 0};
  fill();
  alarm(1);
  show("nanosleep interrupted", nanosleep(&long_sleep, (struct timespec *)buf));
  fill();
  alarm(1);
  show("clock_nanosleep interrupted", clock_nanosleep(CLOCK_MONOTONIC, 0, &long_sleep, (struct timespec *)buf));

  int master, slave;
  if (openpty(&master, &slave, NULL, NULL, NULL) == 0) {
    fill();
    show("TCGETS", ioctl(slave, TCGETS, buf));
    fill();
    show("TIOCGPTN", ioctl(master, TIOCGPTN, buf));
    fill();
    show("TIOCGWINSZ", ioctl(slave, TIOCGWINSZ, buf));
    fill();
    show("TIOCGPGRP", ioctl(slave, TIOCGPGRP, buf));
    close(master);
    close(slave);
  }
  int p[2];
  if (pipe(p) != 0) return 1;
  if (write(p[1], "abc", 3) != 3) return 1;
  fill();
  show("FIONREAD", ioctl(p[0], FIONREAD, buf));
  fill();
  show("unknown terminal ioctl", ioctl(p[0], 0x54ff, buf));
  int file = open("/proc/self/exe", O_RDONLY);
  fill();
  show("FIGETBSZ", ioctl(file, FIGETBSZ, buf));
  fill();
  show("F_GET_RW_HINT", fcntl(file, F_GET_RW_HINT, buf));

  struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE, .size = sizeof attr, .config = PERF_COUNT_SW_TASK_CLOCK, .disabled = 1, .exclude_kernel = 1};
  int perf = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  fill();
  show("PERF_EVENT_IOC_ID", perf < 0 ? -1 : ioctl(perf, PERF_EVENT_IOC_ID, buf));

  int msq = msgget(IPC_PRIVATE, 0600);
  struct { long type; char text[16]; } msg = {7, "hello"};
  msgsnd(msq, &msg, 6, 0);
  fill();
  show("msgctl IPC_STAT", msgctl(msq, IPC_STAT, (struct msqid_ds *)buf) == 0 ? ((struct msqid_ds *)buf)->msg_qnum : -1);
  fill();
  show("msgrcv", msgrcv(msq, buf, 16, 0, 0));
  msgctl(msq, IPC_RMID, NULL);
  int shm = shmget(IPC_PRIVATE, 4096, 0600);
  fill();
  show("shmctl IPC_STAT", shmctl(shm, IPC_STAT, (struct shmid_ds *)buf) == 0 ? (long)((struct shmid_ds *)buf)->shm_segsz : -1);
  shmctl(shm, IPC_RMID, NULL);
  int sem = semget(IPC_PRIVATE, 3, 0600);
  fill();
  show("semctl GETALL", semctl(sem, 0, GETALL, buf));
  fill();
  show("semctl IPC_STAT", semctl(sem, 0, IPC_STAT, buf));
  semctl(sem, 0, IPC_RMID);
  fill();
  show("sysfs name", syscall(SYS_sysfs, 2, 0, buf));

  fill();
  show("PR_GET_NAME", prctl(PR_GET_NAME, buf));
  fill();
  show("PR_GET_TSC", prctl(PR_GET_TSC, buf));
  fill();
  show("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, buf));

  pid_t child = fork();
  if (child == 0) _exit(3);
  fill();
  show("waitid bad pidfd", syscall(SYS_waitid, 3 /* P_PIDFD */, 999, buf, WEXITED, NULL));
  fill();
  show("waitid child", syscall(SYS_waitid, P_PID, child, buf, WEXITED, NULL));

  union bpf_attr create = {.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 24, .max_entries = 2};
  int map = syscall(SYS_bpf, BPF_MAP_CREATE, &create, sizeof create);
  if (map >= 0) {
    uint32_t key = 1;
    uint64_t value[3] = {11, 22, 33};
    union bpf_attr update = {.map_fd = map, .key = (uintptr_t)&key, .value = (uintptr_t)value};
    syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &update, sizeof update);
    fill();
    union bpf_attr lookup = {.map_fd = map, .key = (uintptr_t)&key, .value = (uintptr_t)buf};
    show("bpf lookup", syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &lookup, sizeof lookup));
    fill();
    union bpf_attr next = {.map_fd = map, .key = 0, .next_key = (uintptr_t)buf};
    show("bpf next key", syscall(SYS_bpf, BPF_MAP_GET_NEXT_KEY, &next, sizeof next));
  } else {
    printf("no bpf maps here (errno %d)\n", errno);
  }
  return 0;
}
