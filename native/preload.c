// SPDX-License-Identifier: MIT
// libtsrr-preload.so: in-process syscall buffering. Preloaded into recorded programs, it makes
// calls whose whole effect is their result and a small output (clock reads, getpid-style ids)
// without a ptrace stop: they run through a `syscall` instruction at a fixed address, which
// tsrr's seccomp filter lets through untraced, and their results go into a per-thread buffer
// that tsrr moves into the trace at the thread's next stop. On replay the same code takes the
// results from the buffer, which tsrr has filled before the thread runs, and makes no call.
// Without tsrr (the registration call fails) every call is a plain syscall.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

// Shared with tsrr (core/syscallBuffer.ts).
#define PAGE_ADDR 0x70000000UL  // the untraced syscall instruction's page
#define FD_BITS_OFFSET 0x400    // in that page: a bit per fd whose calls may be buffered
#define FD_BITS (0x400 * 8)     //   (tsrr keeps them while recording)
#define MODE_OFFSET 0x800       // in that page: 1 while replaying, 2: no buffering (tsrr writes it)
#define MODE_REPLAY 1
#define MODE_OFF 2 // every call must be a syscall (a filter of the program's, its tracer)
#define PRCTL_REGISTER 0x74737201 // prctl(PRCTL_REGISTER, buffer, size): 0 under tsrr
#define PRCTL_UNLOCKED 0x74737202 // prctl(PRCTL_UNLOCKED): a signal waited for the buffer
#define PRCTL_WROTE 0x74737203    // replay: prctl(PRCTL_WROTE, fd, data, len), for a monitor
#define BUFFER_SIZE (1024 * 1024)
#define FLAG_NOTIFIED 1 // the call after this record was PRCTL_UNLOCKED
#define FLAG_WATCHED 2  // replay: tsrr watches this write (the library clears the flag)

struct header {
  uint32_t bytes;          // record: bytes of records written; replay: bytes there are
  uint32_t pos;            // replay: bytes of records used
  uint32_t locked;         // a buffered call is under way (a signal waits, preemption too)
  uint32_t signal_pending; // record: tsrr holds a signal until the buffer is unlocked
  uint32_t reserved[4];
};

struct record {
  uint32_t nr;
  uint32_t len; // bytes of output after the record
  int64_t result;
  uint32_t flags;
  uint32_t fd; // the fd the call was on, or NO_FD
};
#define NO_FD 0xffffffffu

// mov rax,rdi; mov rdi,rsi; mov rsi,rdx; mov rdx,rcx; mov r10,r8; mov r8,r9; syscall; ret
static const unsigned char TRAMPOLINE[] = {0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6, 0x48, 0x89, 0xca,
                                           0x4d, 0x89, 0xc2, 0x4d, 0x89, 0xc8, 0x0f, 0x05, 0xc3};

typedef long (*untraced_fn)(long nr, long a, long b, long c, long d, long e);

static int page_ready; // 1: the page is there, -1: it could not be made
__attribute__((used)) static char has_avx;
static __thread struct header *buffer;
static __thread int unavailable; // 1: no buffer for this thread; 2: one is being made


static unsigned char mode(void) { return *(volatile unsigned char *)(PAGE_ADDR + MODE_OFFSET); }

static void make_page(void) {
  void *p = (void *)syscall(SYS_mmap, PAGE_ADDR, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)PAGE_ADDR) {
    page_ready = -1;
    return;
  }
  // Byte by byte: a vector copy would leave the bytes in vector registers, which signal frames
  // then save or not depending on the CPU's tracking of their use (a restored checkpoint's
  // differs from the original's).
  for (unsigned i = 0; i < sizeof TRAMPOLINE; i++) ((volatile unsigned char *)p)[i] = TRAMPOLINE[i];
  page_ready = syscall(SYS_mprotect, PAGE_ADDR, 4096, PROT_READ | PROT_EXEC) == 0 ? 1 : -1;
}

