// SPDX-License-Identifier: MIT
/**
 * The x86-64 syscall table: number, name, argument names, how replay treats each call and
 * which memory the kernel writes, so that recording can save it and replay can put it back.
 */
import { bpfKnown, bpfWrites } from './bpf.js';
import { ioctlKnown, ioctlWrites } from './ioctls.js';

/** How replay treats a syscall: `emulate` skips it and reproduces the recorded result and
 * memory; `real` runs it again (it shapes the address space or the kernel's view of the task)
 * and checks the result; `deny` makes it fail with ENOSYS in record and replay alike. */
export type ReplayPolicy = 'emulate' | 'real' | 'deny';

/** Reads tracee memory while the kernel's output is described (iovecs, msghdr, socklen_t). */
export interface MemoryReader {
  u32(addr: bigint): number;
  u64(addr: bigint): bigint;
}

/** A syscall at its exit: raw argument registers and the result (negative is -errno). */
export interface SyscallCall {
  readonly args: readonly bigint[];
  readonly result: bigint;
  readonly mem: MemoryReader;
  /** What /proc/PID/fdinfo says of one of the caller's fds ('' if nothing). */
  readonly fdInfo: (fd: number) => string;
}

/** A range of tracee memory: [address, length in bytes]. */
export type Region = readonly [addr: bigint, length: number];

export interface SyscallSpec {
  readonly nr: number;
  readonly name: string;
  readonly argNames: readonly string[];
  /** The policy, or (for multiplexed calls) the policy of the commonest use; replayPolicy()
   * gives a call's own. */
  readonly policy: ReplayPolicy;
  /** The policy of a call with these arguments, where it depends on them. */
  readonly policyOf?: (args: readonly bigint[]) => ReplayPolicy;
  /** Memory the kernel wrote; called at the exit of a call that succeeded (result >= 0). */
  readonly writes?: (call: SyscallCall) => Region[];
  /** Memory the kernel wrote although the call failed (result < 0). */
  readonly failedWrites?: (call: SyscallCall) => Region[];
  /** Why tsrr cannot record this call faithfully, if it cannot: it is then made to fail with
   * EINVAL in record and replay alike. */
  readonly refuse?: (args: readonly bigint[]) => string | undefined;
}

type Writes = (call: SyscallCall) => Region[];
/** A byte count: fixed, or computed from the call. */
type Len = number | ((call: SyscallCall) => number);

// x86-64 sizes of the structures the kernel fills.
const TIMESPEC = 16;
const TIMEVAL = 16;
const STAT = 144;
const STATX = 256;
const STATFS = 120;
const RUSAGE = 144;
const SIGINFO = 128;
const RLIMIT = 16;
const ITIMER = 32; // struct itimerval and struct itimerspec
const TIMEX = 208;
const EPOLL_EVENT = 12; // packed on x86-64
const IO_EVENT = 32;
const MMSGHDR = 64; // struct msghdr (56) + msg_len + padding
/** sizeof(struct sockaddr_storage): no address the kernel reports is longer. */
const SOCKADDR_MAX = 128;
const PAGE = 4096;
/** clone's flag for a pidfd, which the kernel stores at parent_tidptr (clone3: at
 * clone_args.pidfd). */
const CLONE_PIDFD = 0x1000n;
const FUTEX_WAKE_OP = 5n;

const arg = (c: SyscallCall, i: number): bigint => c.args[i] ?? 0n;
/** An `int` argument: the kernel looks at the low 32 bits of the register only. */
const int = (c: SyscallCall, i: number): number => Number(BigInt.asIntN(32, arg(c, i)));
const uint = (c: SyscallCall, i: number): number => Number(BigInt.asUintN(32, arg(c, i)));
const ret = (c: SyscallCall): number => Number(c.result);
/** A byte count passed in argument `i`. */
const size = (i: number) => (c: SyscallCall): number => Number(arg(c, i));
/** The result counts elements of `bytes` each. */
const items = (bytes: number) => (c: SyscallCall): number => ret(c) * bytes;

function at(addr: bigint, len: number): Region[] {
  return addr === 0n || len <= 0 ? [] : [[addr, len]];
}

/** `len` bytes at the pointer in argument `i`; a null pointer means the caller did not ask. */
function out(i: number, len: Len): Writes {
  return (c) => {
    const addr = arg(c, i);
    return addr === 0n ? [] : at(addr, typeof len === 'number' ? len : len(c));
  };
}

function all(...writes: Writes[]): Writes {
  return (c) => writes.flatMap((w) => w(c));
}

/** A buffer and the u32 holding its length, which the kernel updates to the length it has.
 * That length may exceed the buffer (sockaddrs are truncated), so `max` bounds it; any extra
 * bytes are the tracee's own, unchanged at the exit where they are saved. */
function sized(bufArg: number, lenArg: number, max = Infinity): Writes {
  return (c) => {
    const buf = arg(c, bufArg);
    const lenPtr = arg(c, lenArg);
    if (lenPtr === 0n) return [];
    // Without a buffer the length is still stored (a probe for the size needed).
    return [...(buf === 0n ? [] : at(buf, Math.min(c.mem.u32(lenPtr), max))), [lenPtr, 4]];
  };
}

/** The regions `bytes` fill of the iovec array at `vec` (`count` of them), in order; `u64`
 * reads the array. */
export function iovecRegions(u64: (addr: bigint) => bigint, vec: bigint, count: number, bytes: number): Region[] {
  const regions: Region[] = [];
  for (let i = 0; i < count && bytes > 0; i++) {
    const iov = vec + BigInt(i * 16);
    const len = Math.min(Number(u64(iov + 8n)), bytes);
    regions.push(...at(u64(iov), len));
    bytes -= len;
  }
  return regions;
}

const iovecs = (vecArg: number, countArg: number): Writes => (c) =>
  iovecRegions((a) => c.mem.u64(a), arg(c, vecArg), Number(arg(c, countArg)), ret(c));

/** What receiving `bytes` of data through one struct msghdr writes. The kernel stores the
 * name and control lengths it used back into the msghdr, so they are read after the fact. */
