// SPDX-License-Identifier: MIT
/**
 * In-process syscall buffering, tsrr's side (the tracee's side is native/preload.c, preloaded
 * into recorded programs). Calls the library buffers run through a `syscall` instruction at a
 * fixed address, which a seccomp filter lets through without a ptrace stop; every other call
 * stops as before. Each thread registers a buffer where the library appends each buffered
 * call's result and output. Recording moves the records into the trace (a `buffered` event) at
 * the thread's next stop and empties the buffer; replay puts them back in before the thread
 * runs to its next event, and the library, seeing replay's mark in its page, takes results from
 * there instead of calling. Between events both leave the buffer's header zeroed, so memory is
 * the same in both. Calls on fds go through the buffer only where the recorder set the fd's bit
 * in the page (files and devices that never block, and that no monitor watches); a buffered
 * write to an fd a monitor watches on replay is handed to it (PRCTL_WROTE).
 */
import { readdirSync, statSync } from 'node:fs';
import { builtFile } from '../native/built.js';
import { NR } from '../native/syscalls.js';
import type { FdChange } from './FdTable.js';
import { assemble } from './seccompFilters.js';
import type { Task } from './Task.js';

/** Where the library maps its trampoline: `syscall` there runs untraced. */
export const PAGE_ADDR = 0x70000000n;
/** The address after the trampoline's `syscall` instruction (what seccomp sees). */
export const UNTRACED_IP = PAGE_ADDR + 0x14n;
/** Recording: a bit per fd in the page, set for the fds whose calls the library may buffer;
 * right after them, a byte that says the library is being replayed. */
const FD_BITS_ADDR = PAGE_ADDR + 0x400n;
const FD_BITS = 0x400 * 8;
/** The mode byte after the fd bits: no more buffering (native/preload.c MODE_OFF). */
const MODE_OFF = 2;
/** Character devices whose reads and writes never block: null, zero, random, urandom. */
const QUIET_DEVICES = new Set([0x103, 0x105, 0x108, 0x109]);
/** prctl(PRCTL_REGISTER, buffer, size): a thread's buffer (0 under tsrr, EINVAL without). */
export const PRCTL_REGISTER = 0x74737201n;
/** prctl(PRCTL_UNLOCKED): the library left a buffered call while tsrr held back a signal. */
export const PRCTL_UNLOCKED = 0x74737202n;
/** Replay: prctl(PRCTL_WROTE, fd, data, len): a buffered write to an fd replay watches. */
export const PRCTL_WROTE = 0x74737203n;
/** struct header: bytes, pos, locked, signal_pending, 4 reserved words. */
const HEADER = 32;
/** struct record: nr, len, result (8 bytes), flags, fd; then len bytes of output, padded to 8. */
const RECORD = 24;
const FLAG_WATCHED = 2;
/** Where the record after the one at `at` starts. */
const nextRecord = (records: Buffer, at: number): number => at + RECORD + ((records.readUInt32LE(at + 4) + 7) & ~7);
const NO_FD = 0xffffffff;
/** The largest buffer the library registers (native/preload.c BUFFER_SIZE). */
export const MAX_BUFFER = 1 << 20;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const EACCES = 13n;

export const PRELOAD_LIBRARY = builtFile('libtsrr-preload.so');

/** Installs seccomp `filter` in `task` (stopped after exec); its children and later programs
 * inherit it. False if the kernel refused it. */
export function installFilter(task: Task, filter: Buffer): boolean {
  const prog = Buffer.alloc(16 + filter.length);
  filter.copy(prog, 16);
  prog.writeUInt16LE(filter.length / 8, 0);
  return task.withScratch(prog, (addr) => {
    const ptr = Buffer.alloc(8);
    ptr.writeBigUInt64LE(addr + 16n);
    task.writeMem(addr + 8n, ptr);
    const install = () => task.remoteSyscall(NR.seccomp, SECCOMP_SET_MODE_FILTER, 0, addr);
    // Without CAP_SYS_ADMIN the kernel wants no_new_privs first (which setuid programs then
    // feel); with it, the program keeps its own.
    let r = install();
    if (r === -EACCES && task.remoteSyscall(NR.prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) === 0n) r = install();
    return r === 0n;
  });
}

