// SPDX-License-Identifier: MIT
/**
 * Replay's own copies of the files the recording's tracees mapped shared: one per file
 * (identity "device:inode"), made from the trace's copy when replay first maps it, mapped
 * shared by every replayed mapping of that file (so they share memory as the recording's did)
 * and updated by the FileChanges the trace holds (so they see the writes made with write,
 * pwrite, ftruncate, ...). They are files in memory (memfd) that tsrr holds open and tracees
 * open through /proc/TSRR/fd/N: nothing is left on disk, whatever ends tsrr.
 */
import { closeSync, fchmodSync, openSync, truncateSync, writeSync } from 'node:fs';
import type { FileChange } from './Event.js';
import { closeFd, memoryFile } from '../native/libc.js';

const NAME = 'tsrr-shared:';

export class SharedFiles {
  private readonly fds = new Map<string, number>();

  /** The identity of the file whose copy is mapped at `path` (as /proc/PID/maps shows it:
   * /memfd:NAME (deleted)), if it is one. */
  identityOf(path: string): string | undefined {
    const m = /^\/memfd:tsrr-shared:(.*) \(deleted\)$/.exec(path);
    return m && this.fds.has(m[1]!) ? m[1] : undefined;
  }

  /** The path that opens the shared copy of file `identity` (in tsrr and in its tracees),
   * which `fill` writes through if there is none yet (from the trace's copy, or a
   * checkpoint's). */
  pathFor(identity: string, fill: (path: string) => void): string {
    const known = this.fds.get(identity);
    if (known !== undefined) return pathOf(known);
    const fd = memoryFile(NAME + identity);
    try {
      fill(pathOf(fd));
      fchmodSync(fd, 0o600); // shared mappings write to it, whatever the original's mode
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    this.fds.set(identity, fd);
    return pathOf(fd);
  }

  /** Applies what a call did to a file (nothing if replay never mapped it). */
  apply(change: FileChange): void {
    const fd = this.fds.get(change.identity);
    if (fd === undefined) return;
    truncateSync(pathOf(fd), Number(change.size));
    if (change.data.length === 0) return;
    const out = openSync(pathOf(fd), 'r+');
    try {
      writeSync(out, change.data, 0, change.data.length, Number(change.offset));
    } finally {
      closeSync(out);
    }
  }

  /** Drops the copies (the replay's tracees are gone). */
  dispose(): void {
    for (const fd of this.fds.values()) closeFd(fd);
    this.fds.clear();
  }
}

const pathOf = (fd: number) => `/proc/${process.pid}/fd/${fd}`;