function msghdr(mem: MemoryReader, msg: bigint, bytes: number): Region[] {
  return [
    ...at(mem.u64(msg), Math.min(mem.u32(msg + 8n), SOCKADDR_MAX)),
    ...iovecRegions((a) => mem.u64(a), mem.u64(msg + 16n), Number(mem.u64(msg + 24n)), bytes),
    ...at(mem.u64(msg + 32n), Number(mem.u64(msg + 40n))),
    [msg + 8n, 4], // msg_namelen
    [msg + 40n, 8], // msg_controllen
    [msg + 48n, 4], // msg_flags
  ];
}

const recvmsg: Writes = (c) => msghdr(c.mem, arg(c, 1), ret(c));

/** Each received message has its byte count in msg_len; the timeout gets the time left. */
const recvmmsg: Writes = (c) => {
  const regions = at(arg(c, 4), TIMESPEC);
  for (let i = 0; i < ret(c); i++) {
    const entry = arg(c, 1) + BigInt(i * MMSGHDR);
    regions.push(...msghdr(c.mem, entry, c.mem.u32(entry + 56n)), [entry + 56n, 4]);
  }
  return regions;
};

/** IPT_SO_SET_REPLACE and IP6T_SO_SET_REPLACE hand back the old table's counters (16 bytes
 * per entry) where struct ipt_replace's `counters` points. */
const SOL_IP = 0;
const SOL_IPV6 = 41;
const SO_SET_REPLACE = 64;
const replaceCounters: Writes = (c) => {
  if ((int(c, 1) !== SOL_IP && int(c, 1) !== SOL_IPV6) || int(c, 2) !== SO_SET_REPLACE || arg(c, 3) === 0n) return [];
  return at(c.mem.u64(arg(c, 3) + 88n), c.mem.u32(arg(c, 3) + 84n) * 16);
};

/** waitid fills the start of its siginfo (signo, errno, code, pid, uid, status) even when it
 * fails. */
const WAITID_FAILED = 32;

/** sendmmsg stores the byte count of each message it sent in its msg_len. */
const sendmmsg: Writes = (c) =>
  Array.from({ length: ret(c) }, (_, i): Region => [arg(c, 1) + BigInt(i * MMSGHDR + 56), 4]);

/** select's fd_set in argument `i`: the kernel writes back whole longs covering nfds. */
const fdset = (i: number): Writes => out(i, (c) => Math.ceil(int(c, 0) / 64) * 8);
const fdsets = all(fdset(1), fdset(2), fdset(3));

const ioctl: Writes = (c) => ioctlWrites(uint(c, 1), arg(c, 2), c.result, c.mem);

const FCNTL_OUT = new Map([
  [5, 32], // F_GETLK: struct flock
  [16, 8], // F_GETOWN_EX: struct f_owner_ex
  [17, 8], // F_GETOWNER_UIDS: two uid_t
  [36, 32], // F_OFD_GETLK
  [1035, 8], // F_GET_RW_HINT
  [1037, 8], // F_GET_FILE_RW_HINT
]);

/** System V IPC control calls: what each command fills at `ptr`. IPC_STAT-like commands a
 * struct *id_ds, IPC_INFO-like ones a struct *info. */
const IPC_STAT = 2;
const IPC_INFO = 3;
const MSQID_DS = 120;
const SHMID_DS = 112;
const SEMID_DS = 104;
const MSGCTL_OUT = new Map([[IPC_STAT, MSQID_DS], [11, MSQID_DS], [13, MSQID_DS], [IPC_INFO, 32], [12, 32]]);
const SHMCTL_OUT = new Map([[IPC_STAT, SHMID_DS], [13, SHMID_DS], [15, SHMID_DS], [IPC_INFO, 72], [14, 48]]);
const SEMCTL_OUT = new Map([[IPC_STAT, SEMID_DS], [18, SEMID_DS], [20, SEMID_DS], [IPC_INFO, 40], [19, 40]]);
/** semctl GETALL fills one unsigned short per semaphore: as many as a set can hold (SEMMSL). */
const SEM_GETALL = 13;
const SEMMSL = 32000;
const ipcCtl = (table: Map<number, number>, cmdArg: number, ptrArg: number): Writes => out(ptrArg, (c) => table.get(int(c, cmdArg) & 0xff) ?? 0);
const semctl: Writes = (c) => ((int(c, 2) & 0xff) === SEM_GETALL ? out(3, SEMMSL * 2)(c) : ipcCtl(SEMCTL_OUT, 2, 3)(c));

/** sysfs option 2 copies a filesystem type's name (at most a page holds). */
const sysfs = out(2, (c) => (int(c, 0) === 2 ? 256 : 0));
const fcntl = out(2, (c) => FCNTL_OUT.get(int(c, 1)) ?? 0);

/** The kernel stores the version it speaks in the header when asked with another (or with
 * no data: a probe). Version 1 fills one 12-byte __user_cap_data_struct, later versions two. */
const capgetHeader = out(0, 4);
const capget = all(capgetHeader, out(1, (c) => (c.mem.u32(arg(c, 0)) === 0x19980330 ? 12 : 24)));

/** A sleep a signal interrupts (EINTR, or a restart the kernel makes) tells the time left
 * in the timespec at argument `i` (clock_nanosleep: not for an absolute time). */
const EINTR = -4n;
/** The result of a call the kernel restarts as restart_syscall (poll, nanosleep, futex ...). */
export const ERESTART_RESTARTBLOCK = -516n;
const timeLeft = (i: number, absolute: (c: SyscallCall) => boolean = () => false): Writes => (c) =>
  (c.result === EINTR || c.result === ERESTART_RESTARTBLOCK) && !absolute(c) ? out(i, TIMESPEC)(c) : [];
const TIMER_ABSTIME = 1;
/** seccomp(SECCOMP_GET_NOTIF_SIZES) fills three u16s. */
const SECCOMP_GET_NOTIF_SIZES = 3;
const ENOSPC = -28n;

/** Only syslog's read actions (2, 3, 4) copy the log out. */
const syslog = out(1, (c) => ([2, 3, 4].includes(int(c, 0)) ? ret(c) : 0));

/** KEYCTL_DESCRIBE, KEYCTL_READ and KEYCTL_GET_SECURITY return the full length but copy at
 * most buflen bytes. */
const keyctl = out(2, (c) => ([6, 11, 17].includes(int(c, 0)) ? Math.min(ret(c), Number(arg(c, 3))) : 0));