/** Whether a syscall is one the library makes to talk to tsrr (never run for real). */
export function isBufferCall(number: number, args: readonly bigint[]): boolean {
  return number === NR.prctl && (args[0] === PRCTL_REGISTER || args[0] === PRCTL_UNLOCKED);
}

/** Whether syscall `number` with first argument `first` is prctl(PRCTL_WROTE), which the
 * library makes in replay only. */
export function isWroteCall(number: number, first: bigint | undefined): boolean {
  return number === NR.prctl && first === PRCTL_WROTE;
}

/** The data of the SECCOMP_RET_TRACE stop of a call made through the 32-bit interface
 * (int 0x80), which tsrr does not record. */
export const COMPAT_CALL_MARKER = 0x32;

/** The seccomp program (classic BPF) tsrr installs while recording: calls from the
 * trampoline are allowed, every other one stops the task (SECCOMP_RET_TRACE), a 32-bit one
 * with COMPAT_CALL_MARKER. */
export function seccompFilter(): Buffer {
  return assemble([
    [0x20, 0, 0, 4], // ld arch
    [0x15, 0, 6, 0xc000003e], // x86-64? else the 32-bit interface
    [0x20, 0, 0, 8], // ld instruction_pointer, low half
    [0x15, 0, 2, Number(UNTRACED_IP & 0xffffffffn)],
    [0x20, 0, 0, 12], // high half
    [0x15, 1, 0, Number(UNTRACED_IP >> 32n)],
    [0x06, 0, 0, 0x7ff00000], // SECCOMP_RET_TRACE
    [0x06, 0, 0, 0x7fff0000], // SECCOMP_RET_ALLOW
    [0x06, 0, 0, 0x7ff00000 | COMPAT_CALL_MARKER],
  ]);
}

export interface BufferHeader {
  bytes: number;
  locked: boolean;
}

export function readHeader(task: Task, buffer: bigint): BufferHeader {
  const h = task.readMem(buffer, 16);
  return { bytes: h.readUInt32LE(0), locked: h.readUInt32LE(8) !== 0 };
}

/** Recording: the records the task's buffer holds (empty if none), which then leave it;
 * undefined while a buffered call is under way (it adds its record when it ends). */
export function takeRecords(task: Task, buffer: bigint): Buffer | undefined {
  const { bytes, locked } = readHeader(task, buffer);
  if (locked) return undefined;
  if (bytes === 0) return Buffer.alloc(0);
  const records = task.readMem(buffer + BigInt(HEADER), Math.min(bytes, MAX_BUFFER));
  task.writeMem(buffer, Buffer.alloc(16));
  return records;
}

/** Replay: puts the records back for the library to take, in order; writes to fds that
 * `watched` says replay must see are flagged, for the library to tell (PRCTL_WROTE). The whole
 * header is set: a snapshot of another thread may have put the recording's state of it there. */
export function putRecords(task: Task, buffer: bigint, records: Buffer, watched: (fd: number) => boolean): void {
  let flagged: Buffer | undefined;
  // A plain walk: a buffer holds tens of thousands of records.
  for (let at = 0; at + RECORD <= records.length; at = nextRecord(records, at)) {
    const nr = records.readUInt32LE(at);
    if ((nr !== NR.write && nr !== NR.pwrite64) || !watched(records.readUInt32LE(at + 20))) continue;
    flagged ??= Buffer.from(records);
    flagged.writeUInt32LE(flagged.readUInt32LE(at + 16) | FLAG_WATCHED, at + 16);
  }
  task.writeMem(buffer + BigInt(HEADER), flagged ?? records);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(records.length, 0);
  task.writeMem(buffer, h);
}

/** Replay, at the task's next event: how many bytes of records it left unused (0 when it took
 * them all, as the recording did); the header is zeroed as recording left it. */