__attribute__((constructor)) static void init(void) {
  has_avx = __builtin_cpu_supports("avx") != 0;
  make_page();
}

/** This thread's buffer, made and registered with tsrr on first use; NULL without tsrr. */
static struct header *thread_buffer(void) {
  if (buffer || unavailable || page_ready != 1) return buffer;
  unavailable = 2; // a signal handler that calls in meanwhile makes plain calls
  int saved_errno = errno; // the program's, whatever happens here
  void *p = (void *)syscall(SYS_mmap, 0, BUFFER_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    unavailable = 1;
    errno = saved_errno;
    return NULL;
  }
  if (syscall(SYS_prctl, PRCTL_REGISTER, (long)p, BUFFER_SIZE, 0, 0) != 0) {
    syscall(SYS_munmap, (long)p, BUFFER_SIZE);
    unavailable = 1;
    errno = saved_errno;
    return NULL;
  }
  buffer = p;
  unavailable = 0;
  return buffer;
}

/** What a buffered call's C part tells its assembly entry point (THUNK below). */
struct outcome {
  long result;
  long flags;
};
#define TRACED 1 // make the call as a plain syscall instead
#define NOTIFY 2 // then make PRCTL_UNLOCKED
#define WROTE 4  // then make PRCTL_WROTE

/** A call to buffer: its number and arguments, the fd it is on (NO_FD: none), and where its
 * output goes: `out`, `outlen` bytes, or (`sized`) as many as the result says, at most that. */
struct call {
  long nr, a, b, c, d, e;
  uint32_t fd;
  void *out;
  uint32_t outlen;
  int sized;
};

/** Whether tsrr lets this fd's calls be buffered: regular files and the quiet devices that no
 * file monitor watches (others may block, or replay must see them). */
static int fd_buffered(uint32_t fd) {
  return fd < FD_BITS && (((volatile unsigned char *)(PAGE_ADDR + FD_BITS_OFFSET))[fd / 8] >> (fd % 8) & 1);
}

/** Makes `c` through the buffer: its result, with its output at `c->out` on success.
 * TRACED when there is no buffer, it is in use (a signal handler called in), it is full or
 * the fd is not one to buffer (recording), or it has no more results or not this call's
 * (replaying: a call the trace has as a plain syscall, or a divergence tsrr then reports). */
static struct outcome buffered(const struct call *c) {
  struct outcome o = {0, TRACED};
  // Registered first in any mode, so that replay, which never has MODE_OFF, makes the same
  // calls.
  struct header *h = thread_buffer();
  if (!h || h->locked || mode() == MODE_OFF) return o;
  h->locked = 1;
  int replay = mode() == MODE_REPLAY;
  struct record *r = (struct record *)((char *)(h + 1) + (replay ? h->pos : h->bytes));
  if (replay) {
    if (h->pos + sizeof *r > h->bytes || r->nr != c->nr || r->fd != c->fd || r->len > c->outlen) goto traced;
    if (r->len) memcpy(c->out, r + 1, r->len);
    o.result = r->result;
    o.flags = (r->flags & FLAG_NOTIFIED ? NOTIFY : 0) | (r->flags & FLAG_WATCHED ? WROTE : 0);
    r->flags &= ~FLAG_WATCHED; // as the recording left it
    h->pos += sizeof *r + ((r->len + 7) & ~7u);
  } else {
    if ((c->fd != NO_FD && !fd_buffered(c->fd)) || sizeof *h + h->bytes + sizeof *r + ((c->outlen + 7) & ~7u) > BUFFER_SIZE) goto traced;
    o.result = ((untraced_fn)PAGE_ADDR)(c->nr, c->a, c->b, c->c, c->d, c->e);
    r->nr = c->nr;
    r->fd = c->fd;
    r->len = o.result < 0 ? 0 : c->sized && (unsigned long)o.result < c->outlen ? (uint32_t)o.result : c->outlen;
    r->result = o.result;
    if (r->len) memcpy(r + 1, c->out, r->len);
    o.flags = h->signal_pending ? NOTIFY : 0;
    r->flags = o.flags ? FLAG_NOTIFIED : 0;
    h->bytes += sizeof *r + ((r->len + 7) & ~7u);
  }
  h->locked = 0;
  if (o.result < 0 && o.result > -4096) {
    errno = -o.result;
    o.result = -1;
  }
  return o;
traced:
  h->locked = 0;
  return o;
}