/** What a ptrace request that reads its tracee writes at `data` (GETREGSET: the buffer its
 * iovec names, and the length it stores there). */
const PTRACE_OUT = new Map<number, number>([
  [1, 8], [2, 8], [3, 8], // PEEKTEXT, PEEKDATA, PEEKUSER
  [12, 216], [14, 512], // GETREGS, GETFPREGS
  [0x4201, 8], [0x4202, 128], [0x420a, 8], // GETEVENTMSG, GETSIGINFO, GETSIGMASK
]);
const PTRACE_GETREGSET = 0x4204;
const PTRACE_ARCH_PRCTL = 30;
const ARCH_GET_FS = 0x1003n;
const ARCH_GET_GS = 0x1004n;
const ptraceWrites: Writes = (c) => {
  if (int(c, 0) === PTRACE_ARCH_PRCTL) return arg(c, 3) === ARCH_GET_FS || arg(c, 3) === ARCH_GET_GS ? at(arg(c, 2), 8) : [];
  if (int(c, 0) === PTRACE_GETREGSET && arg(c, 3) !== 0n) return [...at(c.mem.u64(arg(c, 3)), Number(c.mem.u64(arg(c, 3) + 8n))), [arg(c, 3) + 8n, 8]];
  return out(3, PTRACE_OUT.get(int(c, 0)) ?? 0)(c);
};

/** With gidsetsize 0 getgroups only counts. */
const getgroups = out(1, (c) => (int(c, 0) === 0 ? 0 : ret(c) * 4));

/** The kernel stores the handle size in handle_bytes; AT_HANDLE_MNT_ID_UNIQUE (1) widens
 * mount_id to a u64. */
const nameToHandle = all(
  out(2, (c) => 8 + c.mem.u32(arg(c, 2))),
  out(3, (c) => (int(c, 4) & 1 ? 8 : 4)),
);

/** struct xattr_args starts with the pointer to the value buffer. */
const getxattrat: Writes = (c) => (arg(c, 4) === 0n ? [] : at(c.mem.u64(arg(c, 4)), ret(c)));

/** get_mempolicy writes its node mask as whole longs covering maxnode - 1 bits. */
const nodemask = out(1, (c) => Math.ceil((Number(arg(c, 2)) - 1) / 64) * 8);

/** The revents of each pollfd. */
const pollfds = out(0, (c) => uint(c, 1) * 8);

/** struct statmount starts with the u32 size the kernel filled in. */
const statmount = out(1, (c) => Math.min(c.mem.u32(arg(c, 1)), Number(arg(c, 2))));

/** A pair of loff_t offsets that splice-like calls advance. */
const offsets = all(out(1, 8), out(3, 8));

/** prctl options that only read the task's state, with the bytes each writes at arg2. */
const PRCTL_GETTERS = new Map<number, Len>([
  [2, 4], // PR_GET_PDEATHSIG
  [3, 0], // PR_GET_DUMPABLE
  [5, 4], // PR_GET_UNALIGN
  [7, 0], // PR_GET_KEEPCAPS
  [9, 4], // PR_GET_FPEMU
  [11, 4], // PR_GET_FPEXC
  [13, 0], // PR_GET_TIMING
  [16, 16], // PR_GET_NAME
  [19, 4], // PR_GET_ENDIAN
  [21, 0], // PR_GET_SECCOMP
  [23, 0], // PR_CAPBSET_READ
  [25, 4], // PR_GET_TSC
  [27, 0], // PR_GET_SECUREBITS
  [30, 0], // PR_GET_TIMERSLACK
  [34, 0], // PR_MCE_KILL_GET
  [37, 4], // PR_GET_CHILD_SUBREAPER
  [39, 0], // PR_GET_NO_NEW_PRIVS
  [40, 8], // PR_GET_TID_ADDRESS
  [42, 0], // PR_GET_THP_DISABLE
  [46, 0], // PR_GET_FP_MODE
  [52, 0], // PR_GET_SPECULATION_CTRL
  [56, 0], // PR_GET_TAGGED_ADDR_CTRL
  [58, 0], // PR_GET_IO_FLUSHER
  [66, 0], // PR_GET_MDWE
  [68, 0], // PR_GET_MEMORY_MERGE
  [74, 8], // PR_GET_SHADOW_STACK_STATUS
  [0x41555856, (c) => Math.min(ret(c), Number(arg(c, 2)))], // PR_GET_AUXV: the vector, cut to its buffer
]);
/** prctl options that set what tsrr hides from the program (its seccomp mode, rdtsc
 * faulting: see core/OwnSettings.ts) or change credentials (PR_SET_KEEPCAPS,
 * PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_CAP_AMBIENT), which replay leaves as they are, like
 * capset and setuid: the calls they govern are emulated. */
const PRCTL_SETTERS_EMULATED = new Set([8, 22, 24, 26, 28, 47]);

/** Whether replay reproduces a prctl from the trace instead of running it. */
function prctlEmulated(args: readonly bigint[]): boolean {
  const option = Number(BigInt.asIntN(32, args[0] ?? 0n));
  return PRCTL_GETTERS.has(option) || PRCTL_SETTERS_EMULATED.has(option);
}

const prctl: Writes = (c) => {
  const len = PRCTL_GETTERS.get(int(c, 0)) ?? 0;
  return out(1, len)(c);
};

type Entry = readonly [nr: number, name: string, args: string, writes?: Writes, failedWrites?: Writes];

