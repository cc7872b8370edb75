// SPDX-License-Identifier: MIT
/**
 * Replay: what the kernel does to a dying thread's robust futexes (pthread's robust mutexes):
 * each one on its robust list that it still owns gets FUTEX_OWNER_DIED, so that the next
 * locker learns of it (EOWNERDEAD). The kernel recognises the owner by its real thread id, but
 * the lock words hold the ids the recording saw; replay does it in the kernel's place.
 */
import type { Task } from './Task.js';

const FUTEX_TID_MASK = 0x3fffffff;
const FUTEX_OWNER_DIED = 0x40000000;
const FUTEX_WAITERS = 0x80000000;
/** The kernel's bound on a robust list's length (ROBUST_LIST_LIMIT). */
const LIST_LIMIT = 2048;

/** Marks the robust futexes `owner` (its robust list head at `owner.robustList`, its id in the
 * trace) holds as their owner's death leaves them, through `via`, a task of its address space
 * (the owner itself, or the thread whose exit ends its process). Memory that cannot be read
 * ends the walk: the address space is gone (a SIGKILL, a PID namespace's end), and with it
 * whatever a mark would have told. */
export function markOwnerDied(owner: Task, via: Task = owner): void {
  const head = owner.robustList;
  if (head === 0n) return;
  const read = (addr: bigint, len: 4 | 8): bigint | undefined => {
    const b = via.readMemPartial(addr, len);
    return b.length < len ? undefined : len === 8 ? b.readBigUInt64LE(0) : BigInt(b.readUInt32LE(0));
  };
  // struct robust_list_head: next entry, futex_offset, list_op_pending.
  const first = read(head, 8);
  const offset = read(head + 8n, 8);
  const pending = read(head + 16n, 8);
  if (first === undefined || offset === undefined || pending === undefined) return;
  const died = (entry: bigint): boolean => {
    const addr = entry + BigInt.asIntN(64, offset);
    const word = read(addr, 4);
    if (word === undefined) return false;
    if ((Number(word) & FUTEX_TID_MASK) !== owner.rec) return true;
    const value = Buffer.alloc(4);
    value.writeUInt32LE(((Number(word) & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
    via.writeMem(addr, value);
    return true;
  };
  let entry: bigint | undefined = first & ~1n;
  for (let n = 0; entry !== undefined && entry !== head && entry !== 0n && n < LIST_LIMIT; n++) {
    const next = read(entry, 8);
    if (entry !== pending && !died(entry)) return;
    entry = next === undefined ? undefined : next & ~1n;
  }
  if (entry !== undefined && (pending & ~1n) !== 0n) died(pending & ~1n);
}
