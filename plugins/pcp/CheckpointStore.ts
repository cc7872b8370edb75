// SPDX-License-Identifier: MIT
/**
 * The checkpoints of one trace, in TRACE/checkpoints/: FRAME/manifest, FRAME/state and
 * FRAME/chunks (the chunk hashes it uses) per checkpoint, packs/ shared by all. A checkpoint
 * is written in a temporary directory, flushed and renamed into place, and one goes away by
 * being renamed out of place first, so one either loads whole or does not exist. Writers and
 * removers take the checkpoints' lock (checkpointLock.ts) in turn; readers share it. Paths
 * inside are relative to the trace, so a moved trace keeps its checkpoints.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TsrrError } from '../../core/index.js';
import { ChunkStore } from './ChunkStore.js';
import { withCheckpointLock } from './checkpointLock.js';
import { encodeManifest, encodeState, readManifest, readState, type Manifest, type State } from './checkpointFormat.js';

export interface StoredCheckpoint {
  readonly frame: number;
  readonly dir: string;
}

function writeDurably(file: string, data: Buffer): void {
  const fd = openSync(file, 'wx');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const HASH = /^[0-9a-f]{64}$/;

export class CheckpointStore {
  readonly dir: string;
  readonly chunks: ChunkStore;

  constructor(readonly traceDir: string) {
    this.dir = join(traceDir, 'checkpoints');
    this.chunks = new ChunkStore(join(this.dir, 'packs'));
  }

  /** Runs `fn` as the only one writing or removing checkpoints. Taking the lock, it removes
   * what killed writers left (every temporary file then is one) and forgets what the packs
   * held, which others may have changed. */
  writing<T>(fn: () => T): T {
    mkdirSync(this.dir, { recursive: true });
    return withCheckpointLock(join(this.dir, 'lock'), true, (taken) => {
      if (taken) {
        for (const name of readdirSync(this.dir)) if (name.startsWith('.tmp-')) rmSync(join(this.dir, name), { recursive: true, force: true });
        this.chunks.removeLeftovers();
        this.chunks.forget();
      }
      return fn();
    });
  }

  /** Runs `fn` with no checkpoint written or removed meanwhile. */
  reading<T>(fn: () => T): T {
    if (!existsSync(this.dir)) return fn();
    return withCheckpointLock(join(this.dir, 'lock'), false, (taken) => {
      if (taken) this.chunks.forget();
      return fn();
    });
  }

  /** Complete checkpoints, by frame. */
  list(): StoredCheckpoint[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => /^\d+$/.test(name) && existsSync(join(this.dir, name, 'manifest')))
      .map((name) => ({ frame: Number(name), dir: join(this.dir, name) }))
      .sort((a, b) => a.frame - b.frame);
  }

  manifest(cp: StoredCheckpoint): Manifest {
    return readManifest(join(cp.dir, 'manifest'));
  }

  state(cp: StoredCheckpoint): State {
    return readState(join(cp.dir, 'state'));
  }

  /** The hashes of the chunks a checkpoint uses; a damaged list fails (one that lost whole
   * lines too, by the hash its manifest has of it). */
  usedChunks(cp: StoredCheckpoint): string[] {
    const file = join(cp.dir, 'chunks');
    if (!existsSync(file)) throw new TsrrError('CHECKPOINT_CORRUPT', `${file} is missing`, { file });
    const bytes = readFileSync(file);
    const expected = this.manifest(cp).chunkList;
    if (expected && !sha256(bytes).equals(expected)) throw new TsrrError('CHECKPOINT_CORRUPT', `${file} is corrupt: it does not match its hash in the manifest`, { file });
    const lines = chunkLines(bytes);
    if (!lines.every((h) => HASH.test(h))) throw new TsrrError('CHECKPOINT_CORRUPT', `${file} is corrupt: it lists what is not a chunk hash`, { file });
    return lines;
  }

  /** Checks that the chunks a checkpoint uses are all stored undamaged. */
  verify(cp: StoredCheckpoint): void {
    this.chunks.verify(this.usedChunks(cp));
  }

  /** Writes a checkpoint atomically; an existing one at the same frame is replaced. `chunks`
   * are the hashes its state refers to (what keeps them from being collected). */
  write(manifest: Manifest, state: State, chunks: Set<string>): StoredCheckpoint {
    return this.writing(() => {
      const final = join(this.dir, String(manifest.frame));
      const tmp = join(this.dir, `.tmp-${manifest.frame}-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp);
      const list = Buffer.from([...chunks].join('\n'));
      writeDurably(join(tmp, 'chunks'), list);
      writeDurably(join(tmp, 'state'), encodeState(state));
      writeDurably(join(tmp, 'manifest'), encodeManifest({ ...manifest, chunkList: sha256(list) }));
      const old = existsSync(final) ? this.moveAway(final) : undefined;
      renameSync(tmp, final);
      if (old) rmSync(old, { recursive: true, force: true });
      return { frame: manifest.frame, dir: final };
    });
  }

  /** Renames a checkpoint directory out of the list, so that readers never see it half gone. */
  private moveAway(dir: string): string {
    const away = join(this.dir, `.tmp-gone-${basename(dir)}-${process.pid}`);
    rmSync(away, { recursive: true, force: true });
    renameSync(dir, away);
    return away;
  }

  /** Bytes on disk of one checkpoint's own files (its chunks are shared). */
  size(cp: StoredCheckpoint): number {
    return ['manifest', 'state', 'chunks'].reduce((n, f) => n + (existsSync(join(cp.dir, f)) ? statSync(join(cp.dir, f)).size : 0), 0);
  }

  /** Removes checkpoints (all, or those at `frames`) and the chunks no remaining one uses,
   * and leftovers of interrupted writes. Returns the frames removed. */
  remove(frames?: number[]): number[] {
    if (!existsSync(this.dir)) return [];
    return this.writing(() => {
      const removed: number[] = [];
      for (const cp of this.list()) {
        if (frames && !frames.includes(cp.frame)) continue;
        rmSync(this.moveAway(cp.dir), { recursive: true, force: true });
        removed.push(cp.frame);
      }
      // A damaged list keeps what it still names.
      const live = new Set<string>();
      for (const cp of this.list()) {
        const list = join(cp.dir, 'chunks');
        if (existsSync(list)) for (const h of chunkLines(readFileSync(list))) if (HASH.test(h)) live.add(h);
      }
      this.chunks.collect(live);
      return removed;
    });
  }
}

const chunkLines = (bytes: Buffer): string[] => bytes.toString('latin1').split('\n').filter(Boolean);
const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