/** Every x86-64 syscall (arch/x86/entry/syscalls/syscall_64.tbl, 64-bit and common ABIs). */
const TABLE = [
  [0, 'read', 'fd buf count', out(1, ret)],
  [1, 'write', 'fd buf count'],
  [2, 'open', 'filename flags mode'],
  [3, 'close', 'fd'],
  [4, 'stat', 'filename statbuf', out(1, STAT)],
  [5, 'fstat', 'fd statbuf', out(1, STAT)],
  [6, 'lstat', 'filename statbuf', out(1, STAT)],
  [7, 'poll', 'ufds nfds timeout_msecs', pollfds],
  [8, 'lseek', 'fd offset whence'],
  [9, 'mmap', 'addr len prot flags fd off'],
  [10, 'mprotect', 'start len prot'],
  [11, 'munmap', 'addr len'],
  [12, 'brk', 'brk'],
  [13, 'rt_sigaction', 'sig act oact sigsetsize'],
  [14, 'rt_sigprocmask', 'how set oset sigsetsize'],
  [15, 'rt_sigreturn', ''],
  [16, 'ioctl', 'fd cmd arg', ioctl],
  [17, 'pread64', 'fd buf count pos', out(1, ret)],
  [18, 'pwrite64', 'fd buf count pos'],
  [19, 'readv', 'fd vec vlen', iovecs(1, 2)],
  [20, 'writev', 'fd vec vlen'],
  [21, 'access', 'filename mode'],
  [22, 'pipe', 'fildes', out(0, 8)],
  [23, 'select', 'n inp outp exp tvp', all(fdsets, out(4, TIMEVAL))],
  [24, 'sched_yield', ''],
  [25, 'mremap', 'addr old_len new_len flags new_addr'],
  [26, 'msync', 'start len flags'],
  [27, 'mincore', 'start len vec', out(2, (c) => Math.ceil(Number(arg(c, 1)) / PAGE))],
  [28, 'madvise', 'start len_in behavior'],
  [29, 'shmget', 'key size shmflg'],
  [30, 'shmat', 'shmid shmaddr shmflg'],
  [31, 'shmctl', 'shmid cmd buf', ipcCtl(SHMCTL_OUT, 1, 2)],
  [32, 'dup', 'fildes'],
  [33, 'dup2', 'oldfd newfd'],
  [34, 'pause', ''],
  [35, 'nanosleep', 'rqtp rmtp', undefined, timeLeft(1)],
  [36, 'getitimer', 'which value', out(1, ITIMER)],
  [37, 'alarm', 'seconds'],
  [38, 'setitimer', 'which value ovalue', out(2, ITIMER)],
  [39, 'getpid', ''],
  [40, 'sendfile', 'out_fd in_fd offset count', out(2, 8)],
  [41, 'socket', 'family type protocol'],
  [42, 'connect', 'fd uservaddr addrlen'],
  [43, 'accept', 'fd upeer_sockaddr upeer_addrlen', sized(1, 2, SOCKADDR_MAX)],
  [44, 'sendto', 'fd buff len flags addr addr_len'],
  [45, 'recvfrom', 'fd ubuf size flags addr addr_len', all(out(1, ret), sized(4, 5, SOCKADDR_MAX))],
  [46, 'sendmsg', 'fd msg flags'],
  [47, 'recvmsg', 'fd msg flags', recvmsg],
  [48, 'shutdown', 'fd how'],
  [49, 'bind', 'fd umyaddr addrlen'],
  [50, 'listen', 'fd backlog'],
  [51, 'getsockname', 'fd usockaddr usockaddr_len', sized(1, 2, SOCKADDR_MAX)],
  [52, 'getpeername', 'fd usockaddr usockaddr_len', sized(1, 2, SOCKADDR_MAX)],
  [53, 'socketpair', 'family type protocol usockvec', out(3, 8)],
  [54, 'setsockopt', 'fd level optname optval optlen', replaceCounters],
  [55, 'getsockopt', 'fd level optname optval optlen', sized(3, 4)],
  [56, 'clone', 'clone_flags newsp parent_tidptr child_tidptr tls', (c) => ((arg(c, 0) & CLONE_PIDFD) !== 0n ? at(arg(c, 2), 4) : [])],
  [57, 'fork', ''],
  [58, 'vfork', ''],
  [59, 'execve', 'filename argv envp'],
  [60, 'exit', 'error_code'],
  [61, 'wait4', 'upid stat_addr options ru', all(out(1, 4), out(3, RUSAGE))],
  [62, 'kill', 'pid sig'],
  [63, 'uname', 'name', out(0, 390)],
  [64, 'semget', 'key nsems semflg'],
  [65, 'semop', 'semid tsops nsops'],
  [66, 'semctl', 'semid semnum cmd arg', semctl],
  [67, 'shmdt', 'shmaddr'],
  [68, 'msgget', 'key msgflg'],
  [69, 'msgsnd', 'msqid msgp msgsz msgflg'],
  [70, 'msgrcv', 'msqid msgp msgsz msgtyp msgflg', out(1, (c) => 8 + ret(c))], // mtype, then the text
  [71, 'msgctl', 'msqid cmd buf', ipcCtl(MSGCTL_OUT, 1, 2)],
  [72, 'fcntl', 'fd cmd arg', fcntl],
  [73, 'flock', 'fd cmd'],
  [74, 'fsync', 'fd'],
  [75, 'fdatasync', 'fd'],
  [76, 'truncate', 'path length'],
  [77, 'ftruncate', 'fd length'],
  [78, 'getdents', 'fd dirent count', out(1, ret)],
  [79, 'getcwd', 'buf size', out(0, ret)],
  [80, 'chdir', 'filename'],
  [81, 'fchdir', 'fd'],
  [82, 'rename', 'oldname newname'],
  [83, 'mkdir', 'pathname mode'],
  [84, 'rmdir', 'pathname'],
  [85, 'creat', 'pathname mode'],
  [86, 'link', 'oldname newname'],
  [87, 'unlink', 'pathname'],
  [88, 'symlink', 'oldname newname'],
  [89, 'readlink', 'path buf bufsiz', out(1, ret)],
  [90, 'chmod', 'filename mode'],
  [91, 'fchmod', 'fd mode'],
  [92, 'chown', 'filename user group'],
  [93, 'fchown', 'fd user group'],
  [94, 'lchown', 'filename user group'],
  [95, 'umask', 'mask'],
  [96, 'gettimeofday', 'tv tz', all(out(0, TIMEVAL), out(1, 8))],
  [97, 'getrlimit', 'resource rlim', out(1, RLIMIT)],
  [98, 'getrusage', 'who ru', out(1, RUSAGE)],
  [99, 'sysinfo', 'info', out(0, 112)],
  [100, 'times', 'tbuf', out(0, 32)],
  [101, 'ptrace', 'request pid addr data', ptraceWrites],
  [102, 'getuid', ''],
  [103, 'syslog', 'type buf len', syslog],
  [104, 'getgid', ''],
  [105, 'setuid', 'uid'],
  [106, 'setgid', 'gid'],
  [107, 'geteuid', ''],
  [108, 'getegid', ''],
  [109, 'setpgid', 'pid pgid'],
  [110, 'getppid', ''],
  [111, 'getpgrp', ''],
  [112, 'setsid', ''],
  [113, 'setreuid', 'ruid euid'],
  [114, 'setregid', 'rgid egid'],
  [115, 'getgroups', 'gidsetsize grouplist', getgroups],
  [116, 'setgroups', 'gidsetsize grouplist'],
  [117, 'setresuid', 'ruid euid suid'],
  [118, 'getresuid', 'ruidp euidp suidp', all(out(0, 4), out(1, 4), out(2, 4))],
  [119, 'setresgid', 'rgid egid sgid'],
  [120, 'getresgid', 'rgidp egidp sgidp', all(out(0, 4), out(1, 4), out(2, 4))],
  [121, 'getpgid', 'pid'],
  [122, 'setfsuid', 'uid'],
  [123, 'setfsgid', 'gid'],
  [124, 'getsid', 'pid'],
  [125, 'capget', 'header dataptr', capget, capgetHeader],
  [126, 'capset', 'header data'],
  [127, 'rt_sigpending', 'uset sigsetsize', out(0, size(1))],
  [128, 'rt_sigtimedwait', 'uthese uinfo uts sigsetsize', out(1, SIGINFO)],
  [129, 'rt_sigqueueinfo', 'pid sig uinfo'],
  [130, 'rt_sigsuspend', 'unewset sigsetsize'],
  [131, 'sigaltstack', 'uss uoss'],
  [132, 'utime', 'filename times'],
  [133, 'mknod', 'filename mode dev'],
  [134, 'uselib', 'library'],
  [135, 'personality', 'personality'],
  [136, 'ustat', 'dev ubuf', out(1, 32)],
  [137, 'statfs', 'pathname buf', out(1, STATFS)],
  [138, 'fstatfs', 'fd buf', out(1, STATFS)],
  [139, 'sysfs', 'option arg1 arg2', sysfs],
  [140, 'getpriority', 'which who'],
  [141, 'setpriority', 'which who niceval'],
  [142, 'sched_setparam', 'pid param'],
  [143, 'sched_getparam', 'pid param', out(1, 4)],
  [144, 'sched_setscheduler', 'pid policy param'],
  [145, 'sched_getscheduler', 'pid'],
  [146, 'sched_get_priority_max', 'policy'],
  [147, 'sched_get_priority_min', 'policy'],
  [148, 'sched_rr_get_interval', 'pid interval', out(1, TIMESPEC)],
  [149, 'mlock', 'start len'],
  [150, 'munlock', 'start len'],
  [151, 'mlockall', 'flags'],
  [152, 'munlockall', ''],
  [153, 'vhangup', ''],
  [154, 'modify_ldt', 'func ptr bytecount'],
  [155, 'pivot_root', 'new_root put_old'],
  [156, '_sysctl', 'args'],
  [157, 'prctl', 'option arg2 arg3 arg4 arg5', prctl],
  [158, 'arch_prctl', 'option arg2'],
  [159, 'adjtimex', 'txc_p', out(0, TIMEX)],
  [160, 'setrlimit', 'resource rlim'],
  [161, 'chroot', 'filename'],
  [162, 'sync', ''],
  [163, 'acct', 'name'],
  [164, 'settimeofday', 'tv tz'],
  [165, 'mount', 'dev_name dir_name type flags data'],
  [166, 'umount2', 'name flags'],
  [167, 'swapon', 'specialfile swap_flags'],
  [168, 'swapoff', 'specialfile'],
  [169, 'reboot', 'magic1 magic2 cmd arg'],
  [170, 'sethostname', 'name len'],
  [171, 'setdomainname', 'name len'],
  [172, 'iopl', 'level'],
  [173, 'ioperm', 'from num turn_on'],
  [174, 'create_module', 'name size'],
  [175, 'init_module', 'umod len uargs'],
  [176, 'delete_module', 'name_user flags'],
  [177, 'get_kernel_syms', 'table'],
  [178, 'query_module', 'name which buf bufsize ret'],
  [179, 'quotactl', 'cmd special id addr'],
  [180, 'nfsservctl', 'cmd argp resp'],
  [181, 'getpmsg', ''],
  [182, 'putpmsg', ''],
  [183, 'afs_syscall', ''],
  [184, 'tuxcall', ''],
  [185, 'security', ''],
  [186, 'gettid', ''],
  [187, 'readahead', 'fd offset count'],
  [188, 'setxattr', 'pathname name value size flags'],
  [189, 'lsetxattr', 'pathname name value size flags'],
  [190, 'fsetxattr', 'fd name value size flags'],
  [191, 'getxattr', 'pathname name value size', out(2, ret)],
  [192, 'lgetxattr', 'pathname name value size', out(2, ret)],
  [193, 'fgetxattr', 'fd name value size', out(2, ret)],
  [194, 'listxattr', 'pathname list size', out(1, ret)],
  [195, 'llistxattr', 'pathname list size', out(1, ret)],
  [196, 'flistxattr', 'fd list size', out(1, ret)],
  [197, 'removexattr', 'pathname name'],
  [198, 'lremovexattr', 'pathname name'],
  [199, 'fremovexattr', 'fd name'],
  [200, 'tkill', 'pid sig'],
  [201, 'time', 'tloc', out(0, 8)],
  // FUTEX_WAKE_OP changes the word at uaddr2.
  [202, 'futex', 'uaddr op val utime uaddr2 val3', (c) => ((arg(c, 1) & 0x7fn) === FUTEX_WAKE_OP ? at(arg(c, 4), 4) : [])],
  [203, 'sched_setaffinity', 'pid len user_mask_ptr'],
  [204, 'sched_getaffinity', 'pid len user_mask_ptr', out(2, ret)],
  [205, 'set_thread_area', 'u_info'],
  [206, 'io_setup', 'nr_events ctxp', out(1, 8)],
  [207, 'io_destroy', 'ctx'],
  [208, 'io_getevents', 'ctx_id min_nr nr events timeout', out(3, items(IO_EVENT))],
  [209, 'io_submit', 'ctx_id nr iocbpp'],
  [210, 'io_cancel', 'ctx_id iocb result'],
  [211, 'get_thread_area', 'u_info', out(0, 16)],
  [212, 'lookup_dcookie', 'cookie64 buf len'],
  [213, 'epoll_create', 'size'],
  [214, 'epoll_ctl_old', ''],
  [215, 'epoll_wait_old', ''],
  [216, 'remap_file_pages', 'start size prot pgoff flags'],
  [217, 'getdents64', 'fd dirent count', out(1, ret)],
  [218, 'set_tid_address', 'tidptr'],
  [219, 'restart_syscall', ''],
  [220, 'semtimedop', 'semid tsops nsops timeout'],
  [221, 'fadvise64', 'fd offset len advice'],
  [222, 'timer_create', 'which_clock timer_event_spec created_timer_id', out(2, 4)],
  [223, 'timer_settime', 'timer_id flags new_setting old_setting', out(3, ITIMER)],
  [224, 'timer_gettime', 'timer_id setting', out(1, ITIMER)],
  [225, 'timer_getoverrun', 'timer_id'],
  [226, 'timer_delete', 'timer_id'],
  [227, 'clock_settime', 'which_clock tp'],
  [228, 'clock_gettime', 'which_clock tp', out(1, TIMESPEC)],
  [229, 'clock_getres', 'which_clock tp', out(1, TIMESPEC)],
  [230, 'clock_nanosleep', 'which_clock flags rqtp rmtp', undefined, timeLeft(3, (c) => (int(c, 1) & TIMER_ABSTIME) !== 0)],
  [231, 'exit_group', 'error_code'],
  [232, 'epoll_wait', 'epfd events maxevents timeout', out(1, items(EPOLL_EVENT))],
  [233, 'epoll_ctl', 'epfd op fd event'],
  [234, 'tgkill', 'tgid pid sig'],
  [235, 'utimes', 'filename utimes'],
  [236, 'vserver', ''],
  [237, 'mbind', 'start len mode nmask maxnode flags'],
  [238, 'set_mempolicy', 'mode nmask maxnode'],
  [239, 'get_mempolicy', 'policy nmask maxnode addr flags', all(out(0, 4), nodemask)],
  [240, 'mq_open', 'u_name oflag mode u_attr'],
  [241, 'mq_unlink', 'u_name'],
  [242, 'mq_timedsend', 'mqdes u_msg_ptr msg_len msg_prio u_abs_timeout'],
  [243, 'mq_timedreceive', 'mqdes u_msg_ptr msg_len u_msg_prio u_abs_timeout', all(out(1, ret), out(3, 4))],
  [244, 'mq_notify', 'mqdes u_notification'],
  [245, 'mq_getsetattr', 'mqdes u_mqstat u_omqstat', out(2, 64)],
  [246, 'kexec_load', 'entry nr_segments segments flags'],
  [247, 'waitid', 'which upid infop options ru', all(out(2, SIGINFO), out(4, RUSAGE)), out(2, WAITID_FAILED)],
  [248, 'add_key', '_type _description _payload plen ringid'],
  [249, 'request_key', '_type _description _callout_info destringid'],
  [250, 'keyctl', 'option arg2 arg3 arg4 arg5', keyctl],
  [251, 'ioprio_set', 'which who ioprio'],
  [252, 'ioprio_get', 'which who'],
  [253, 'inotify_init', ''],
  [254, 'inotify_add_watch', 'fd pathname mask'],
  [255, 'inotify_rm_watch', 'fd wd'],
  [256, 'migrate_pages', 'pid maxnode old_nodes new_nodes'],
  [257, 'openat', 'dfd filename flags mode'],
  [258, 'mkdirat', 'dfd pathname mode'],
  [259, 'mknodat', 'dfd filename mode dev'],
  [260, 'fchownat', 'dfd filename user group flag'],
  [261, 'futimesat', 'dfd filename utimes'],
  [262, 'newfstatat', 'dfd filename statbuf flag', out(2, STAT)],
  [263, 'unlinkat', 'dfd pathname flag'],
  [264, 'renameat', 'olddfd oldname newdfd newname'],
  [265, 'linkat', 'olddfd oldname newdfd newname flags'],
  [266, 'symlinkat', 'oldname newdfd newname'],
  [267, 'readlinkat', 'dfd pathname buf bufsiz', out(2, ret)],
  [268, 'fchmodat', 'dfd filename mode'],
  [269, 'faccessat', 'dfd filename mode'],
  [270, 'pselect6', 'n inp outp exp tsp sig', all(fdsets, out(4, TIMESPEC))],
  [271, 'ppoll', 'ufds nfds tsp sigmask sigsetsize', all(pollfds, out(2, TIMESPEC))],
  [272, 'unshare', 'unshare_flags'],
  [273, 'set_robust_list', 'head len'],
  [274, 'get_robust_list', 'pid head_ptr len_ptr', all(out(1, 8), out(2, 8))],
  [275, 'splice', 'fd_in off_in fd_out off_out len flags', offsets],
  [276, 'tee', 'fdin fdout len flags'],
  [277, 'sync_file_range', 'fd offset nbytes flags'],
  [278, 'vmsplice', 'fd uiov nr_segs flags'],
  [279, 'move_pages', 'pid nr_pages pages nodes status flags', out(4, (c) => Number(arg(c, 1)) * 4)],
  [280, 'utimensat', 'dfd filename utimes flags'],
  [281, 'epoll_pwait', 'epfd events maxevents timeout sigmask sigsetsize', out(1, items(EPOLL_EVENT))],
  [282, 'signalfd', 'ufd user_mask sizemask'],
  [283, 'timerfd_create', 'clockid flags'],
  [284, 'eventfd', 'count'],
  [285, 'fallocate', 'fd mode offset len'],
  [286, 'timerfd_settime', 'ufd flags utmr otmr', out(3, ITIMER)],
  [287, 'timerfd_gettime', 'ufd otmr', out(1, ITIMER)],
  [288, 'accept4', 'fd upeer_sockaddr upeer_addrlen flags', sized(1, 2, SOCKADDR_MAX)],
  [289, 'signalfd4', 'ufd user_mask sizemask flags'],
  [290, 'eventfd2', 'count flags'],
  [291, 'epoll_create1', 'flags'],
  [292, 'dup3', 'oldfd newfd flags'],
  [293, 'pipe2', 'fildes flags', out(0, 8)],
  [294, 'inotify_init1', 'flags'],
  [295, 'preadv', 'fd vec vlen pos_l pos_h', iovecs(1, 2)],
  [296, 'pwritev', 'fd vec vlen pos_l pos_h'],
  [297, 'rt_tgsigqueueinfo', 'tgid pid sig uinfo'],
  [298, 'perf_event_open', 'attr_uptr pid cpu group_fd flags'],
  [299, 'recvmmsg', 'fd mmsg vlen flags timeout', recvmmsg],
  [300, 'fanotify_init', 'flags event_f_flags'],
  [301, 'fanotify_mark', 'fanotify_fd flags mask dfd pathname'],
  [302, 'prlimit64', 'pid resource new_rlim old_rlim', out(3, RLIMIT)],
  [303, 'name_to_handle_at', 'dfd name handle mnt_id flag', nameToHandle],
  [304, 'open_by_handle_at', 'mountdirfd handle flags'],
  [305, 'clock_adjtime', 'which_clock utx', out(1, TIMEX)],
  [306, 'syncfs', 'fd'],
  [307, 'sendmmsg', 'fd mmsg vlen flags', sendmmsg],
  [308, 'setns', 'fd nstype'],
  [309, 'getcpu', 'cpup nodep unused', all(out(0, 4), out(1, 4))],
  [310, 'process_vm_readv', 'pid lvec liovcnt rvec riovcnt flags', iovecs(1, 2)],
  [311, 'process_vm_writev', 'pid lvec liovcnt rvec riovcnt flags'],
  [312, 'kcmp', 'pid1 pid2 type idx1 idx2'],
  [313, 'finit_module', 'fd uargs flags'],
  [314, 'sched_setattr', 'pid uattr flags'],
  [315, 'sched_getattr', 'pid uattr usize flags', out(1, size(2))],
  [316, 'renameat2', 'olddfd oldname newdfd newname flags'],
  [317, 'seccomp', 'op flags uargs', out(2, (c) => (int(c, 0) === SECCOMP_GET_NOTIF_SIZES ? 6 : 0))],
  [318, 'getrandom', 'buf count flags', out(0, ret)],
  [319, 'memfd_create', 'uname flags'],
  [320, 'kexec_file_load', 'kernel_fd initrd_fd cmdline_len cmdline_ptr flags'],
  [321, 'bpf', 'cmd uattr size', bpfWrites, (c) => (c.result === ENOSPC ? bpfWrites(c) : [])],
  [322, 'execveat', 'fd filename argv envp flags'],
  [323, 'userfaultfd', 'flags'],
  [324, 'membarrier', 'cmd flags cpu_id'],
  [325, 'mlock2', 'start len flags'],
  [326, 'copy_file_range', 'fd_in off_in fd_out off_out len flags', offsets],
  [327, 'preadv2', 'fd vec vlen pos_l pos_h flags', iovecs(1, 2)],
  [328, 'pwritev2', 'fd vec vlen pos_l pos_h flags'],
  [329, 'pkey_mprotect', 'start len prot pkey'],
  [330, 'pkey_alloc', 'flags init_val'],
  [331, 'pkey_free', 'pkey'],
  [332, 'statx', 'dfd filename flags mask buffer', out(4, STATX)],
  [333, 'io_pgetevents', 'ctx_id min_nr nr events timeout usig', out(3, items(IO_EVENT))],
  [334, 'rseq', 'rseq rseq_len flags sig'],
  // Made only by the kernel's uretprobe trampoline.
  [335, 'uretprobe', ''],
  [424, 'pidfd_send_signal', 'pidfd sig info flags'],
  [425, 'io_uring_setup', 'entries params'],
  [426, 'io_uring_enter', 'fd to_submit min_complete flags argp argsz'],
  [427, 'io_uring_register', 'fd opcode arg nr_args'],
  [428, 'open_tree', 'dfd filename flags'],
  [429, 'move_mount', 'from_dfd from_pathname to_dfd to_pathname flags'],
  [430, 'fsopen', 'fs_name flags'],
  [431, 'fsconfig', 'fd cmd key value aux'],
  [432, 'fsmount', 'fs_fd flags attr_flags'],
  [433, 'fspick', 'dfd path flags'],
  [434, 'pidfd_open', 'pid flags'],
  [435, 'clone3', 'uargs size', (c) => ((c.mem.u64(arg(c, 0)) & CLONE_PIDFD) !== 0n ? at(c.mem.u64(arg(c, 0) + 8n), 4) : [])],
  [436, 'close_range', 'fd max_fd flags'],
  [437, 'openat2', 'dfd filename how usize'],
  [438, 'pidfd_getfd', 'pidfd fd flags'],
  [439, 'faccessat2', 'dfd filename mode flags'],
  [440, 'process_madvise', 'pidfd vec vlen behavior flags'],
  [441, 'epoll_pwait2', 'epfd events maxevents timeout sigmask sigsetsize', out(1, items(EPOLL_EVENT))],
  [442, 'mount_setattr', 'dfd path flags uattr usize'],
  [443, 'quotactl_fd', 'fd cmd id addr'],
  [444, 'landlock_create_ruleset', 'attr size flags'],
  [445, 'landlock_add_rule', 'ruleset_fd rule_type rule_attr flags'],
  [446, 'landlock_restrict_self', 'ruleset_fd flags'],
  [447, 'memfd_secret', 'flags'],
  [448, 'process_mrelease', 'pidfd flags'],
  [449, 'futex_waitv', 'waiters nr_futexes flags timeout clockid'],
  [450, 'set_mempolicy_home_node', 'start len home_node flags'],
  // Newer than some distributions' headers, but present in the kernels tsrr runs on.
  [451, 'cachestat', 'fd cstat_range cstat flags', out(2, 40)],
  [452, 'fchmodat2', 'dfd filename mode flags'],
  [453, 'map_shadow_stack', 'addr size flags'],
  [454, 'futex_wake', 'uaddr mask nr flags'],
  [455, 'futex_wait', 'uaddr val mask flags timeout clockid'],
  [456, 'futex_requeue', 'waiters flags nr_wake nr_requeue'],
  [457, 'statmount', 'req buf bufsize flags', statmount],
  [458, 'listmount', 'req mnt_ids nr_mnt_ids flags', out(1, items(8))],
  [459, 'lsm_get_self_attr', 'attr ctx size flags', all(out(1, (c) => c.mem.u32(arg(c, 2))), out(2, 4))],
  [460, 'lsm_set_self_attr', 'attr ctx size flags'],
  [461, 'lsm_list_modules', 'ids size flags', all(out(0, items(8)), out(1, 4))],
  [462, 'mseal', 'start len flags'],
  [463, 'setxattrat', 'dfd pathname at_flags name uargs usize'],
  [464, 'getxattrat', 'dfd pathname at_flags name uargs usize', getxattrat],
  [465, 'listxattrat', 'dfd pathname at_flags list size', out(3, ret)],
  [466, 'removexattrat', 'dfd pathname at_flags name'],
  [467, 'open_tree_attr', 'dfd filename flags uattr usize'],
  [468, 'file_getattr', 'dfd filename ufattr usize at_flags', out(2, size(3))],
  [469, 'file_setattr', 'dfd filename ufattr usize at_flags'],
  [470, 'listns', 'req ns_ids nr_ns_ids flags', out(1, items(8))],
] as const satisfies readonly Entry[];

