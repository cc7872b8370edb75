// SPDX-License-Identifier: MIT
/**
 * koffi bindings to the libc calls the tracer makes. Every call here must come from the thread
 * that attached the tracees (ptrace is per tracer thread). Register and memory buffers are
 * plain Buffers: koffi passes their memory directly, which is ~7x faster than struct objects.
 */
import koffi from './koffi.js';
import { writeSync } from 'node:fs';
import { TsrrError } from './TsrrError.js';
import { encodeBytes } from './byteString.js';
import { builtFile } from './built.js';

/** The C library, for bindings elsewhere in native/. */
export const libc = koffi.load('libc.so.6');

const ptraceInt = libc.func('long ptrace(int req, int pid, uint64_t addr, uint64_t data)');
const ptraceBuf = libc.func('long ptrace(int req, int pid, uint64_t addr, void *data)');
const waitpidRaw = libc.func('int waitpid(int pid, int32_t *status, int options)');
const killRaw = libc.func('int kill(int pid, int sig)');
const strerrorRaw = libc.func('const char *strerror(int errnum)');
const processVmReadv = libc.func(
  'long process_vm_readv(int pid, void *local, unsigned long liovcnt, void *remote, unsigned long riovcnt, unsigned long flags)',
);
const processVmWritev = libc.func(
  'long process_vm_writev(int pid, void *local, unsigned long liovcnt, void *remote, unsigned long riovcnt, unsigned long flags)',
);
const posixSpawn = libc.func(
  'int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)',
);
const lseekRaw = libc.func('int64_t lseek(int fd, int64_t offset, int whence)');
const shmctlRaw = libc.func('int shmctl(int id, int cmd, void *buf)');
const shmgetRaw = libc.func('int shmget(int key, size_t size, int flags)');
const shmatRaw = libc.func('void *shmat(int id, void *addr, int flags)');
const shmdtRaw = libc.func('int shmdt(void *addr)');
const gettimeofdayRaw = libc.func('int gettimeofday(void *tv, void *tz)');
const prlimitRaw = libc.func('int prlimit(int pid, int resource, void *newLimit, void *oldLimit)');
const memfdCreateRaw = libc.func('int memfd_create(const char *name, unsigned int flags)');
const closeRaw = libc.func('int close(int fd)');
const spawnActionsInit = libc.func('int posix_spawn_file_actions_init(void *actions)');
const spawnActionsDup2 = libc.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)');
const spawnActionsDestroy = libc.func('int posix_spawn_file_actions_destroy(void *actions)');

const cpu = koffi.load(builtFile('libtsrr-cpu.so'));
const cpuidRaw = cpu.func('void tsrr_cpuid(uint32_t leaf, uint32_t subleaf, _Out_ uint32_t *out)');
const rdtscRaw = cpu.func('uint64_t tsrr_rdtsc(void)');
const xgetbvRaw = cpu.func('uint64_t tsrr_xgetbv(uint32_t index)');
const trapOwnTscRaw = cpu.func('int tsrr_trap_own_tsc(void)');
const rdtscTrapsRaw = cpu.func('int tsrr_rdtsc_traps(void)');
const debugRegistersWorkRaw = cpu.func('int tsrr_debug_registers_work(void)');

const waitLib = koffi.load(builtFile('libtsrr-wait.so'));
const waitRaw = waitLib.func('int tsrr_wait(int pid, int options, long timeout_ns, int32_t *status)');

export const strerror = (e: number): string => strerrorRaw(e) as string;

/** A failed call is a TRACEE_FAILED error (a tracee that vanished, most often). */
function check(call: string, r: number | bigint): number {
  if (r !== -1 && r !== -1n) return Number(r);
  const errno = koffi.errno();
  throw new TsrrError('TRACEE_FAILED', `${call}: ${strerror(errno)}`, { call, errno });
}

/** ptrace with integer arguments; throws on failure. */
export function ptrace(req: number, pid: number, addr: bigint | number = 0, data: bigint | number = 0): number {
  return check('ptrace', ptraceInt(req, pid, addr, data));
}

