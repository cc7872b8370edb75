// SPDX-License-Identifier: MIT
/**
 * Copies a file into the trace keeping its holes, so that a huge sparse file or memfd that a
 * program maps costs what it holds, not what it could: a reflink where the file system makes
 * one, else the data ranges alone (SEEK_DATA, SEEK_HOLE) into a file of the same size.
 */
import { closeSync, constants, copyFileSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { nextData } from '../native/libc.js';

const CHUNK = 1 << 20;

export function sparseCopy(source: string, dest: string): void {
  try {
    copyFileSync(source, dest, constants.COPYFILE_FICLONE_FORCE);
    return;
  } catch {
    // no reflinks here: copy the data
  }
  const src = openSync(source, 'r');
  try {
    const { size, mode } = fstatSync(src);
    const dst = openSync(dest, 'w', mode & 0o777);
    try {
      ftruncateSync(dst, size);
      const buf = Buffer.allocUnsafe(CHUNK);
      for (let range = nextData(src, 0); range && range[0] < size; range = nextData(src, range[1])) {
        for (let pos = range[0]; pos < range[1]; ) {
          const n = readSync(src, buf, 0, Math.min(CHUNK, range[1] - pos), pos);
          if (n === 0) break; // the file shrank meanwhile
          writeSync(dst, buf, 0, n, pos);
          pos += n;
        }
      }
    } finally {
      closeSync(dst);
    }
  } finally {
    closeSync(src);
  }
}
