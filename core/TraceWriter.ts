// SPDX-License-Identifier: MIT
/**
 * Writes a trace directory while recording. Events are buffered into blocks and appended
 * whole, so a recording that is cut off loses only the blocks not written yet (the one being
 * filled, and any the writing thread has not got to); files the tracee maps are copied once
 * per version (device, inode, size, mtime).
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { Event, type EventData } from './Event.js';
import { encodeBlock } from './eventCodec.js';
import { encodeHeader, type TraceHeader } from './TraceHeader.js';
import { BlockWriter } from './BlockWriter.js';
import { sparseCopy } from './sparseCopy.js';
import { COPIES_FILE, recordCopy } from './CopyHashes.js';
import { HEADER_MAGIC, framed } from './traceFile.js';
import type { TraceDirClaim } from './traceDir.js';
import { TsrrError } from '../native/TsrrError.js';
import { shown } from '../native/byteString.js';

/** Which version of a file this is: copies are made once per version. */
const versionOf = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

const BLOCK_EVENTS = 4096;
const BLOCK_BYTES = 1 << 20;

export class TraceWriter {
  private readonly fd: number;
  private readonly copiesFd: number;
  private readonly blocks: BlockWriter;
  private pending: Event[] = [];
  private pendingBytes = 0;
  private nextFrame = 1;
  private blockStart = 1;
  private flushedAt: number;
  private readonly copies = new Map<string, string>();
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly header: TraceHeader,
    fd: number,
    private readonly ticks: () => number,
  ) {
    this.fd = fd;
    this.flushedAt = ticks();
    this.blocks = new BlockWriter(this.fd, join(dir, 'events'));
    try {
      mkdirSync(join(dir, 'files'));
      this.copiesFd = openSync(join(dir, COPIES_FILE), 'wx');
      const tmp = join(dir, 'header.tmp');
      writeFileSync(tmp, framed(HEADER_MAGIC, 0, encodeHeader(header)));
      renameSync(tmp, join(dir, 'header'));
    } catch (e) {
      throw new TsrrError('TRACE_WRITE_FAILED', `cannot write the header and files of trace ${dir}: ${(e as Error).message}`, { dir }, { cause: e });
    }
  }

  /** Writes the header into the directory `claim` made this run's. Events wait at most a
   * tick of `ticks` before they are written, so that a recording killed outright (SIGKILL)
   * loses the last tick or two of its events, no more. */
  static create(claim: TraceDirClaim, ticks: () => number, header: TraceHeader): TraceWriter {
    return new TraceWriter(claim.dir, header, claim.eventsFd, ticks);
  }

  get frameCount(): number {
    return this.nextFrame - 1;
  }

  append(tid: number, data: EventData): Event {
    const e = new Event(this.nextFrame++, tid, data);
    this.pending.push(e);
    this.pendingBytes += e.dataBytes;
    // A full block waits for writeFullBlock, unless it grew far past full.
    if (this.filled(4) || e.frame === 1) this.flush(this.filled(1));
    else this.flushIfDue();
    return e;
  }

  /** Writes the pending events if they have waited a tick. */
  flushIfDue(): void {
    if (this.ticks() !== this.flushedAt) this.flush(this.filled(1));
  }

  /** Writes the block if it is full. The recorder calls this once the tracee it stopped runs
   * again, so that encoding a block overlaps the tracee's work (and compressing it, on
   * another CPU, see BlockWriter). */
  writeFullBlock(): void {
    if (this.filled(1)) this.flush(true);
  }

  /** Whether the pending events fill `blocks` blocks, by count or by bytes. */
  private filled(blocks: number): boolean {
    return this.pending.length >= blocks * BLOCK_EVENTS || this.pendingBytes >= blocks * BLOCK_BYTES;
  }

  /** Writes the pending events as a block; `full` when they fill one. */
  flush(full = false): void {
    if (this.pending.length === 0) return;
    this.blocks.write(encodeBlock(this.blockStart, this.pending), this.pending.length, full);
    this.blockStart = this.nextFrame;
    this.pending = [];
    this.pendingBytes = 0;
    this.flushedAt = this.ticks();
  }

  /** Copies the file at `source` (a path, or /proc/PID/fd/N of an open file, which works even
   * after the file is deleted) into files/ unless this version of it is there already; returns
   * the copy's path relative to the trace directory. `name` names the copy. */
  copyFile(source: string, name: string): string {
    const key = versionOf(statSync(source));
    const known = this.copies.get(key);
    if (known) return known;
    // Named in UTF-8 (byteString.ts): the trace holds copies' names as Text.
    const rel = join('files', `${this.copies.size}-${basename(shown(name))}`);
    try {
      sparseCopy(source, join(this.dir, rel));
      recordCopy(this.copiesFd, this.dir, rel);
    } catch (e) {
      rmSync(join(this.dir, rel), { force: true });
      throw new TsrrError('TRACE_WRITE_FAILED', `copying ${name} into ${join(this.dir, 'files')} failed: ${(e as Error).message}`, { file: name }, { cause: e });
    }
    this.copies.set(key, rel);
    return rel;
  }

  /** The copy already made of the file at `source` as it is now, if any. */
  copyOf(source: string): string | undefined {
    try {
      return this.copies.get(versionOf(statSync(source)));
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      try {
        this.blocks.close();
      } finally {
        closeSync(this.fd);
        closeSync(this.copiesFd);
      }
    }
  }
}