/** errno for a failed plain syscall made by a THUNK; its caller gets -1. */
long tsrr_failed(long r) {
  errno = -r;
  return -1;
}

// The vector registers too: the C part copies output with them in one mode and not the other,
// and the dynamic linker's lazy binding saves them on the stack (xsavec) later.
#define VECTORS_CLEARED                                                                   \
  "  cmpb $0, has_avx(%rip)\n  je 4f\n  vzeroall\n  jmp 5f\n4:\n"                    \
  "  pxor %xmm0, %xmm0\n  pxor %xmm1, %xmm1\n  pxor %xmm2, %xmm2\n  pxor %xmm3, %xmm3\n" \
  "  pxor %xmm4, %xmm4\n  pxor %xmm5, %xmm5\n  pxor %xmm6, %xmm6\n  pxor %xmm7, %xmm7\n" \
  "  pxor %xmm8, %xmm8\n  pxor %xmm9, %xmm9\n  pxor %xmm10, %xmm10\n  pxor %xmm11, %xmm11\n" \
  "  pxor %xmm12, %xmm12\n  pxor %xmm13, %xmm13\n  pxor %xmm14, %xmm14\n  pxor %xmm15, %xmm15\n" \
  "5:\n"

// Each buffered function is an assembly entry point around its C part (NAME_impl), so that
// recording and replay, which take different paths through the C part, leave the same
// registers behind (the program's next syscall is checked against the trace with all of
// them; vector registers are zeroed) and the same dead stack below the caller's (the C part's
// locals are wiped: 512 bytes, more than it ever uses).
// Plain syscalls (TRACED), PRCTL_WROTE and PRCTL_UNLOCKED (in that order, when both are due)
// are made here with the program's callee-saved registers and arguments; every other
// call-clobbered register is zeroed before returning. PRCTL_WROTE happens in replay only, so
// it leaves nothing on the stack, and PRCTL_UNLOCKED is made with the same registers after it.
// A plain syscall's failure becomes -1 and errno (ERRNO_CHECK), except for the calls glibc
// returns as they are (the getpid family: they cannot fail, short of a seccomp filter).
#define ERRNO_CHECK "  cmp $-4095, %rax\n  jae 3f\n  ret\n3:\n  mov %rax, %rdi\n  jmp tsrr_failed\n"
#define RAW_RESULT "  ret\n"
#define THUNK(name, nr) THUNK_WITH(name, nr, ERRNO_CHECK)
#define THUNK_WITH(name, nr, tail)                                                        \
  __asm__(".text\n.globl " #name "\n.type " #name ", @function\n" #name ":\n"             \
          "  push %rdi\n  push %rsi\n  push %rdx\n  push %rcx\n  push %r8\n  push %r9\n"   \
          "  sub $8, %rsp\n  call " #name "_impl\n"                                        \
          "  mov %rax, %r10\n  mov %rdx, %r11\n  lea -512(%rsp), %rdi\n  xor %eax, %eax\n" \
          "  mov $64, %ecx\n  rep stosq\n  mov %r10, %rax\n"                              \
          VECTORS_CLEARED                                                                 \
          "  add $8, %rsp\n  pop %r9\n  pop %r8\n  pop %rcx\n  pop %rdx\n  pop %rsi\n  pop %rdi\n" \
          "  test $1, %r11b\n  jnz 1f\n  mov %r11, %r9\n"                               \
          "  test $4, %r9b\n  jz 6f\n"                                                    \
          "  mov %rax, %r8\n  mov %rax, %r10\n  mov %rsi, %rdx\n  mov %rdi, %rsi\n"       \
          "  mov $0x74737203, %edi\n  mov $157, %eax\n  syscall\n  mov %r8, %rax\n"       \
          "6:\n  test $2, %r9b\n  jz 2f\n"                                               \
          "  push %rax\n  push %rax\n"                                                    \
          "  mov $157, %eax\n  mov $0x74737202, %edi\n  xor %esi, %esi\n  xor %edx, %edx\n" \
          "  xor %r10d, %r10d\n  xor %r8d, %r8d\n  xor %r9d, %r9d\n  syscall\n"           \
          "  pop %rax\n  pop %rax\n"                                                      \
          "2:\n  xor %ecx, %ecx\n  xor %edx, %edx\n  xor %esi, %esi\n  xor %edi, %edi\n"  \
          "  xor %r8d, %r8d\n  xor %r9d, %r9d\n  xor %r10d, %r10d\n  xor %r11d, %r11d\n"  \
          "  ret\n"                                                                       \
          "1:\n  mov $" #nr ", %eax\n  mov %rcx, %r10\n  syscall\n"                       \
          tail                                                                            \
          ".size " #name ", .-" #name "\n")

/** Another name for a buffered function (the LFS names of 64-bit calls). */
#define ALIAS(name, other) __asm__(".globl " #other "\n.set " #other ", " #name "\n")

#define IMPL(name) __attribute__((used, visibility("hidden"))) struct outcome name##_impl
#define CALL(...) buffered(&(struct call){__VA_ARGS__})

IMPL(clock_gettime)(clockid_t clock, struct timespec *ts) { return CALL(SYS_clock_gettime, clock, (long)ts, .fd = NO_FD, .out = ts, .outlen = sizeof *ts); }
THUNK(clock_gettime, 228);

// glibc declares tv non-null; programs pass NULL all the same.
#pragma GCC diagnostic ignored "-Wnonnull-compare"
IMPL(gettimeofday)(struct timeval *tv, void *tz) {
  if (tz || (uintptr_t)tv == 0) return (struct outcome){0, TRACED};
  return CALL(SYS_gettimeofday, (long)tv, .fd = NO_FD, .out = tv, .outlen = sizeof *tv);
}
THUNK(gettimeofday, 96);

IMPL(time)(time_t *t) {
  time_t now;
  struct outcome o = CALL(SYS_time, (long)&now, .fd = NO_FD, .out = &now, .outlen = sizeof now);
  if (!(o.flags & TRACED)) {
    o.result = now;
    if (t) *t = now;
  }
  return o;
}
THUNK(time, 201);

#define ID(name, nr)                                                                   \
  IMPL(name)(void) { return CALL(SYS_##name, .fd = NO_FD); }                          \
  THUNK_WITH(name, nr, RAW_RESULT);
ID(getpid, 39)
ID(getppid, 110)
ID(gettid, 186)
ID(getuid, 102)
ID(geteuid, 107)
ID(getgid, 104)
ID(getegid, 108)

// Reads and writes on the fds tsrr marks; a read's data goes into its record.
IMPL(read)(int fd, void *buf, size_t n) {
  if (n > BUFFER_SIZE / 2) return (struct outcome){0, TRACED};
  return CALL(SYS_read, fd, (long)buf, (long)n, .fd = (uint32_t)fd, .out = buf, .outlen = (uint32_t)n, .sized = 1);
}
THUNK(read, 0);

IMPL(pread64)(int fd, void *buf, size_t n, off_t at) {
  if (n > BUFFER_SIZE / 2) return (struct outcome){0, TRACED};
  return CALL(SYS_pread64, fd, (long)buf, (long)n, at, .fd = (uint32_t)fd, .out = buf, .outlen = (uint32_t)n, .sized = 1);
}
THUNK(pread64, 17);
ALIAS(pread64, pread);

IMPL(write)(int fd, const void *buf, size_t n) { return CALL(SYS_write, fd, (long)buf, (long)n, .fd = (uint32_t)fd); }
THUNK(write, 1);

IMPL(pwrite64)(int fd, const void *buf, size_t n, off_t at) { return CALL(SYS_pwrite64, fd, (long)buf, (long)n, at, .fd = (uint32_t)fd); }
THUNK(pwrite64, 18);
ALIAS(pwrite64, pwrite);

IMPL(lseek)(int fd, off_t off, int whence) { return CALL(SYS_lseek, fd, off, whence, .fd = (uint32_t)fd); }
THUNK(lseek, 8);
ALIAS(lseek, lseek64);

IMPL(fstat)(int fd, struct stat *st) { return CALL(SYS_fstat, fd, (long)st, .fd = (uint32_t)fd, .out = st, .outlen = sizeof *st); }
THUNK(fstat, 5);
ALIAS(fstat, fstat64);

// By path: whatever the file, the call does not block.
IMPL(stat)(const char *path, struct stat *st) { return CALL(SYS_stat, (long)path, (long)st, .fd = NO_FD, .out = st, .outlen = sizeof *st); }
THUNK(stat, 4);
ALIAS(stat, stat64);

IMPL(lstat)(const char *path, struct stat *st) { return CALL(SYS_lstat, (long)path, (long)st, .fd = NO_FD, .out = st, .outlen = sizeof *st); }
THUNK(lstat, 6);
ALIAS(lstat, lstat64);

IMPL(fstatat)(int dir, const char *path, struct stat *st, int flags) {
  return CALL(SYS_newfstatat, dir, (long)path, (long)st, flags, .fd = NO_FD, .out = st, .outlen = sizeof *st);
}
THUNK(fstatat, 262);
ALIAS(fstatat, fstatat64);

IMPL(statx)(int dir, const char *path, int flags, unsigned mask, struct statx *st) {
  return CALL(SYS_statx, dir, (long)path, flags, mask, (long)st, .fd = NO_FD, .out = st, .outlen = sizeof *st);
}
THUNK(statx, 332);

// Extended attributes and links by path (ls -l asks for them on every file); `size` 0 asks for
// the length only.
#define BY_PATH(name, nr)                                                                   \
  IMPL(name)(const char *path, const char *attr, void *value, size_t size) {               \
    if (size > BUFFER_SIZE / 2) return (struct outcome){0, TRACED};                        \
    return CALL(nr, (long)path, (long)attr, (long)value, (long)size, .fd = NO_FD, .out = value, .outlen = (uint32_t)size, .sized = 1); \
  }                                                                                        \
  THUNK(name, nr);
BY_PATH(getxattr, 191)
BY_PATH(lgetxattr, 192)

#define LIST_BY_PATH(name, nr)                                                              \
  IMPL(name)(const char *path, char *list, size_t size) {                                  \
    if (size > BUFFER_SIZE / 2) return (struct outcome){0, TRACED};                        \
    return CALL(nr, (long)path, (long)list, (long)size, .fd = NO_FD, .out = list, .outlen = (uint32_t)size, .sized = 1); \
  }                                                                                        \
  THUNK(name, nr);
LIST_BY_PATH(listxattr, 194)
LIST_BY_PATH(llistxattr, 195)
LIST_BY_PATH(readlink, 89)

// poll that does not wait: the fds' events come back in the array.
IMPL(poll)(struct pollfd *fds, nfds_t n, int timeout) {
  if (timeout != 0 || n > 256) return (struct outcome){0, TRACED};
  return CALL(SYS_poll, (long)fds, (long)n, 0, .fd = NO_FD, .out = fds, .outlen = (uint32_t)(n * sizeof *fds));
}
THUNK(poll, 7);
