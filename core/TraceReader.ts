// SPDX-License-Identifier: MIT
/**
 * Reads a trace directory. Opening checks the header and every block's length and checksum,
 * so a damaged trace is refused before replay touches a tracee (one cut off in its last block
 * is read up to there). Blocks are then decoded one at a time as the reader moves;
 * `forwardTo` jumps to any frame without replaying.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Event } from './Event.js';
import { decodeBlock } from './eventCodec.js';
import { decodeFormatVersion, decodeHeader, type TraceHeader } from './TraceHeader.js';
import { zstdAvailable, zstdDecompress } from '../native/zstd.js';
import { BLOCK_MAGIC, BLOCK_ZSTD_MAGIC, HEADER_MAGIC, PREFIX_BYTES, TRACE_FORMAT_VERSION, checksumOk, framedMessage, readPrefix } from './traceFile.js';
import { TsrrError } from '../native/TsrrError.js';
import { CopyHashes } from './CopyHashes.js';

interface BlockInfo {
  offset: number;
  length: number;
  compressed: boolean;
  firstFrame: number;
  count: number;
}

export class TraceReader {
  private block: Event[] = [];
  private blockIndex = -1;
  private cursor = 1;
  private readonly copies: CopyHashes;

  private constructor(
    readonly dir: string,
    readonly header: TraceHeader,
    private readonly fd: number,
    private readonly blocks: BlockInfo[],
    /** Why the events end early, if their last block is incomplete (the recording was cut
     * off while writing it); the frames before replay. */
    readonly cutOff: string | undefined,
  ) {
    this.copies = new CopyHashes(dir);
  }

  static open(dir: string): TraceReader {
    const header = readHeader(dir);
    const file = join(dir, 'events');
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw new TsrrError('TRACE_CORRUPT', `${file} is missing`, { file });
    }
    try {
      const { blocks, cutOff } = indexBlocks(fd, file);
      return new TraceReader(dir, header, fd, blocks, cutOff);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Number of events (frames) in the trace. */
  get frameCount(): number {
    const last = this.blocks[this.blocks.length - 1];
    return last ? last.firstFrame + last.count - 1 : 0;
  }

  /** The frame that `next()` returns. */
  get position(): number {
    return this.cursor;
  }

  peek(): Event | undefined {
    if (this.cursor > this.frameCount) return undefined;
    this.load(this.cursor);
    return this.block[this.cursor - this.blocks[this.blockIndex]!.firstFrame];
  }

  next(): Event | undefined {
    const e = this.peek();
    if (e) this.cursor++;
    return e;
  }

  /** The event after the one `next()` returns. */
  peekSecond(): Event | undefined {
    this.cursor++;
    try {
      return this.peek();
    } finally {
      this.cursor--;
    }
  }

  /** The next event of task `tid` (as recorded), found without moving. */
  nextOf(tid: number): Event | undefined {
    const at = this.cursor;
    try {
      for (let e = this.peek(); e; this.cursor++, e = this.peek()) if (e.tid === tid) return e;
      return undefined;
    } finally {
      this.cursor = at;
    }
  }

  /** The last event after which the recording's tasks still lived (rr's end of replay, where
   * a debugger stops): the one before the trace's trailing exit (and interruption) events;
   * undefined for a trace of nothing else. Found without moving. */
  endEvent(): Event | undefined {
    const at = this.cursor;
    try {
      for (let f = this.frameCount; f >= 1; f--) {
        this.cursor = f;
        const e = this.peek()!;
        if (e.data.kind !== 'exit' && e.data.kind !== 'interrupted') return e;
      }
      return undefined;
    } finally {
      this.cursor = at;
    }
  }

  /** Moves so that `next()` returns `frame`, decoding only that frame's block. */
  forwardTo(frame: number): void {
    if (!Number.isInteger(frame) || frame < 1 || frame > this.frameCount + 1) {
      throw new TsrrError('BAD_ARGUMENT', `frame ${frame} is not in the trace (it has frames 1-${this.frameCount})`, { frame });
    }
    this.cursor = frame;
  }

  *events(): Generator<Event> {
    for (let e = this.next(); e; e = this.next()) yield e;
  }

  /** Absolute path of a copy the trace holds (paths in events are relative to the trace),
   * checked against its recorded hash. */
  file(rel: string): string {
    return this.copies.check(rel);
  }

  close(): void {
    closeSync(this.fd);
  }

  private load(frame: number): void {
    const current = this.blocks[this.blockIndex];
    if (current && frame >= current.firstFrame && frame < current.firstFrame + current.count) return;
    const i = this.blocks.findIndex((b) => frame >= b.firstFrame && frame < b.firstFrame + b.count);
    const b = this.blocks[i]!;
    const bytes = Buffer.alloc(b.length);
    readSync(this.fd, bytes, 0, b.length, b.offset + PREFIX_BYTES);
    if (b.compressed && !zstdAvailable) {
      throw new TsrrError('UNSUPPORTED', `${join(this.dir, 'events')} is compressed with zstd, and libzstd.so.1 is not on this machine`, { file: join(this.dir, 'events') });
    }
    try {
      this.block = decodeBlock(b.compressed ? zstdDecompress(bytes) : bytes).events;
    } catch (e) {
      throw new TsrrError('TRACE_CORRUPT', `${join(this.dir, 'events')}: frames ${b.firstFrame}-${b.firstFrame + b.count - 1} cannot be decoded: ${(e as Error).message}`, { frame: b.firstFrame });
    }
    if (this.block.length !== b.count) {
      throw new TsrrError('TRACE_CORRUPT', `${join(this.dir, 'events')}: block at frame ${b.firstFrame} holds ${this.block.length} events, its prefix says ${b.count}`, { frame: b.firstFrame });
    }
    this.blockIndex = i;
  }
}

