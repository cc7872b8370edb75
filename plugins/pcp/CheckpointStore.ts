// SPDX-License-Identifier: MIT
/**
 * The checkpoints of one trace, in TRACE/checkpoints/: FRAME/manifest, FRAME/state and
 * FRAME/chunks (the chunk hashes it uses) per checkpoint, packs/ shared by all. A checkpoint
 * is written in a temporary directory, flushed
 * and renamed into place, so one either loads whole or does not exist. Paths inside are
 * relative to the trace, so a moved trace keeps its checkpoints.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkStore } from './ChunkStore.js';
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

export class CheckpointStore {
  readonly dir: string;
  readonly chunks: ChunkStore;

  constructor(readonly traceDir: string) {
    this.dir = join(traceDir, 'checkpoints');
    this.chunks = new ChunkStore(join(this.dir, 'packs'));
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

  /** Writes a checkpoint atomically; an existing one at the same frame is replaced. `chunks`
   * are the hashes its state refers to (what keeps them from being collected). */
  write(manifest: Manifest, state: State, chunks: Set<string>): StoredCheckpoint {
    mkdirSync(this.dir, { recursive: true });
    const final = join(this.dir, String(manifest.frame));
    const tmp = join(this.dir, `.tmp-${manifest.frame}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    writeDurably(join(tmp, 'chunks'), Buffer.from([...chunks].join('\n')));
    writeDurably(join(tmp, 'state'), encodeState(state));
    writeDurably(join(tmp, 'manifest'), encodeManifest(manifest));
    if (existsSync(final)) rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    return { frame: manifest.frame, dir: final };
  }

  /** Bytes on disk of one checkpoint's own files (its chunks are shared). */
  size(cp: StoredCheckpoint): number {
    return ['manifest', 'state', 'chunks'].reduce((n, f) => n + (existsSync(join(cp.dir, f)) ? statSync(join(cp.dir, f)).size : 0), 0);
  }

  /** Removes checkpoints (all, or those at `frames`) and the chunks no remaining one uses,
   * and leftovers of interrupted writes. Returns the frames removed. */
  remove(frames?: number[]): number[] {
    const removed: number[] = [];
    for (const cp of this.list()) {
      if (frames && !frames.includes(cp.frame)) continue;
      rmSync(cp.dir, { recursive: true, force: true });
      removed.push(cp.frame);
    }
    if (existsSync(this.dir)) {
      for (const name of readdirSync(this.dir)) if (name.startsWith('.tmp-')) rmSync(join(this.dir, name), { recursive: true, force: true });
    }
    const live = new Set<string>();
    for (const cp of this.list()) {
      const list = join(cp.dir, 'chunks');
      if (existsSync(list)) for (const h of readFileSync(list, 'utf8').split('\n')) if (h) live.add(h);
    }
    this.chunks.collect(live);
    return removed;
  }
}