/** Calls that shape the address space, the signal state, the CPU state or the set of tasks:
 * replay needs their effects, so it runs them again. (Signals that kill and tgkill sent are
 * delivered by replay itself where the recording saw them arrive.) */
const REAL = new Set([
  'execve', 'execveat', 'brk', 'mmap', 'munmap', 'mprotect', 'pkey_mprotect', 'pkey_alloc',
  'pkey_free', 'mremap', 'madvise', 'remap_file_pages', 'map_shadow_stack', 'mseal',
  'arch_prctl', 'modify_ldt', 'set_thread_area', 'set_tid_address', 'set_robust_list',
  'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'sigaltstack', 'exit', 'exit_group',
  'prctl', 'personality', 'clone', 'clone3', 'fork', 'vfork',
  'shmdt', 'mlock', 'mlock2', 'munlock', 'mlockall', 'munlockall', 'membarrier',
]);

/** glibc carries on without rseq when registration fails, and the kernel's updates of a
 * registered rseq area would be writes replay cannot reproduce. */
const DENY = new Set(['rseq']);

/** Calls that tsrr refuses with some arguments. */
const REFUSE = new Map<string, (args: readonly bigint[]) => string | undefined>([
  ['bpf', (args) => (bpfKnown(Number(BigInt.asIntN(32, args[0] ?? 0n))) ? undefined : `bpf command ${args[0]} is unknown to tsrr`)],
  ['ioctl', (args) => {
    const request = Number(BigInt.asUintN(32, args[1] ?? 0n));
    return ioctlKnown(request) ? undefined : `ioctl request 0x${request.toString(16)} is unknown to tsrr`;
  }],
]);

