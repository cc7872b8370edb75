// SPDX-License-Identifier: MIT
// Probes for `tsrr doctor`: each tries, in a forked child where it could change this process,
// what recording needs (or could use) and says whether the kernel let it. A probe answers 0
// when the thing works, else the errno of the step that failed (or a negative code below).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// The probe ran but the thing did not happen: no seccomp stop, no cpuid fault, no present bit.
#define PROBE_NO_EFFECT (-1)
// The probe needs ptrace, which failed.
#define PROBE_NO_PTRACE (-2)

#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012
// Debian 12's headers lack these (kernel 6.7+).
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#define UFFDIO_API_REQUEST 0xc018aa3f // _IOWR(0xaa, 0x3f, struct uffdio_api)
#define PAGEMAP_SCAN_REQUEST 0xc0606610 // _IOWR('f', 16, struct pm_scan_arg)
#define PM_SCAN_SIZE 96
#define PAGE_IS_WRITTEN (1 << 1)

static void reap(pid_t child) {
  int status;
  kill(child, SIGKILL);
  while (waitpid(child, &status, __WALL) == child && !WIFEXITED(status) && !WIFSIGNALED(status)) {
  }
}

// The child's side of a traced probe: die with the prober, stop, and once resumed run `body`.
static void traced_child(void (*body)(void)) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  raise(SIGSTOP);
  body();
  _exit(0);
}

// As tsrr starts a tracee (core/launch.ts): the stopped child is seized, sent SIGCONT and
// resumed past the stops of that dance. Returns 0 with the child seized and running, else the
// errno of PTRACE_SEIZE (the child is then reaped).
static int seize(pid_t child, long options) {
  int status;
  if (waitpid(child, &status, WUNTRACED | __WALL) != child || !WIFSTOPPED(status)) return ECHILD;
  if (ptrace(PTRACE_SEIZE, child, 0, (void *)(options | PTRACE_O_EXITKILL)) != 0) {
    int err = errno;
    reap(child);
    return err;
  }
  kill(child, SIGCONT);
  return 0;
}

// Resumes the seized child until it stops for a ptrace event (other than a group-stop) or ends; returns the event
// number, or -1 when it ended (with its exit code in *code, 128 + signal if killed).
static int next_event(pid_t child, int *code) {
  int status, sig = 0;
  for (;;) {
    if (ptrace(PTRACE_CONT, child, 0, (void *)(long)sig) != 0) return -1;
    if (waitpid(child, &status, __WALL) != child) return -1;
    if (WIFEXITED(status)) return *code = WEXITSTATUS(status), -1;
    if (WIFSIGNALED(status)) return *code = 128 + WTERMSIG(status), -1;
    int event = status >> 16;
    if (event != 0 && event != PTRACE_EVENT_STOP) return event;
    // Group-stops (PTRACE_EVENT_STOP) and the SIGSTOP/SIGCONT of the dance: nothing to deliver.
    sig = event != 0 || WSTOPSIG(status) == SIGSTOP || WSTOPSIG(status) == SIGCONT ? 0 : WSTOPSIG(status);
  }
}

static void nothing(void) {}

int tsrr_probe_ptrace(void) {
  pid_t child = fork();
  if (child < 0) return errno;
  if (child == 0) traced_child(nothing);
  int err = seize(child, 0), code = -1;
  if (err != 0) return err;
  next_event(child, &code);
  reap(child);
  return code == 0 ? 0 : PROBE_NO_EFFECT;
}

// A filter that sends getppid to the tracer (SECCOMP_RET_TRACE), as tsrr's filters do with
// the calls they do not let through; the exit code says why it could not be installed.
static void filtered_getppid(void) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof code / sizeof code[0], code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(errno);
  syscall(SYS_getppid);
}

int tsrr_probe_seccomp(void) {
  pid_t child = fork();
  if (child < 0) return errno;
  if (child == 0) traced_child(filtered_getppid);
  if (seize(child, PTRACE_O_TRACESECCOMP) != 0) return PROBE_NO_PTRACE;
  int code = 0, event = next_event(child, &code);
  reap(child);
  if (event == PTRACE_EVENT_SECCOMP) return 0;
  return event < 0 && code > 0 && code < 128 ? code : PROBE_NO_EFFECT;
}

// Whether cpuid faults once turned off with arch_prctl(ARCH_SET_CPUID, 0), as tsrr does to
// emulate it: the child dies of SIGSEGV if it does.
int tsrr_probe_cpuid_faulting(void) {
  pid_t child = fork();
  if (child < 0) return errno;
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0) < 0 || syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) _exit(errno);
    uint32_t a = 0, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    _exit(0);
  }
  int status;
  if (waitpid(child, &status, 0) != child) return ECHILD;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : PROBE_NO_EFFECT;
}

// A software perf event (PERF_TYPE_SOFTWARE) or the hardware counter rr needs
// (PERF_TYPE_HARDWARE instructions), counting this thread in user space.
int tsrr_probe_perf(int type, int config) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = type;
  attr.config = config;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

// Dirty-page tracking: a userfaultfd (user-mode faults only, which needs no privilege) with
// asynchronous write-protection.
int tsrr_probe_userfaultfd(void) {
  long fd = syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
  if (fd < 0) return errno;
  uint64_t api[3] = {0xaa /* UFFD_API */, UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, 0};
  int r = ioctl(fd, UFFDIO_API_REQUEST, api) == 0 ? 0 : errno;
  close(fd);
  return r;
}

// The PAGEMAP_SCAN ioctl of /proc/PID/pagemap, asked about one page of this stack.
int tsrr_probe_pagemap_scan(void) {
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  uint64_t arg[PM_SCAN_SIZE / 8];
  memset(arg, 0, sizeof arg);
  uintptr_t page = (uintptr_t)&fd & ~(uintptr_t)4095;
  arg[0] = PM_SCAN_SIZE; // size
  arg[2] = page;         // start
  arg[3] = page + 4096;  // end
  arg[11] = PAGE_IS_WRITTEN; // return_mask
  int r = ioctl(fd, PAGEMAP_SCAN_REQUEST, arg) >= 0 ? 0 : errno;
  close(fd);
  return r;
}

// Whether /proc/PID/pagemap tells present pages (bit 63), as tsrr's snapshots read it.
int tsrr_probe_pagemap(void) {
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  volatile char touched = 1;
  uint64_t entry = 0;
  ssize_t n = pread(fd, &entry, sizeof entry, (off_t)((uintptr_t)&touched / 4096 * 8));
  int err = errno;
  close(fd);
  if (n != sizeof entry) return n < 0 ? err : EIO;
  return entry >> 63 ? 0 : PROBE_NO_EFFECT;
}
