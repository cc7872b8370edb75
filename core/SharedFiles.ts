// SPDX-License-Identifier: MIT
/**
 * Replay's own copies of the files the recording's tracees mapped shared: one per file
 * (identity "device:inode"), made from the trace's copy when replay first maps it, mapped
 * shared by every replayed mapping of that file (so they share memory as the recording's did)
 * and updated by the FileChanges the trace holds (so they see the writes made with write,
 * pwrite, ftruncate, ...). They live in a directory of their own, removed when tsrr exits, or
 * (after a SIGKILL) by the next tsrr that makes one. A file in memory would leave nothing, but
 * a tracee in a user namespace of its own may not open another process's fds.
 */
import { chmodSync, closeSync, mkdtempSync, openSync, readdirSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileChange } from './Event.js';
import { procState } from './procfs.js';

export class SharedFiles {
  private dir: string | undefined;
  private readonly paths = new Map<string, string>();

  /** The identity of the file whose copy is `path` (as /proc/PID/maps shows it), if it is one. */
  identityOf(path: string): string | undefined {
    if (this.dir === undefined || !path.startsWith(this.dir + '/')) return undefined;
    return [...this.paths].find(([, p]) => p === path)?.[0];
  }

  /** The shared copy of file `identity`, which `fill` writes at the path given if there is
   * none yet (from the trace's copy, or a checkpoint's). */
  pathFor(identity: string, fill: (path: string) => void): string {
    let path = this.paths.get(identity);
    if (path) return path;
    if (!this.dir) {
      removeStale();
      const dir = mkdtempSync(join(tmpdir(), `tsrr-shared-${process.pid}-`));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      this.dir = dir;
    }
    path = join(this.dir, identity.replace(':', '-'));
    fill(path);
    chmodSync(path, 0o600); // shared mappings write to it, whatever the original's mode
    this.paths.set(identity, path);
    return path;
  }

  /** Applies what a call did to a file (nothing if replay never mapped it). */
  apply(change: FileChange): void {
    const path = this.paths.get(change.identity);
    if (!path) return;
    truncateSync(path, Number(change.size));
    if (change.data.length === 0) return;
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, change.data, 0, change.data.length, Number(change.offset));
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the copies (the replay's tracees are gone). */
  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.paths.clear();
  }
}

/** Removes the directories of tsrr processes that are gone (killed outright). */
function removeStale(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^tsrr-shared-(\d+)-/.exec(name)?.[1]);
    if (!pid || procState(pid) !== undefined) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}