const CLONE_NEWPID = 0x20000000n;

/** Resource limits by number (RLIMIT_CPU is 0). */
export const RLIMIT_NAMES = ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'];

/** Limits the kernel applies to what replay runs again: RLIMIT_DATA, STACK (the stack's
 * growth, the layout of mmap), MEMLOCK, AS. Replay starts with the recording's and makes the
 * program's changes to them again; the others are the recording's only (replay must not get
 * RLIMIT_CPU's signals, dump core, or fail forks as another day's process count would). */
export const REPLAYED_LIMITS: ReadonlySet<number> = new Set([2, 3, 8, 9]);
const replayedLimit = (resource: bigint | undefined) => resource !== undefined && resource < 16n && REPLAYED_LIMITS.has(Number(resource));

/** Calls whose policy depends on their arguments. */
const BY_ARGS = new Map<string, (args: readonly bigint[]) => ReplayPolicy>([
  ['setrlimit', (args) => (replayedLimit(args[0]) ? 'real' : 'emulate')],
  // Of the calling process only (another's id is the recording's).
  ['prlimit64', (args) => (args[0] === 0n && args[2] !== 0n && replayedLimit(args[1]) ? 'real' : 'emulate')],
  ['prctl', (args) => (prctlEmulated(args) ? 'emulate' : 'real')],
  // A new PID namespace changes how signals and deaths work for the processes in it (its
  // init ignores signals it has no handler for; its end kills the others).
  ['unshare', (args) => (((args[0] ?? 0n) & CLONE_NEWPID) !== 0n ? 'real' : 'emulate')],
]);

