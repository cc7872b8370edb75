// SPDX-License-Identifier: MIT
/**
 * Memory contents of a trace's checkpoints, content-addressed: a chunk is named by the sha256
 * of its bytes, so a chunk that did not change since an earlier checkpoint is stored once.
 * Stored deflated when that saves space; written under a temporary name and renamed, so a
 * chunk is either whole or absent. Reading checks the hash, so damage is found.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { TsrrError } from '../../core/index.js';

export interface ChunkRef {
  readonly offset: bigint;
  readonly length: number;
  readonly hash: Buffer;
}

const RAW = 0;
const DEFLATED = 1;

export class ChunkStore {
  /** Bytes written to disk since this store was opened. */
  storedBytes = 0;
  private readonly known = new Set<string>();

  constructor(readonly dir: string) {}

  private path(hex: string): string {
    return join(this.dir, hex.slice(0, 2), hex);
  }

  /** Stores `data` unless a chunk with the same bytes exists; returns its hash. */
  put(data: Buffer): Buffer {
    const hash = createHash('sha256').update(data).digest();
    const hex = hash.toString('hex');
    if (this.known.has(hex)) return hash;
    const file = this.path(hex);
    if (!existsSync(file)) {
      const packed = deflateRawSync(data, { level: 1 });
      const body = packed.length < data.length * 0.9 ? Buffer.concat([Buffer.of(DEFLATED), packed]) : Buffer.concat([Buffer.of(RAW), data]);
      mkdirSync(join(this.dir, hex.slice(0, 2)), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, body);
      renameSync(tmp, file);
      this.storedBytes += body.length;
    }
    this.known.add(hex);
    return hash;
  }

  get(hash: Buffer): Buffer {
    const hex = hash.toString('hex');
    const file = this.path(hex);
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      throw new TsrrError('CHECKPOINT_CORRUPT', `checkpoint chunk ${file} is missing`, { file });
    }
    let data: Buffer;
    try {
      data = body[0] === DEFLATED ? inflateRawSync(body.subarray(1)) : body.subarray(1);
    } catch {
      throw new TsrrError('CHECKPOINT_CORRUPT', `checkpoint chunk ${file} is corrupt (it does not inflate)`, { file });
    }
    if (body[0] !== RAW && body[0] !== DEFLATED || !createHash('sha256').update(data).digest().equals(hash)) {
      throw new TsrrError('CHECKPOINT_CORRUPT', `checkpoint chunk ${file} is corrupt (its contents do not match its name)`, { file });
    }
    return data;
  }

  /** Removes the chunks no listed hash refers to; returns how many. */
  collect(live: Set<string>): number {
    if (!existsSync(this.dir)) return 0;
    let removed = 0;
    for (const sub of readdirSync(this.dir)) {
      for (const name of readdirSync(join(this.dir, sub))) {
        if (!live.has(name)) {
          rmSync(join(this.dir, sub, name), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