/** The header of trace `dir`, checked: refused in one line naming the file where it is missing,
 * damaged or newer than this tsrr reads. */
export function readHeader(dir: string): TraceHeader {
  const file = join(dir, 'header');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TsrrError('NO_TRACE', existsSync(dir) ? `${dir} is not a tsrr trace (${file} is missing)` : `no trace at ${dir}`, { file });
    if (code === 'ENOTDIR') throw new TsrrError('NO_TRACE', `${dir} is not a tsrr trace (it is not a directory)`, { file });
    throw e;
  }
  const corrupt = (why: string) => new TsrrError('TRACE_CORRUPT', `${file} is corrupt: ${why}`, { file });
  const message = framedMessage(bytes, HEADER_MAGIC, corrupt);
  let version: number;
  try {
    version = decodeFormatVersion(message);
  } catch (e) {
    throw corrupt((e as Error).message);
  }
  if (version > TRACE_FORMAT_VERSION) {
    throw new TsrrError('TRACE_TOO_NEW', `${dir} has trace format version ${version}; this tsrr reads versions up to ${TRACE_FORMAT_VERSION} (upgrade tsrr)`, { file, version });
  }
  try {
    return decodeHeader(message);
  } catch (e) {
    throw corrupt((e as Error).message);
  }
}

/** The blocks of the events file, and where it is cut off if its last block is incomplete
 * (a recording killed or out of space while writing it): the blocks before stay usable. */
function indexBlocks(fd: number, file: string): { blocks: BlockInfo[]; cutOff?: string } {
  const size = fstatSync(fd).size;
  const blocks: BlockInfo[] = [];
  const prefix = Buffer.alloc(PREFIX_BYTES);
  let offset = 0;
  let frame = 1;
  let body = Buffer.alloc(0);
  while (offset < size) {
    const where = `after frame ${frame - 1}`;
    if (size - offset < PREFIX_BYTES) return { blocks, cutOff: `${file} is cut off ${where} (in a block prefix)` };
    readSync(fd, prefix, 0, PREFIX_BYTES, offset);
    const p = readPrefix(prefix, 0);
    if (p.magic !== BLOCK_MAGIC && p.magic !== BLOCK_ZSTD_MAGIC) {
      throw new TsrrError('TRACE_CORRUPT', `${file} is corrupt ${where}: bad block magic number at byte ${offset}`, { file, frame });
    }
    if (offset + PREFIX_BYTES + p.length > size) {
      return { blocks, cutOff: `${file} is cut off ${where} (${size - offset - PREFIX_BYTES} of ${p.length} bytes of the next block)` };
    }
    if (body.length < p.length) body = Buffer.alloc(p.length);
    readSync(fd, body, 0, p.length, offset + PREFIX_BYTES);
    if (!checksumOk(p, body.subarray(0, p.length))) {
      throw new TsrrError('TRACE_CORRUPT', `${file} is corrupt: the block of frames ${frame}-${frame + p.count - 1} fails its checksum`, { file, frame });
    }
    blocks.push({ offset, length: p.length, compressed: p.magic === BLOCK_ZSTD_MAGIC, firstFrame: frame, count: p.count });
    frame += p.count;
    offset += PREFIX_BYTES + p.length;
  }
  return { blocks };
}
