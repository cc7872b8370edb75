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
 * trace) holds as their owner's death leaves them, through `via`, a live task of its address
 * space (the owner itself, or the thread whose exit ends its process). */
export function markOwnerDied(owner: Task, via: Task = owner): void {
  const head = owner.robustList;
  if (head === 0n) return;
  // struct robust_list_head: next entry, futex_offset, list_op_pending.
  const offset = BigInt.asIntN(64, via.readU64(head + 8n));
  const pending = via.readU64(head + 16n) & ~1n;
  const died = (entry: bigint) => {
    const addr = entry + offset;
    const word = via.readU32(addr);
    if ((word & FUTEX_TID_MASK) !== owner.rec) return;
    const value = Buffer.alloc(4);
    value.writeUInt32LE(((word & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
    via.writeMem(addr, value);
  };
  let entry = via.readU64(head) & ~1n;
  for (let n = 0; entry !== head && entry !== 0n && n < LIST_LIMIT; n++) {
    const next = via.readU64(entry) & ~1n;
    if (entry !== pending) died(entry);
    entry = next;
  }
  if (pending !== 0n) died(pending);
}