export function unusedRecords(task: Task, buffer: bigint): number {
  const h = task.readMem(buffer, 16);
  if (h.some((b) => b !== 0)) task.writeMem(buffer, Buffer.alloc(16));
  return h.readUInt32LE(0) - h.readUInt32LE(4);
}

/** Recording: tells the library in the task's process to buffer no more calls (they must
 * all meet a seccomp filter of the program's own, or stop for its tracer). A process without
 * the library's page yet is told when it registers a buffer. */
export function stopBuffering(task: Task): void {
  if (task.as.at(PAGE_ADDR)) task.writeMem(FD_BITS_ADDR + BigInt(FD_BITS / 8), Buffer.of(MODE_OFF));
}

/** Replay: tells the library in the task's process that it is replayed. */
export function markReplay(task: Task): void {
  // A checkpoint made while recording has fd bits, which replay leaves zero.
  const page = Buffer.alloc(FD_BITS / 8 + 1);
  page[FD_BITS / 8] = 1;
  task.writeMem(FD_BITS_ADDR, page);
}

/** Recording: asks the library to make PRCTL_UNLOCKED when it leaves the buffered call it is
 * in, where tsrr then sends the signals it held back. */
export function askForUnlock(task: Task, buffer: bigint, on: boolean): void {
  const flag = Buffer.alloc(4);
  flag.writeUInt32LE(on ? 1 : 0);
  task.writeMem(buffer + 12n, flag);
}

export interface BufferedCall {
  /** Where its record starts. */
  at: number;
  number: number;
  /** The fd it was on, if any. */
  fd?: number;
  result: bigint;
  output: Buffer;
}

/** The calls in a `buffered` event's records. */
export function bufferedCalls(records: Buffer): BufferedCall[] {
  const out: BufferedCall[] = [];
  for (let at = 0; at + RECORD <= records.length; at = nextRecord(records, at)) {
    const fd = records.readUInt32LE(at + 20);
    out.push({ at, number: records.readUInt32LE(at), fd: fd === NO_FD ? undefined : fd, result: records.readBigInt64LE(at + 8), output: records.subarray(at + RECORD, at + RECORD + records.readUInt32LE(at + 4)) });
  }
  return out;
}

/** Recording: sets the task's fd bits, all of them or (`change`) those that changed. With
 * `closedOnly` (the change is another fd table's than the one the page follows: a vfork
 * child's), the changed bits are only cleared: the fd is no longer the same file in both. */
export function markFds(task: Task, change?: FdChange, closedOnly = false): void {
  if (change && change.first >= FD_BITS) return;
  const first = change?.first ?? 0;
  const last = Math.min(change?.last ?? FD_BITS - 1, FD_BITS - 1);
  const from = first >> 3;
  const bits = change ? task.readMem(FD_BITS_ADDR + BigInt(from), (last >> 3) - from + 1) : Buffer.alloc(FD_BITS / 8);
  for (let fd = first; change && fd <= last; fd++) bits[(fd >> 3) - from]! &= ~(1 << (fd & 7));
  const opened = !change ? readdirSync(`/proc/${task.tid}/fd`).map(Number) : change.closed || closedOnly ? [] : [first];
  for (const fd of opened) if (fd < FD_BITS && bufferable(task, fd)) bits[(fd >> 3) - from]! |= 1 << (fd & 7);
  task.writeMem(FD_BITS_ADDR + BigInt(from), bits);
}

/** Recording: clears all the task's fd bits (its process shares its fd table with another). */
export function clearFds(task: Task): void {
  task.writeMem(FD_BITS_ADDR, Buffer.alloc(FD_BITS / 8));
}

/** Whether the library may buffer calls on the task's `fd`: a regular file or a quiet
 * device, which no monitor watches (stdout and stderr, whose output replay reproduces). */
function bufferable(task: Task, fd: number): boolean {
  if (task.fds.get(fd)) return false;
  try {
    const st = statSync(`/proc/${task.tid}/fd/${fd}`);
    return st.isFile() || (st.isCharacterDevice() && QUIET_DEVICES.has(st.rdev));
  } catch {
    return false; // closed meanwhile
  }
}
