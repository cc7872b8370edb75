// SPDX-License-Identifier: MIT
/**
 * A strong hash of what a file holds, whatever its holes: sha256 over the index and bytes of
 * every 4 KiB page that is not all zeros, then the size. A 64 GiB sparse file costs what it
 * holds, and a copy of the trace that turns holes into zeros (or zeros into holes) still
 * matches.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { nextData } from '../native/libc.js';

const PAGE = 4096;
const CHUNK = 1 << 20;
const ZERO = Buffer.alloc(PAGE);
/** One buffer for every call: fresh memory costs a page fault per page, more than the hash. */
let chunk: Buffer | undefined;

export function contentHash(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const hash = createHash('sha256');
    const buf = (chunk ??= Buffer.allocUnsafe(CHUNK));
    const index = Buffer.alloc(8);
    // Whole pages, each once, so that where the data ranges start and end does not matter.
    let pos = 0;
    for (let range = nextData(fd, 0); range && range[0] < size; range = nextData(fd, range[1])) {
      pos = Math.max(pos, range[0] - (range[0] % PAGE));
      const end = Math.min(size, Math.ceil(range[1] / PAGE) * PAGE);
      while (pos < end) {
        const n = readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
        if (n === 0) break;
        for (let at = 0; at < n; at += PAGE) {
          const page = buf.subarray(at, Math.min(n, at + PAGE));
          if (page.equals(ZERO.subarray(0, page.length))) continue;
          index.writeBigUInt64LE(BigInt((pos + at) / PAGE));
          hash.update(index).update(page);
        }
        pos += n;
      }
    }
    index.writeBigUInt64LE(BigInt(size));
    return hash.update(index).digest();
  } finally {
    closeSync(fd);
  }
}
