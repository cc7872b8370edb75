// SPDX-License-Identifier: MIT
/** Writes all of `data` to `fd`, waiting out EAGAIN: the fd may be a non-blocking pipe that
 * tsrr shares with whoever started it. A string is text for the user, with names in it shown as
 * the user knows them (traceDir.ts shownPaths). */
import { writeSync } from 'node:fs';
import { shownPaths } from './traceDir.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(shownPaths(data)) : data;
  let done = 0;
  while (done < buf.length) {
    try {
      done += writeSync(fd, buf, done, buf.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
