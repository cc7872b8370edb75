// SPDX-License-Identifier: MIT
/**
 * Saving and restoring a mapping's contents. /proc/PID/pagemap says which pages are present
 * (and which of a file mapping's pages the process wrote), so untouched memory is never read;
 * all-zero pieces are not stored at all. Pieces are cut at 64 KiB address boundaries, so an
 * unchanged region hashes the same in every checkpoint.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Task } from '../../core/index.js';
import type { ChunkRef, ChunkStore } from './ChunkStore.js';

const PAGE = 4096n;
const PIECE = 65536n;
const PRESENT = 1n << 63n;
const SWAPPED = 1n << 62n;
const FILE_OR_SHARED = 1n << 61n;
const ZERO = Buffer.alloc(Number(PIECE));

/** What of a mapping to save: `all` of it, the pages it `touched` (present or swapped), or the
 * pages it `wrote` (touched, and not pages of the mapped file). */
export type Extent = 'all' | 'touched' | 'wrote';

/** Runs of pages in [start, end) to save. */
function savedRuns(tid: number, start: bigint, end: bigint, extent: Extent): [bigint, bigint][] {
  if (extent === 'all') return [[start, end]];
  const pages = Number((end - start) / PAGE);
  const entries = Buffer.alloc(pages * 8);
  const fd = openSync(`/proc/${tid}/pagemap`, 'r');
  try {
    readSync(fd, entries, 0, entries.length, Number((start / PAGE) * 8n));
  } finally {
    closeSync(fd);
  }
  const runs: [bigint, bigint][] = [];
  for (let i = 0; i < pages; i++) {
    const e = entries.readBigUInt64LE(i * 8);
    const keep = (e & (PRESENT | SWAPPED)) !== 0n && !(extent === 'wrote' && (e & FILE_OR_SHARED) !== 0n);
    if (!keep) continue;
    const addr = start + BigInt(i) * PAGE;
    const last = runs[runs.length - 1];
    if (last && last[1] === addr) last[1] = addr + PAGE;
    else runs.push([addr, addr + PAGE]);
  }
  return runs;
}

export function storeMemory(task: Task, chunks: ChunkStore, start: bigint, end: bigint, extent: Extent): ChunkRef[] {
  const refs: ChunkRef[] = [];
  for (const [runStart, runEnd] of savedRuns(task.tid, start, end, extent)) {
    const bytes = task.readMemPartial(runStart, Number(runEnd - runStart));
    const pieces: { offset: bigint; data: Buffer }[] = [];
    for (let at = runStart; at < runStart + BigInt(bytes.length); ) {
      const next = (at / PIECE + 1n) * PIECE;
      const stop = next < runEnd ? next : runEnd;
      const data = bytes.subarray(Number(at - runStart), Number(stop - runStart));
      if (!data.equals(ZERO.subarray(0, data.length))) pieces.push({ offset: at - start, data });
      at = stop;
    }
    const hashes = chunks.putAll(pieces.map((p) => p.data));
    pieces.forEach((p, i) => refs.push({ offset: p.offset, length: p.data.length, hash: hashes[i]! }));
  }
  return refs;
}

export function loadMemory(task: Task, chunks: ChunkStore, start: bigint, refs: readonly ChunkRef[]): void {
  for (const r of refs) {
    const data = chunks.get(r.hash);
    task.writeMem(start + r.offset, data.length === r.length ? data : data.subarray(0, r.length));
  }
}
