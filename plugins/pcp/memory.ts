// SPDX-License-Identifier: MIT
/**
 * Saving and restoring a mapping's contents. /proc/PID/pagemap says which pages are present
 * (and which of a file mapping's pages the process wrote), so untouched memory is never read;
 * all-zero pieces are not stored at all. Pieces are cut at 64 KiB address boundaries, so an
 * unchanged region hashes the same in every checkpoint.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Task } from '../../core/index.js';
import type { ChunkRef, ChunkStore } from './ChunkStore.js';

const PAGE = 4096n;
const PIECE = 65536n;
const PRESENT = 1n << 63n;
const SWAPPED = 1n << 62n;
const FILE_OR_SHARED = 1n << 61n;
const ZERO = Buffer.alloc(Number(PIECE));
/** Bytes of a file read at once. */
const READ = 16 << 20;

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
  return savedRuns(task.tid, start, end, extent).flatMap(([runStart, runEnd]) => storePieces(chunks, task.readMemPartial(runStart, Number(runEnd - runStart)), runStart, start));
}

/** Stores the non-zero pieces of `bytes`, found at `at` (cut at PIECE boundaries of `at`'s),
 * as refs whose offsets count from `base`. */
function storePieces(chunks: ChunkStore, bytes: Buffer, at: bigint, base: bigint): ChunkRef[] {
  const pieces: { offset: bigint; data: Buffer }[] = [];
  const end = at + BigInt(bytes.length);
  for (let from = at; from < end; ) {
    const next = (from / PIECE + 1n) * PIECE;
    const stop = next < end ? next : end;
    const data = bytes.subarray(Number(from - at), Number(stop - at));
    if (!data.equals(ZERO.subarray(0, data.length))) pieces.push({ offset: from - base, data });
    from = stop;
  }
  const hashes = chunks.putAll(pieces.map((p) => p.data));
  return pieces.map((p, i) => ({ offset: p.offset, length: p.data.length, hash: hashes[i]! }));
}

/** Stores `bytes` (its non-zero pieces, by offset). */
export function storeBytes(chunks: ChunkStore, bytes: Buffer): ChunkRef[] {
  return storePieces(chunks, bytes, 0n, 0n);
}

/** Writes stored `refs` into `into` (zeros elsewhere). */
export function loadBytes(chunks: ChunkStore, refs: readonly ChunkRef[], into: Buffer): void {
  into.fill(0);
  for (const r of refs) chunks.get(r.hash).copy(into, Number(r.offset), 0, r.length);
}

/** Stores the file at `path` (its size, and its non-zero bytes by offset). */
export function storeFile(chunks: ChunkStore, path: string): { size: bigint; refs: ChunkRef[] } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const refs: ChunkRef[] = [];
    const buf = Buffer.alloc(Math.min(size, READ));
    for (let at = 0; at < size; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
      if (n <= 0) break; // shrunk meanwhile: the rest reads as zeros
      refs.push(...storePieces(chunks, buf.subarray(0, n), BigInt(at), 0n));
      at += n;
    }
    return { size: BigInt(size), refs };
  } finally {
    closeSync(fd);
  }
}

/** Makes the file at `path` the stored one: `size` bytes, `refs` over zeros. */
export function loadFile(chunks: ChunkStore, path: string, size: bigint, refs: readonly ChunkRef[]): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, Number(size));
    for (const r of refs) {
      const data = chunks.get(r.hash);
      writeSync(fd, data, 0, r.length, Number(r.offset));
    }
  } finally {
    closeSync(fd);
  }
}

export function loadMemory(task: Task, chunks: ChunkStore, start: bigint, refs: readonly ChunkRef[]): void {
  for (const r of refs) {
    const data = chunks.get(r.hash);
    task.writeMem(start + r.offset, data.length === r.length ? data : data.subarray(0, r.length));
  }
}