/** ptrace with a buffer as `data` (GETREGS, SETREGS, GETSIGINFO, GETEVENTMSG, ...). */
export function ptraceWithBuffer(req: number, pid: number, addr: bigint | number, buf: Buffer): number {
  return check('ptrace', ptraceBuf(req, pid, addr, buf));
}

/** PTRACE_GETREGSET or SETREGSET (`request`) of register set `type` through `buf`; returns
 * the bytes the kernel used. */
export function ptraceRegset(request: number, pid: number, type: number, buf: Buffer): number {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(koffi.address(buf) as bigint, 0);
  iov.writeBigUInt64LE(BigInt(buf.length), 8);
  check('ptrace(REGSET)', ptraceBuf(request, pid, type, iov));
  return Number(iov.readBigUInt64LE(8));
}

const statusBox = new Int32Array(1);

/** waitpid; returns [pid, status], pid 0 with WNOHANG and nothing ready, -errno on failure. */
export function waitpid(pid: number, options: number): [number, number] {
  const r = waitpidRaw(pid, statusBox, options) as number;
  return [r === -1 ? -koffi.errno() : r, statusBox[0]!];
}

/** waitpid that gives up after `timeoutNs` (<= 0: no limit, see native/wait.c); returns
 * [pid, status], pid 0 on timeout, -errno on failure. */
export function waitTimed(pid: number, options: number, timeoutNs: number): [number, number] {
  return [waitRaw(pid, options, timeoutNs, statusBox) as number, statusBox[0]!];
}

const tkillRaw = libc.func('long syscall(long nr, int tid, int sig)');

/** Sends `sig` to thread `tid`. */
export function tkill(tid: number, sig: number): boolean {
  return Number(tkillRaw(200, tid, sig)) === 0;
}

export function kill(pid: number, sig: number): boolean {
  return killRaw(pid, sig) === 0;
}

const iovecs = Buffer.alloc(32);

/** One local and one remote iovec of `len` bytes, for process_vm_readv/writev. */
function iovecsFor(local: Buffer, addr: bigint, len: number): Buffer {
  iovecs.writeBigUInt64LE(koffi.address(local) as bigint, 0);
  iovecs.writeBigUInt64LE(BigInt(len), 8);
  iovecs.writeBigUInt64LE(addr, 16);
  iovecs.writeBigUInt64LE(BigInt(len), 24);
  return iovecs;
}

/** Reads `len` bytes at `addr` of process `pid` into `into`; returns bytes read (may be short). */
export function readProcessMemory(pid: number, addr: bigint, into: Buffer, len = into.length): number {
  const r = Number(processVmReadv(pid, iovecsFor(into, addr, len), 1, iovecs.subarray(16), 1, 0));
  return r < 0 ? -koffi.errno() : r;
}

/** Writes `data` at `addr` of process `pid` as the process itself could (not to read-only or
 * unmapped pages, unlike /proc/PID/mem); returns bytes written or -errno. */
export function writeProcessMemory(pid: number, addr: bigint, data: Buffer): number {
  const r = Number(processVmWritev(pid, iovecsFor(data, addr, data.length), 1, iovecs.subarray(16), 1, 0));
  return r < 0 ? -koffi.errno() : r;
}

const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const ENXIO = 6;

/** The next [start, end) of data in the file open at `fd`, from `pos` on, or undefined past
 * the last (a file system without SEEK_DATA shows the whole file as data). */
export function nextData(fd: number, pos: number): [number, number] | undefined {
  const start = Number(lseekRaw(fd, pos, SEEK_DATA));
  if (start < 0) {
    if (koffi.errno() === ENXIO) return undefined;
    throw new TsrrError('TRACE_WRITE_FAILED', `lseek: ${strerror(koffi.errno())}`, { errno: koffi.errno() });
  }
  return [start, Number(lseekRaw(fd, start, SEEK_HOLE))];
}

const flockRaw = libc.func('int flock(int fd, int operation)');
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;
const EWOULDBLOCK = 11;
const EINTR = 4;

