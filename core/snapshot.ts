// SPDX-License-Identifier: MIT
/**
 * Snapshots put a task into a state in the middle of its user code, where replay cannot stop
 * it exactly without a branch counter (an asynchronous signal or a time-slice switch). Only
 * the task ran since its last stop and it made no syscall, so its registers, its extended
 * state and the writable memory of its process are all that changed: replay writes them
 * instead of running that stretch of code. A snapshot lists the hash of every present page of
 * the process's writable mappings and holds the contents of those the trace did not hold yet;
 * replay rewrites the pages whose hash differs from its own.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Registers } from '../native/regs.js';
import type { PageContent, Snapshot } from './Event.js';
import type { Task } from './Task.js';
import { TsrrError } from '../native/TsrrError.js';

const PAGE = 4096;
const PRESENT = 1n << 63n;
const SWAPPED = 1n << 62n;

const hashOf = (page: Buffer): bigint => createHash('sha1').update(page).digest().readBigUInt64LE(0);

/** Runs of present pages in the writable mappings of `task`'s process: [start, bytes]. */
function writableRuns(task: Task): [bigint, number][] {
  const runs: [bigint, number][] = [];
  const fd = openSync(`/proc/${task.tid}/pagemap`, 'r');
  try {
    for (const m of task.as.mappings()) {
      if (m.prot[1] !== 'w' || m.kind === 'vvar' || m.kind === 'vsyscall') continue;
      const pages = Number((m.end - m.start) / BigInt(PAGE));
      const entries = Buffer.alloc(pages * 8);
      readSync(fd, entries, 0, entries.length, Number(m.start / BigInt(PAGE)) * 8);
      for (let i = 0; i < pages; i++) {
        if ((entries.readBigUInt64LE(i * 8) & (PRESENT | SWAPPED)) === 0n) continue;
        const addr = m.start + BigInt(i * PAGE);
        const last = runs.at(-1);
        if (last && last[0] + BigInt(last[1]) === addr) last[1] += PAGE;
        else runs.push([addr, PAGE]);
      }
    }
  } finally {
    closeSync(fd);
  }
  return runs;
}

/** Recording: the state of stopped `task`; `known` holds the hashes whose contents the trace
 * has, and gains the new ones. */
export function takeSnapshot(task: Task, xstateSize: number, known: Set<bigint>): Snapshot {
  const list: Buffer[] = [];
  const contents: PageContent[] = [];
  for (const [start, len] of writableRuns(task)) {
    const mem = task.readMemPartial(start, len);
    for (let off = 0; off + PAGE <= mem.length; off += PAGE) {
      const page = mem.subarray(off, off + PAGE);
      const hash = hashOf(page);
      const entry = Buffer.alloc(16);
      entry.writeBigUInt64LE(start + BigInt(off), 0);
      entry.writeBigUInt64LE(hash, 8);
      list.push(entry);
      if (!known.has(hash)) {
        known.add(hash);
        contents.push({ hash, data: Buffer.from(page) });
      }
    }
  }
  return { regs: Buffer.from(task.getRegs().buf), xstate: task.getXstate(xstateSize), pages: Buffer.concat(list), contents };
}

/** Replay: puts snapshot `s` into stopped `task`. `store` holds the page contents of the
 * snapshots replayed so far, and gains this one's; `lookup` finds contents it lacks (when
 * replay started after the snapshot that held them). */
export function applySnapshot(task: Task, s: Snapshot, store: Map<bigint, Buffer>, frame: number, lookup: (hash: bigint) => Buffer | undefined): void {
  for (const c of s.contents) store.set(c.hash, c.data);
  for (let i = 0; i + 16 <= s.pages.length; ) {
    // A run of consecutive pages is read at once.
    const start = s.pages.readBigUInt64LE(i);
    let n = 1;
    while (i + 16 * (n + 1) <= s.pages.length && s.pages.readBigUInt64LE(i + 16 * n) === start + BigInt(n * PAGE)) n++;
    const mem = task.readMemPartial(start, n * PAGE);
    for (let k = 0; k < n; k++, i += 16) {
      const want = s.pages.readBigUInt64LE(i + 8);
      const page = mem.subarray(k * PAGE, (k + 1) * PAGE);
      if (page.length === PAGE && hashOf(page) === want) continue;
      const data = store.get(want) ?? lookup(want);
      if (!data) throw new TsrrError('TRACE_CORRUPT', `frame ${frame}: a snapshot names page contents the trace does not hold`, { frame });
      task.writeMem(start + BigInt(k * PAGE), data);
    }
  }
  task.setRegs(new Registers(Buffer.from(s.regs)));
  if (s.xstate.length > 0) task.setXstate(s.xstate);
}
