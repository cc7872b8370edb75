// SPDX-License-Identifier: MIT
/**
 * Hashes and compresses batches of chunks on two threads: the calling one (the tracer, which
 * must stay synchronous) and a helper worker that takes every other chunk. They meet through
 * shared memory and Atomics.wait, so a checkpoint uses both CPUs while the tracee is stopped.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { zstdCompress } from '../../native/zstd.js';

export const SLOT = 65536;
const OUT_SLOT = SLOT + 1024; // zstd's bound for 64 KiB
export const BATCH = 32;
const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const QUIT = 3;
const HASH = 1;
const COMPRESS = 2;

export const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/** The shared memory of a pool: control words (state, count, operation), lengths in and out,
 * input and output slots. */
export function poolMemory() {
  return {
    ctl: new SharedArrayBuffer(12),
    lens: new SharedArrayBuffer(BATCH * 4),
    input: new SharedArrayBuffer(BATCH * SLOT),
    output: new SharedArrayBuffer(BATCH * OUT_SLOT),
  };
}
type PoolMemory = ReturnType<typeof poolMemory>;

/** The helper's side: do what is posted until told to quit. */
export function serve(mem: PoolMemory): void {
  const ctl = new Int32Array(mem.ctl);
  const lens = new Int32Array(mem.lens);
  for (;;) {
    let state = Atomics.load(ctl, 0);
    while (state !== POSTED && state !== QUIT) {
      Atomics.wait(ctl, 0, state);
      state = Atomics.load(ctl, 0);
    }
    if (state === QUIT) return;
    for (let i = 0; i < ctl[1]!; i++) {
      const input = new Uint8Array(mem.input, i * SLOT, lens[i]!);
      const out = ctl[2] === HASH ? sha256(input) : zstdCompress(input);
      new Uint8Array(mem.output, i * OUT_SLOT, out.length).set(out);
      lens[i] = out.length;
    }
    Atomics.store(ctl, 0, DONE);
    Atomics.notify(ctl, 0);
  }
}

export class CompressionPool {
  private readonly mem = poolMemory();
  private readonly ctl = new Int32Array(this.mem.ctl);
  private readonly lens = new Int32Array(this.mem.lens);
  private readonly worker = new Worker(new URL('./compressWorker.js', import.meta.url), { workerData: this.mem });

  constructor() {
    this.worker.unref();
  }

  /** sha256 of each of `chunks` (shared out when at most 2 × BATCH of at most SLOT bytes). */
  hash(chunks: Buffer[]): Buffer[] {
    return this.run(HASH, chunks, sha256);
  }

  /** zstd of each of `chunks` (shared out likewise). */
  compress(chunks: Buffer[]): Buffer[] {
    return this.run(COMPRESS, chunks, (c) => zstdCompress(c));
  }

  private run(op: number, chunks: Buffer[], mine: (c: Buffer) => Buffer): Buffer[] {
    if (chunks.length > 2 * BATCH || chunks.some((c) => c.length > SLOT)) return chunks.map(mine); // does not fit the slots
    const theirs = chunks.filter((_, i) => i % 2 === 1);
    theirs.forEach((c, i) => {
      new Uint8Array(this.mem.input, i * SLOT, c.length).set(c);
      this.lens[i] = c.length;
    });
    this.ctl[1] = theirs.length;
    this.ctl[2] = op;
    Atomics.store(this.ctl, 0, POSTED);
    Atomics.notify(this.ctl, 0);
    const out = chunks.map((c, i) => (i % 2 === 0 ? mine(c) : undefined));
    Atomics.wait(this.ctl, 0, POSTED);
    theirs.forEach((_, i) => (out[2 * i + 1] = Buffer.from(new Uint8Array(this.mem.output, i * OUT_SLOT, this.lens[i]!))));
    Atomics.store(this.ctl, 0, IDLE);
    return out as Buffer[];
  }

  close(): void {
    Atomics.store(this.ctl, 0, QUIT);
    Atomics.notify(this.ctl, 0);
  }
}