/** flock(2) without blocking: true once the lock is taken, false while another holds it. */
export function tryFlock(fd: number, operation: number): boolean {
  for (;;) {
    if (flockRaw(fd, operation | LOCK.NB) === 0) return true;
    const errno = koffi.errno();
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw new TsrrError('INTERNAL', `flock: ${strerror(errno)}`, { errno });
  }
}

const IPC_RMID = 0;

/** Removes System V shared memory segment `id` (once nothing has it attached). */
export function removeShm(id: number): void {
  shmctlRaw(id, IPC_RMID, null);
}

const SHM_RDONLY = 0o10000;
const IPC_CREAT = 0o1000;

/** Runs `fn` on the first `size` bytes of System V segment `id`, attached to the tracer for
 * the while; undefined if it cannot be attached (removed, or of another IPC namespace). */
function withShm<T>(id: number, size: number, flags: number, fn: (bytes: Buffer) => T): T | undefined {
  const at = shmatRaw(id, null, flags);
  if (koffi.address(at) === 0xffff_ffff_ffff_ffffn) return undefined;
  try {
    return fn(Buffer.from(koffi.view(at, size)));
  } finally {
    shmdtRaw(at);
  }
}

/** A copy of the first `size` bytes of System V segment `id`, if the tracer can attach it. */
export function readShm(id: number, size: number): Buffer | undefined {
  return withShm(id, size, SHM_RDONLY, (bytes) => Buffer.from(bytes));
}

/** Makes a System V segment of `size` bytes, private to its creator's uid; returns its id. */
export function makeShm(size: number): number {
  return check('shmget', shmgetRaw(0, size, IPC_CREAT | 0o600));
}

/** Lets `fill` write the first `size` bytes of System V segment `id`; false if the tracer
 * cannot attach it. */
export function fillShm(id: number, size: number, fill: (bytes: Buffer) => void): boolean {
  return withShm(id, size, 0, (bytes) => {
    fill(bytes);
    return true;
  }) === true;
}

/** gettimeofday's two structs as the kernel writes them: timeval (16 bytes), timezone (8). */
export function gettimeofday(): [Buffer, Buffer] {
  const tv = Buffer.alloc(16);
  const tz = Buffer.alloc(8);
  check('gettimeofday', gettimeofdayRaw(tv, tz));
  return [tv, tz];
}

/** posix_spawn with `fds` inherited (Node makes the fds it was given close-on-exec); returns
 * the pid. Names are passed as the bytes they were decoded from (byteString.ts). */
export function spawn(path: string, argv: string[], envp: string[], fds: readonly number[]): number {
  const actions = Buffer.alloc(128);
  spawnActionsInit(actions);
  try {
    for (const fd of fds) spawnActionsDup2(actions, fd, fd);
    const pid = [0];
    const r = posixSpawn(pid, cString(path), actions, null, [...argv.map(cString), null], [...envp.map(cString), null]) as number;
    if (r !== 0) throw new TsrrError('TRACEE_FAILED', `posix_spawn ${path}: ${strerror(r)}`, { call: 'posix_spawn', errno: r });
    return pid[0]!;
  } finally {
    spawnActionsDestroy(actions);
  }
}

const cString = (s: string) => Buffer.concat([encodeBytes(s), Buffer.of(0)]);

/** Ends the process at once, with no exit handlers: process.exit() waits for a worker thread
 * that is inside a blocking call. */
export const exitNow = libc.func('void _exit(int status)') as (status: number) => void;

/** Closes a descriptor opened here, not by node (whose closeSync warns of those). */
export const closeFd = (fd: number): void => void closeRaw(fd);

/** A file in memory holding `data`, gone with its last descriptor: no name on any file
 * system, so nothing outlives this process. Open (not inherited by what it spawns). */
export function memoryFile(name: string, data: string): number {
  const MFD_CLOEXEC = 1;
  const fd = check('memfd_create', memfdCreateRaw(name, MFD_CLOEXEC));
  writeSync(fd, data);
  return fd;
}

/** Process `pid`'s limit `resource`: [soft, hard] (RLIM_INFINITY: all ones). */
export function getLimit(pid: number, resource: number): [bigint, bigint] {
  const old = Buffer.alloc(16);
  check('prlimit', prlimitRaw(pid, resource, null, old));
  return [old.readBigUInt64LE(0), old.readBigUInt64LE(8)];
}