function policyOf(name: string): ReplayPolicy {
  if (REAL.has(name)) return 'real';
  return DENY.has(name) ? 'deny' : 'emulate';
}

export const SYSCALLS: ReadonlyMap<number, SyscallSpec> = new Map(
  TABLE.map(([nr, name, args, writes, failedWrites]): [number, SyscallSpec] => {
    const argNames = args.split(' ').filter(Boolean);
    const byArgs = BY_ARGS.get(name);
    const refuse = REFUSE.get(name);
    return [nr, { nr, name, argNames, policy: policyOf(name), ...(byArgs && { policyOf: byArgs }), ...(refuse && { refuse }), ...(writes && { writes }), ...(failedWrites && { failedWrites }) }];
  }),
);

/** How replay treats syscall `nr` called with `args` (unknown calls are emulated). */
export function replayPolicy(nr: number, args: readonly bigint[]): ReplayPolicy {
  const spec = SYSCALLS.get(nr);
  return spec?.policyOf?.(args) ?? spec?.policy ?? 'emulate';
}

const BY_NAME: ReadonlyMap<string, number> = new Map(TABLE.map(([nr, name]) => [name, nr]));

export function syscallSpec(nr: number): SyscallSpec | undefined {
  return SYSCALLS.get(nr);
}

/** The name of syscall `nr` ("openat"), or "syscall_N" for a number x86-64 does not use. */
export function syscallName(nr: number): string {
  return SYSCALLS.get(nr)?.name ?? `syscall_${nr}`;
}

/** The number of the syscall named `name`, if x86-64 has one of that name. */
export function syscallNumber(name: string): number | undefined {
  return BY_NAME.get(name);
}

/** Syscall numbers by name, for every x86-64 syscall. */
export type SyscallNumbers = { readonly [E in (typeof TABLE)[number] as E[1]]: E[0] };

/** The number of every x86-64 syscall, by its name in the kernel's table (NR.openat is 257). */
export const NR: SyscallNumbers = Object.freeze(Object.fromEntries(BY_NAME)) as SyscallNumbers;
