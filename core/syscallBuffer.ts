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
 * the same in both.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NR } from '../native/syscalls.js';
import type { Task } from './Task.js';

/** Where the library maps its trampoline: `syscall` there runs untraced. */
export const PAGE_ADDR = 0x70000000n;
/** The address after the trampoline's `syscall` instruction (what seccomp sees). */
const UNTRACED_IP = PAGE_ADDR + 0x14n;
/** A byte in the page that says the library is being replayed. */
const MODE_ADDR = PAGE_ADDR + 0x800n;
/** prctl(PRCTL_REGISTER, buffer, size): a thread's buffer (0 under tsrr, EINVAL without). */
export const PRCTL_REGISTER = 0x74737201n;
/** prctl(PRCTL_UNLOCKED): the library left a buffered call while tsrr held back a signal. */
export const PRCTL_UNLOCKED = 0x74737202n;
/** struct header: bytes, pos, locked, signal_pending, 4 reserved words. */
const HEADER = 32;
const RECORD = 24;
const MAX_BUFFER = 1 << 20;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;

export const PRELOAD_LIBRARY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'libtsrr-preload.so');

/** Recording: installs the filter in `task` (stopped after exec); its children and later
 * programs inherit it. False if the kernel refused it (everything then stops as without). */
export function installFilter(task: Task): boolean {
  if (task.remoteSyscall(NR.prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0n) return false;
  const filter = seccompFilter();
  const prog = Buffer.alloc(16 + filter.length);
  filter.copy(prog, 16);
  prog.writeUInt16LE(filter.length / 8, 0);
  return task.withScratch(prog, (addr) => {
    const ptr = Buffer.alloc(8);
    ptr.writeBigUInt64LE(addr + 16n);
    task.writeMem(addr + 8n, ptr);
    return task.remoteSyscall(NR.seccomp, SECCOMP_SET_MODE_FILTER, 0, addr) === 0n;
  });
}

/** Whether a syscall is one the library makes to talk to tsrr (never run for real). */
export function isBufferCall(number: number, args: readonly bigint[]): boolean {
  return number === NR.prctl && (args[0] === PRCTL_REGISTER || args[0] === PRCTL_UNLOCKED);
}

/** The seccomp program (classic BPF) tsrr installs while recording: calls from the
 * trampoline are allowed, every other one stops the task (SECCOMP_RET_TRACE). */
export function seccompFilter(): Buffer {
  const insns: [number, number, number, number][] = [
    [0x20, 0, 0, 4], // ld arch
    [0x15, 0, 4, 0xc000003e], // x86-64? else trace
    [0x20, 0, 0, 8], // ld instruction_pointer, low half
    [0x15, 0, 2, Number(UNTRACED_IP & 0xffffffffn)],
    [0x20, 0, 0, 12], // high half
    [0x15, 1, 0, Number(UNTRACED_IP >> 32n)],
    [0x06, 0, 0, 0x7ff00000], // SECCOMP_RET_TRACE
    [0x06, 0, 0, 0x7fff0000], // SECCOMP_RET_ALLOW
  ];
  const prog = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    prog.writeUInt16LE(code, i * 8);
    prog[i * 8 + 2] = jt;
    prog[i * 8 + 3] = jf;
    prog.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return prog;
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

/** Replay: puts the records back for the library to take, in order. The whole header is
 * set: a snapshot of another thread may have put the recording's state of it there. */
export function putRecords(task: Task, buffer: bigint, records: Buffer): void {
  task.writeMem(buffer + BigInt(HEADER), records);
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

/** Replay: tells the library in the task's process that it is replayed. */
export function markReplay(task: Task): void {
  task.writeMem(MODE_ADDR, Buffer.of(1));
}

/** Recording: asks the library to make PRCTL_UNLOCKED when it leaves the buffered call it is
 * in, where tsrr then sends the signals it held back. */
export function askForUnlock(task: Task, buffer: bigint, on: boolean): void {
  const flag = Buffer.alloc(4);
  flag.writeUInt32LE(on ? 1 : 0);
  task.writeMem(buffer + 12n, flag);
}

/** The calls in a `buffered` event's records. */
export function bufferedCalls(records: Buffer): { number: number; result: bigint; output: Buffer }[] {
  const out: { number: number; result: bigint; output: Buffer }[] = [];
  for (let at = 0; at + RECORD <= records.length; ) {
    const len = records.readUInt32LE(at + 4);
    out.push({ number: records.readUInt32LE(at), result: records.readBigInt64LE(at + 8), output: records.subarray(at + RECORD, at + RECORD + len) });
    at += RECORD + ((len + 7) & ~7);
  }
  return out;
}