/** Sets process `pid`'s limit `resource`; 0 or -errno. */
export function setLimit(pid: number, resource: number, soft: bigint, hard: bigint): number {
  const limit = Buffer.alloc(16);
  limit.writeBigUInt64LE(soft, 0);
  limit.writeBigUInt64LE(hard, 8);
  return prlimitRaw(pid, resource, limit, null) === 0 ? 0 : -koffi.errno();
}

/** cpuid on the tracer's own CPU: [eax, ebx, ecx, edx]. */
export function cpuid(leaf: number, subleaf: number): [number, number, number, number] {
  const out = [0, 0, 0, 0];
  cpuidRaw(leaf, subleaf, out);
  return out as [number, number, number, number];
}

export const rdtsc = (): bigint => BigInt(rdtscRaw());
export const xgetbv = (index: number): bigint => BigInt(xgetbvRaw(index));
/** Makes the calling thread trap rdtsc like its tracees (see native/cpu.c); false on failure. */
export const trapOwnTsc = (): boolean => trapOwnTscRaw() === 0;

/** Whether rdtsc traps once asked to on this machine (some virtual machines ignore PR_SET_TSC);
 * asks for it in the calling thread, as trapOwnTsc. */
export const rdtscTraps = (): boolean => rdtscTrapsRaw() === 1;

/** Whether a watchpoint in the debug registers stops a traced process (some virtual machines
 * ignore them); probed on a forked child. */
export const debugRegistersWork = (): boolean => debugRegistersWorkRaw() === 1;

const prctlRaw = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const PR_SET_CHILD_SUBREAPER = 36;

/** Makes this process the parent of its descendants' orphans, so that it can reap them. */
export const becomeSubreaper = (): boolean => prctlRaw(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;

const schedSetaffinity = libc.func('int sched_setaffinity(int pid, size_t size, void *mask)');

/** Pins the calling thread to `cpu` (the tracer runs on the tracees' CPU: cross-CPU wakeups
 * at every ptrace stop cost more than the stop itself in a VM), or with -1 lets it run on any
 * (threads inherit the pinning of the thread that started them). */
export function pinThread(cpu: number): boolean {
  const mask = Buffer.alloc(128, cpu < 0 ? 0xff : 0);
  if (cpu >= 0) mask[cpu >> 3] = 1 << (cpu & 7);
  return schedSetaffinity(0, mask.length, mask) === 0;
}

const schedGetaffinity = libc.func('int sched_getaffinity(int pid, size_t size, _Out_ void *mask)');

/** The CPUs the calling thread may run on (its affinity mask), in order. */
export function threadCpus(): number[] {
  const mask = Buffer.alloc(128);
  check('sched_getaffinity', schedGetaffinity(0, mask.length, mask));
  const out: number[] = [];
  for (let cpu = 0; cpu < mask.length * 8; cpu++) if (mask[cpu >> 3]! & (1 << (cpu & 7))) out.push(cpu);
  return out;
}

/** Runs `fn` with the calling thread moved off the CPUs it is pinned to (to the others there
 * are), so that the threads `fn` starts run beside it rather than take turns with it (see
 * pinThread); then pins it back. An unpinned thread stays as it is. */
export function besideThisCpu<T>(fn: () => T): T {
  const mask = Buffer.alloc(128);
  if (schedGetaffinity(0, mask.length, mask) !== 0) return fn();
  const others = Buffer.from(mask.map((b) => ~b & 0xff));
  // EINVAL: no other CPU is online.
  if (schedSetaffinity(0, others.length, others) !== 0) return fn();
  try {
    return fn();
  } finally {
    schedSetaffinity(0, mask.length, mask);
  }
}

const mallopt = libc.func('int mallopt(int param, int value)');
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;

/** Keeps the memory of large buffers once freed (up to 64 MiB each, 256 MiB in all) instead of
 * giving it back at once: a recording allocates blocks of a megabyte or more all the time,
 * and fresh memory costs a page fault per page. */
export function keepFreedMemory(): void {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}
