// SPDX-License-Identifier: MIT
/**
 * Appends event blocks to a trace's events file: compressed when that makes them smaller, then
 * framed. Once a recording has filled a block, blocks go to a thread of their own, which runs on
 * the CPUs the tracees do not: compressing and writing them then overlaps the tracees' work
 * instead of taking turns with it on their CPU (the tracer's). Blocks are written in order.
 */
import { Worker } from 'node:worker_threads';
import { zstdAvailable, zstdCompress } from '../native/zstd.js';
import { besideThisCpu, strerror } from '../native/libc.js';
import { BLOCK_MAGIC, BLOCK_ZSTD_MAGIC, framed } from './traceFile.js';
import { TsrrError } from '../native/TsrrError.js';
import { writeAll } from './writeAll.js';

/** Blocks that may wait for the thread before the tracer waits for it. */
const MAX_QUEUED = 8;
/** How long the tracer waits for the thread at most before it says the trace cannot be written. */
const DRAIN_MS = 60_000;
/** The shared state's slots: blocks written, and the errno of the first failed write (0: none). */
const WRITTEN = 0;
const ERRNO = 1;

/** The bytes of a block of `count` events: `body` compressed when smaller, framed. */
export function blockBytes(body: Uint8Array, count: number): Buffer {
  // Buffered calls' records repeat a lot: compressed, a trace is several times smaller.
  const small = zstdAvailable ? zstdCompress(body, 1) : body;
  return small.length < body.length ? framed(BLOCK_ZSTD_MAGIC, count, small) : framed(BLOCK_MAGIC, count, body);
}

/** Writes one block to `fd`; the errno of a failure, 0 on success. The thread's whole job. */
export function writeBlock(fd: number, body: Uint8Array, count: number): number {
  try {
    writeAll(fd, blockBytes(body, count));
    return 0;
  } catch (e) {
    return -((e as { errno?: number }).errno ?? -5); // EIO when Node does not say
  }
}

export class BlockWriter {
  private worker: Worker | undefined;
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private posted = 0;

  /** `path` names the file in errors. */
  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}

  /** Writes a block: `full` ones (and every one once there is a thread) from the thread. */
  write(body: Uint8Array, count: number, full: boolean): void {
    this.check();
    if (!this.worker && !full) {
      this.fail(writeBlock(this.fd, body, count));
      return;
    }
    this.worker ??= this.start();
    if (this.posted - Atomics.load(this.state, WRITTEN) >= MAX_QUEUED) this.wait(this.posted - MAX_QUEUED + 1);
    // The thread takes the body's memory (no copy) when the body has all of it.
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice();
    this.worker.postMessage({ body: own, count }, [own.buffer as ArrayBuffer]);
    this.posted++;
  }

  /** Waits until every block is written; throws if one could not be. */
  drain(): void {
    this.wait(this.posted);
    this.check();
  }

  /** Drains, and ends the thread. */
  close(): void {
    try {
      this.drain();
    } finally {
      void this.worker?.terminate();
      this.worker = undefined;
    }
  }

  private start(): Worker {
    const worker = besideThisCpu(() => new Worker(new URL('./blockWriterThread.js', import.meta.url), { workerData: { fd: this.fd, state: this.state } }));
    worker.unref();
    return worker;
  }

  private wait(written: number): void {
    const deadline = Date.now() + DRAIN_MS;
    for (let n = Atomics.load(this.state, WRITTEN); n < written && Atomics.load(this.state, ERRNO) === 0; n = Atomics.load(this.state, WRITTEN)) {
      if (Date.now() > deadline) throw new TsrrError('TRACE_WRITE_FAILED', `writing ${this.path} stalled: ${written - n} blocks not written after ${DRAIN_MS / 1000} s`, { file: this.path });
      Atomics.wait(this.state, WRITTEN, n, 100);
    }
  }

  private check(): void {
    this.fail(Atomics.load(this.state, ERRNO));
  }

  private fail(errno: number): void {
    if (errno !== 0) throw new TsrrError('TRACE_WRITE_FAILED', `writing ${this.path} failed: ${strerror(errno)}`, { file: this.path, errno });
  }
}
